"""The "new run" form: it collects choices; ``run_create`` decides what is allowed."""

from __future__ import annotations

from django import forms

from analytics import covariates
from analytics.choices import ReportTemplate
from analytics.models import AnalysisDefinition, ArmDefinition, GroupingDefinition
from analytics.services import (
    COX_SELECTIONS,
    DEFAULT_CALIPER_SD,
    DEFAULT_COVARIATES,
    DEFAULT_COX_P_THRESHOLD,
    DEFAULT_COX_SELECTION,
    DEFAULT_RESISTANCE_CYCLES,
    EXACT_MATCHING_COVARIATES,
    SECTION_LABELS,
    cohorts_visible_to,
)
from analytics.stats.matching import MAX_RATIO, ORDERS, SMD_DENOMINATORS
from analytics.variables import VARIABLES

REPORT_ARM_RULES = {
    ReportTemplate.REPORT_A: ("systemic_alone", "local_plus_systemic"),
    ReportTemplate.REPORT_B: ("tace_alone", "tace_pd1_mtt"),
}


class RunForm(forms.Form):
    title = forms.CharField(max_length=200, required=False)
    template = forms.ChoiceField(
        choices=ReportTemplate.choices, initial=ReportTemplate.REPORT_A, widget=forms.RadioSelect
    )
    sections = forms.MultipleChoiceField(
        choices=list(SECTION_LABELS.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only for a custom set of sections.",
    )
    definition = forms.ModelChoiceField(
        queryset=AnalysisDefinition.objects.select_related("grouping"),
        required=False,
        label="Saved analysis definition",
        help_text="Run a saved definition (e.g. Report A, Report B): its report, groups, "
        "endpoints and options are used, and the fields below except the cohort and the "
        "title are ignored.",
    )
    save_as = forms.CharField(
        max_length=120,
        required=False,
        label="Save these choices as a definition named",
        help_text="Optional: the run then refers to that saved definition (a new version if "
        "the name exists). Needs a grouping.",
    )
    cohort = forms.ModelChoiceField(
        queryset=None, help_text="The cohort fixes the sites and the data cut-off."
    )
    grouping = forms.ModelChoiceField(
        queryset=GroupingDefinition.objects.all(),
        required=False,
        label="Groups to compare",
        help_text="A grouping definition (treatment-pattern arms or a patient variable such "
        "as sex or ECOG); leave empty to compare the two arms below.",
    )
    control_arm = forms.ModelChoiceField(queryset=ArmDefinition.objects.all(), required=False)
    treatment_arm = forms.ModelChoiceField(queryset=ArmDefinition.objects.all(), required=False)
    covariates = forms.MultipleChoiceField(
        choices=covariates.choices,  # a callable: read when the form is built
        initial=DEFAULT_COVARIATES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Cox model and propensity score covariates, with their coding.",
    )
    cox_selection = forms.ChoiceField(
        choices=list(COX_SELECTIONS.items()),
        initial=DEFAULT_COX_SELECTION,
        required=False,
        label="Multivariable Cox model",
        help_text="Univariable models are fitted for every covariate in any case.",
    )
    cox_p_threshold = forms.FloatField(
        initial=DEFAULT_COX_P_THRESHOLD,
        min_value=0.0001,
        max_value=1,
        required=False,
        label="Univariable P threshold for the multivariable model",
    )
    dictionary_covariates = forms.JSONField(
        required=False,
        initial=list,  # an empty list, not the "null" a JSONField prints for None
        label="More covariates from the variable dictionary",
        help_text='A JSON list, e.g. [{"variable": "ecog_ps", "coding": "categorical", '
        '"reference": "0"}, {"variable": "age", "coding": "binary", "above": 65}]. Codings: '
        + "; ".join(f"{v.name}: {'/'.join(v.codings)}" for v in VARIABLES.values()),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    caliper_sd = forms.FloatField(
        initial=DEFAULT_CALIPER_SD,
        min_value=0.01,
        label="Caliper (SD of the logit of the propensity score)",
    )
    matching_order = forms.ChoiceField(
        choices=[(o, o) for o in ORDERS],
        initial="largest",
        required=False,
        label="Matching order",
        help_text="Order in which treated patients are matched: largest propensity score first "
        "(R MatchIt's default), smallest first, dataset order or random (needs a seed).",
    )
    matching_ratio = forms.IntegerField(
        initial=1,
        min_value=1,
        max_value=MAX_RATIO,
        required=False,
        label="Controls per treated patient (k:1)",
    )
    matching_replace = forms.BooleanField(
        required=False, label="Match with replacement (a control may serve several patients)"
    )
    matching_exact = forms.MultipleChoiceField(
        choices=[(name, covariates.get(name).label) for name in EXACT_MATCHING_COVARIATES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Exact matching on",
    )
    matching_seed = forms.IntegerField(
        required=False, min_value=0, label="Random seed (random matching order only)"
    )
    smd_denominator = forms.ChoiceField(
        choices=[(d, d) for d in SMD_DENOMINATORS],
        initial="treated",
        required=False,
        label="SMD denominator",
        help_text="treated: SD of the treated arm (R MatchIt, ATT); pooled: √((s₁² + s₀²)/2).",
    )
    resistance_cycles = forms.IntegerField(
        initial=DEFAULT_RESISTANCE_CYCLES,
        min_value=1,
        max_value=20,
        label="TACE resistance assessed after N cycles",
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cohort"].queryset = cohorts_visible_to(user)
        # The most recently defined cohort is the sensible starting point.
        latest = self.fields["cohort"].queryset.order_by("-created_at", "-pk").first()
        if latest is not None:
            self.fields["cohort"].initial = latest.pk
        # Latest version of each rule wins.
        arms = {arm.rule: arm for arm in ArmDefinition.objects.order_by("version", "pk")}
        # The page switches the arms to the chosen report's reference arms (plain JS).
        self.default_arms = {
            str(template): [arms[rule].pk for rule in rules if rule in arms]
            for template, rules in REPORT_ARM_RULES.items()
        }
        # Report A's arms as the starting point: the form should work without thinking.
        if "systemic_alone" in arms:
            self.fields["control_arm"].initial = arms["systemic_alone"].pk
        if "local_plus_systemic" in arms:
            self.fields["treatment_arm"].initial = arms["local_plus_systemic"].pk

    def options(self) -> dict:
        data = self.cleaned_data
        extra = data.get("dictionary_covariates") or []
        if not isinstance(extra, list):
            extra = [extra]
        options = {
            "covariates": [*(data["covariates"] or DEFAULT_COVARIATES), *extra],
            "caliper_sd": data["caliper_sd"],
            "resistance_cycles": data["resistance_cycles"],
            "cox_selection": data["cox_selection"] or DEFAULT_COX_SELECTION,
            "cox_p_threshold": DEFAULT_COX_P_THRESHOLD
            if data["cox_p_threshold"] is None
            else data["cox_p_threshold"],
        }
        # Matching options: left out when the form did not send them, so a form posted
        # without them (an older page) gets the defaults rather than an error.
        for key in ("matching_order", "matching_ratio", "smd_denominator"):
            if data.get(key) not in (None, ""):
                options[key] = data[key]
        options["matching_replace"] = bool(data.get("matching_replace"))
        options["matching_exact"] = list(data.get("matching_exact") or [])
        if data.get("matching_seed") is not None:
            options["matching_seed"] = data["matching_seed"]
        return options
