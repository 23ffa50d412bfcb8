from .adverse_events import AdverseEvent, CtcaeTerm
from .base import CrfRecord, RecordLocked
from .imaging import ImagingAssessment, LesionMeasurement
from .imports import ImportJob
from .labs import LabPanel
from .outcomes import DataCutoff, Death, FollowUp, ProgressionEvent
from .patients import Patient
from .quality import DataQualityFlag, DataQuery, QueryMessage
from .sites import Site, SiteMembership
from .treatments import (
    HaicCycle,
    LocalProcedure,
    RadiotherapyCourse,
    SystemicTherapy,
    TaceSession,
    Treatment,
)
from .tumour import TumourAssessment

__all__ = [
    "AdverseEvent",
    "CrfRecord",
    "CtcaeTerm",
    "DataCutoff",
    "DataQualityFlag",
    "DataQuery",
    "Death",
    "FollowUp",
    "HaicCycle",
    "ImagingAssessment",
    "ImportJob",
    "LabPanel",
    "LesionMeasurement",
    "LocalProcedure",
    "Patient",
    "ProgressionEvent",
    "QueryMessage",
    "RadiotherapyCourse",
    "RecordLocked",
    "Site",
    "SiteMembership",
    "SystemicTherapy",
    "TaceSession",
    "Treatment",
    "TumourAssessment",
]
