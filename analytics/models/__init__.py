from .cohorts import ArmDefinition, CohortDefinition, GroupingDefinition
from .runs import AnalysisRun, RunOutput

__all__ = ["AnalysisRun", "ArmDefinition", "CohortDefinition", "GroupingDefinition", "RunOutput"]
