"""The arm definitions of the two reference studies, so Report A and B work out of the box."""

from django.db import migrations

ARMS = [
    (
        "Systemic therapy alone",
        "systemic_alone",
        30,
        "Seed 002 control: systemic therapy from the index date after TACE refractoriness, "
        "no local therapy started within 30 days.",
    ),
    (
        "Local + systemic therapy",
        "local_plus_systemic",
        30,
        "Seed 002: systemic therapy plus mTACE, HAIC, radiotherapy or another local therapy "
        "started within 30 days of the index date.",
    ),
    (
        "TACE alone",
        "tace_alone",
        90,
        "Seed 000 control: TACE with no systemic therapy started within 90 days of the first TACE.",
    ),
    (
        "TACE + PD-(L)1 + MTT",
        "tace_pd1_mtt",
        90,
        "Seed 000: TACE with a PD-1/PD-L1 antibody and a tyrosine-kinase inhibitor each started "
        "within 90 days of the first TACE.",
    ),
]


def create_arms(apps, schema_editor):
    ArmDefinition = apps.get_model("analytics", "ArmDefinition")
    for name, rule, window, description in ARMS:
        ArmDefinition.objects.get_or_create(
            name=name,
            version=1,
            defaults={"rule": rule, "window_days": window, "description": description},
        )


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_initial")]

    operations = [migrations.RunPython(create_arms, migrations.RunPython.noop)]
