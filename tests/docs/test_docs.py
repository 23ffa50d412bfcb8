"""The documentation in docs/: generated parts current, every link inside the repository."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from registry.data_dictionary import DICTIONARY_PATH, data_dictionary_markdown

ROOT = Path(settings.BASE_DIR)
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_the_committed_data_dictionary_is_what_the_code_generates():
    committed = (ROOT / DICTIONARY_PATH).read_text(encoding="utf-8")

    assert committed == data_dictionary_markdown(), (
        "docs/data-dictionary.md is stale: run `python manage.py write_docs` and commit it."
    )


def test_write_docs_check_refuses_a_stale_file(tmp_path, settings):
    settings.BASE_DIR = tmp_path
    (tmp_path / "docs").mkdir()
    (tmp_path / DICTIONARY_PATH).write_text("# an old dictionary\n", encoding="utf-8")

    with pytest.raises(CommandError, match="stale"):
        call_command("write_docs", check=True)

    call_command("write_docs")
    call_command("write_docs", check=True)
    assert (tmp_path / DICTIONARY_PATH).read_text(encoding="utf-8") == data_dictionary_markdown()


def test_the_dictionary_lists_every_derived_value_of_a_patient_with_its_rule():
    text = data_dictionary_markdown()

    for name in ("albi_grade", "child_pugh_class", "bclc_stage", "best_overall_response"):
        row = next(line for line in text.splitlines() if line.startswith(f"| {name} |"))
        assert "derivations.md#" in row


@pytest.mark.parametrize(
    "document", ["README.md", *sorted(p.name for p in (ROOT / "docs").glob("*.md"))]
)
def test_every_relative_link_points_to_a_file_of_the_repository(document):
    path = ROOT / document if document == "README.md" else ROOT / "docs" / document
    text = path.read_text(encoding="utf-8")

    for target in LINK.findall(text):
        if target.startswith(("http://", "https://", "mailto:", "#")):
            continue
        file_part = target.split("#", 1)[0]
        resolved = (path.parent / file_part).resolve()
        assert resolved.is_relative_to(ROOT.resolve()), f"{document}: {target} leaves the repo"
        assert resolved.exists(), f"{document}: {target} does not exist"


def test_links_to_a_section_name_an_anchor_of_the_target():
    for path in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for target in LINK.findall(path.read_text(encoding="utf-8")):
            if "#" not in target or target.startswith("http"):
                continue
            file_part, anchor = target.split("#", 1)
            linked = (path.parent / file_part if file_part else path).read_text(encoding="utf-8")
            anchors = set(re.findall(r'<a id="([^"]+)"></a>', linked)) | {
                _slug(heading) for heading in re.findall(r"^#+ (.+)$", linked, re.MULTILINE)
            }
            assert anchor in anchors, f"{path.name}: {target}"


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")
