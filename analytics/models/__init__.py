from .cohorts import ArmDefinition, CohortDefinition
from .runs import AnalysisRun, RunOutput

__all__ = ["AnalysisRun", "ArmDefinition", "CohortDefinition", "RunOutput"]
