"""Issue 17 item 11: a restore needs the database AND the media volume.

The backup is what README "Backups" prescribes, done here with Django's own tools so that it
runs on SQLite and PostgreSQL alike: ``dumpdata`` of the database and a copy of MEDIA_ROOT.
After a disaster (database emptied, media volume lost) both are restored and a run file is
downloaded again, byte for byte. A database-only restore answers 404 with the reason.
"""

from __future__ import annotations

import shutil

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command

from analytics.models import AnalysisRun, RunOutput
from registry.choices import Role
from tests.analytics.test_run_helpers import make_cohort, queue_run
from tests.registry.factories import make_patient, make_site, make_user

PDF = b"%PDF-1.4\n% a run's report\n%%EOF\n"
EXCLUDED = ["contenttypes", "auth.permission", "admin.logentry", "sessions", "axes"]


def backup(path) -> None:
    call_command(
        "dumpdata",
        "--natural-foreign",  # content types by name; primary keys kept, as pg_dump does
        *[f"--exclude={name}" for name in EXCLUDED],
        output=str(path),
        verbosity=0,
    )


@pytest.mark.django_db(transaction=True)
def test_a_restore_of_database_and_media_serves_the_run_files_again(
    client, shared_media, tmp_path, ctcae_terms_loaded
):
    site = make_site("NT")
    make_patient(site)
    investigator = make_user("inv", Role.REGISTRY_INVESTIGATOR, None, is_staff=True)
    run = queue_run(investigator, make_cohort("all"))
    output = RunOutput(run=run, kind=RunOutput.Kind.PDF, name="report.pdf", size_bytes=len(PDF))
    output.file.save("report.pdf", ContentFile(PDF))
    url = f"/analytics/runs/{run.pk}/files/{output.pk}/report.pdf?download"
    client.force_login(investigator)
    assert b"".join(client.get(url).streaming_content) == PDF

    dump, media_copy = tmp_path / "registry.json", tmp_path / "media-backup"
    backup(dump)
    shutil.copytree(shared_media, media_copy)

    # Disaster: the database and the media volume are lost.
    call_command("flush", "--noinput", verbosity=0)
    shutil.rmtree(shared_media)
    assert not AnalysisRun.objects.exists()

    # A database-only restore lists the run, but its file is gone: a 404 that says why.
    call_command("loaddata", str(dump), verbosity=0)
    client.force_login(type(investigator).objects.get(username=investigator.username))
    missing = client.get(url)
    assert missing.status_code == 404

    # The media volume too: the same bytes again.
    shutil.copytree(media_copy, shared_media)
    restored = client.get(url)
    assert restored.status_code == 200
    assert b"".join(restored.streaming_content) == PDF
    assert AnalysisRun.objects.get(pk=run.pk).outputs.get().sha256 == output.sha256
