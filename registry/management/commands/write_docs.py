"""Write the generated documentation (docs/data-dictionary.md) from the code."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from registry.data_dictionary import data_dictionary_markdown, dictionary_path


class Command(BaseCommand):
    help = (
        "Write docs/data-dictionary.md from the models and registry/rules.py "
        "(--check: only say whether the committed file is current)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="Fail, writing nothing, when the file differs from what the code generates.",
        )

    def handle(self, *args, check: bool = False, **options) -> None:
        path = dictionary_path()
        text = data_dictionary_markdown()
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if check:
            if current != text:
                raise CommandError(f"{path} is stale: run `python manage.py write_docs`.")
            self.stdout.write(f"{path} is current.")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {path}.")
