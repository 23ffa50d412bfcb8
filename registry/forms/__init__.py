"""Forms of the data-entry screens. They hold no CRF rule: the models' ``full_clean()`` and
``registry.services`` do; the forms only convert units, take a reason, and show the errors."""

from .base import REASON_MAX_LENGTH, RegistryModelForm, add_service_error, range_help_text
from .labs import LabPanelForm
from .patients import PatientForm, ReasonForm
from .queries import QueryMessageForm, QueryOpenForm

__all__ = [
    "REASON_MAX_LENGTH",
    "LabPanelForm",
    "PatientForm",
    "QueryMessageForm",
    "QueryOpenForm",
    "ReasonForm",
    "RegistryModelForm",
    "add_service_error",
    "range_help_text",
]
