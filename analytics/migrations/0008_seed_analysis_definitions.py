"""Report A and Report B as two saved analysis definitions over the seed groupings.

Each compares the two arms of its grouping (migration ``arm_treatment_patterns``) with seed
002's eight Cox covariates (the run form's default list, written out here); the cohort is
chosen when the analysis is run.
"""

from django.db import migrations

SEED002_COVARIATES = [
    "age",
    "male",
    "child_pugh_b",
    "bclc_c",
    "max_diameter_cm",
    "tumour_multiple",
    "log10_afp",
    "albi_score",
]
DEFINITIONS = [
    (
        "Report A",
        "report_a",
        "Report A arms: local + systemic vs systemic alone",
        "Seed 002: local + systemic therapy vs systemic therapy alone after TACE "
        "refractoriness; baseline, Kaplan–Meier OS/PFS, Cox, response, adverse events.",
    ),
    (
        "Report B",
        "report_b",
        "Report B arms: TACE + PD-(L)1 + MTT vs TACE alone",
        "Seed 000: TACE + PD-(L)1 + MTT vs TACE alone, propensity-score matched; matching, "
        "TACE resistance, Kaplan–Meier OS/PFS.",
    ),
]


def forwards(apps, schema_editor):
    AnalysisDefinition = apps.get_model("analytics", "AnalysisDefinition")
    GroupingDefinition = apps.get_model("analytics", "GroupingDefinition")
    for name, template, grouping_name, description in DEFINITIONS:
        grouping = GroupingDefinition.objects.filter(name=grouping_name, version=1).first()
        if grouping is None:
            continue
        AnalysisDefinition.objects.get_or_create(
            name=name,
            version=1,
            defaults={
                "template": template,
                "grouping": grouping,
                "endpoints": ["os", "pfs"],
                "options": {"covariates": SEED002_COVARIATES},
                "description": description,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("analytics", "0007_analysis_definitions")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
