"""Trigram indexes for the admin's substring search of study ids (PostgreSQL only).

The patient list searches ``study_id__icontains`` (``UPPER(study_id) LIKE UPPER('%term%')``)
and every CRF list ``patient__study_id__icontains``: a B-tree cannot serve a leading wildcard,
a ``pg_trgm`` GIN index on ``UPPER(study_id)`` can. On SQLite (development, tests) there is
no pg_trgm and this migration does nothing.
"""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS patient_study_id_trgm "
    "ON registry_patient USING gin (UPPER(study_id) gin_trgm_ops)",
]
DROP = ["DROP INDEX IF EXISTS patient_study_id_trgm"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("registry", "0007_admin_list_indexes")]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP), elidable=False)]
