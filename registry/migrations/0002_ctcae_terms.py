"""Load the CTCAE v5.0 terms the registry starts with (registry/data/ctcae_v5_terms.csv)."""

import csv
from pathlib import Path

from django.db import migrations

TERMS_CSV = Path(__file__).resolve().parent.parent / "data" / "ctcae_v5_terms.csv"


def load_terms(apps, schema_editor):
    CtcaeTerm = apps.get_model("registry", "CtcaeTerm")
    with TERMS_CSV.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            CtcaeTerm.objects.update_or_create(
                code=row["code"],
                defaults={
                    "term": row["term"],
                    "system_organ_class": row["system_organ_class"],
                    "min_grade": int(row["min_grade"]),
                    "max_grade": int(row["max_grade"]),
                    "is_other_specify": row["is_other_specify"] == "true",
                },
            )


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [migrations.RunPython(load_terms, migrations.RunPython.noop)]
