from .cohorts import ArmDefinition, CohortDefinition, GroupingDefinition
from .definitions import AnalysisDefinition
from .runs import AnalysisRun, RunOutput

__all__ = [
    "AnalysisDefinition",
    "AnalysisRun",
    "ArmDefinition",
    "CohortDefinition",
    "GroupingDefinition",
    "RunOutput",
]
