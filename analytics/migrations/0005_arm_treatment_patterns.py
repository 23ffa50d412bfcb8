"""The four seed arms as treatment patterns, and the two seed comparisons as groupings.

The patterns are written out here (frozen: a later change to ``analytics.groupings`` must not
rewrite history); ``tests/analytics/test_arm_patterns_equal_rules.py`` checks they select the
patients the four former rule functions did. Every saved arm that has a seed rule and no
pattern gets its rule's pattern with its own window.
"""

from django.db import migrations


def _pattern(rule: str, window: int) -> dict:
    clauses = {
        "tace_alone": ("first_tace", [{"combine": "none_of", "terms": ["systemic"]}]),
        "tace_pd1_mtt": ("first_tace", [{"combine": "all_of", "terms": ["pd1_pdl1", "tki"]}]),
        "systemic_alone": (
            "index_date",
            [
                {"combine": "all_of", "terms": ["systemic"]},
                {"combine": "none_of", "terms": ["local_therapy"]},
            ],
        ),
        "local_plus_systemic": (
            "index_date",
            [{"combine": "all_of", "terms": ["systemic", "local_therapy"]}],
        ),
    }
    anchor, body = clauses[rule]
    return {
        "anchor": anchor,
        "window_start_days": 0,
        "window_end_days": window,
        "clauses": body,
        "min_tace_before": 0,
    }


# (grouping name, description, [(arm label, rule, window)] in the order tried)
GROUPINGS = [
    (
        "Report A arms: local + systemic vs systemic alone",
        "Seed 002: after TACE refractoriness, systemic therapy with or without a local therapy "
        "started within 30 days of the index date. Reference: systemic therapy alone.",
        [
            ("Local + systemic therapy", "local_plus_systemic", 30),
            ("Systemic therapy alone", "systemic_alone", 30),
        ],
        "Systemic therapy alone",
    ),
    (
        "Report B arms: TACE + PD-(L)1 + MTT vs TACE alone",
        "Seed 000: TACE with a PD-1/PD-L1 antibody and a TKI each started within 90 days of "
        "the first TACE, or TACE with no systemic therapy in those 90 days. Reference: TACE "
        "alone.",
        [("TACE + PD-(L)1 + MTT", "tace_pd1_mtt", 90), ("TACE alone", "tace_alone", 90)],
        "TACE alone",
    ),
]


def forwards(apps, schema_editor):
    ArmDefinition = apps.get_model("analytics", "ArmDefinition")
    GroupingDefinition = apps.get_model("analytics", "GroupingDefinition")
    for arm in ArmDefinition.objects.filter(pattern={}).exclude(rule=""):
        arm.pattern = _pattern(arm.rule, arm.window_days)
        arm.save(update_fields=["pattern"])
    for name, description, arms, reference in GROUPINGS:
        GroupingDefinition.objects.get_or_create(
            name=name,
            version=1,
            defaults={
                "kind": "treatment_pattern",
                "spec": {
                    "arms": [
                        {"label": label, "pattern": _pattern(rule, window)}
                        for label, rule, window in arms
                    ]
                },
                "reference": reference,
                "description": description,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("analytics", "0004_grouping_definitions")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
