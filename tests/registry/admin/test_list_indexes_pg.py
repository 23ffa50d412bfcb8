"""On PostgreSQL the admin's searches and the refractoriness filter read through their
indexes (migrations 0007_admin_list_indexes and 0008_patient_search_trgm).

The planner is asked with sequential scans disabled: if the index cannot serve the query's
expression (a different cast, a different JSON operator) the plan still scans the table.
"""

from __future__ import annotations

import pytest
from django.db import connection

from registry.models import Patient

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL indexes"),
]


def plan_of(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_substring_search_of_study_ids_uses_the_trigram_index():
    assert "patient_study_id_trgm" in plan_of(Patient.objects.filter(study_id__icontains="0007"))


def test_the_own_reference_search_uses_its_index():
    plan = plan_of(Patient.objects.filter(site_id__in=[1, 2], site_patient_ref__iexact="mrn-1"))
    assert "patient_own_ref_upper" in plan


def test_the_refractoriness_filter_uses_its_index():
    queryset = Patient.objects.filter(tace_refractoriness__jsh_lcsgj_2014__status="refractory")
    assert "patient_refr_jsh2014" in plan_of(queryset)
