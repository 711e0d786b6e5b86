"""List what stands between the code and complete translations (README, "Languages").

    rapport manage i18n_check            # report: unmarked template text, unmarked user-facing
                                         # literals in Python (flash messages, form errors and
                                         # labels, email and text bodies, responses), untranslated
                                         # or fuzzy strings per language, a .mo out of date
    rapport manage i18n_check --extract  # first collect new strings into the .po files
                                         # (makemessages), e.g. after merging other branches

Exits 1 while anything is left to do.
"""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from rapport.core import i18n_catalogue, i18n_pyscan, i18n_scan

EXTRACT_OPTIONS = {"extensions": ["html", "txt", "py", "svg"], "no_location": True,
                   "no_obsolete": True, "ignore_patterns": [".venv", "tests", "bench", "var"],
                   "verbosity": 0}


class Command(BaseCommand):
    help = ("Report untranslated or fuzzy strings, unmarked template and Python text and stale "
            ".mo files.")

    def add_arguments(self, parser):
        parser.add_argument("--extract", action="store_true",
                            help="run makemessages for every language first")

    def handle(self, *args, extract=False, **options):
        languages = i18n_catalogue.translated_languages()
        if extract:
            call_command("makemessages", locale=languages, **EXTRACT_OPTIONS)
        templates = Path(settings.BASE_DIR) / "rapport" / "templates"
        unmarked = i18n_scan.unmarked_templates(templates)
        for item in unmarked:
            self.stdout.write(f"unmarked  {item}")
        in_python = i18n_pyscan.unmarked_modules(Path(settings.BASE_DIR) / "rapport")
        for item in in_python:
            self.stdout.write(f"unmarked  {item}")
        todo = len(unmarked) + len(in_python)
        for language in languages:
            catalogue = i18n_catalogue.inspect(language)
            for msgid in catalogue.untranslated:
                self.stdout.write(f"{language}  untranslated  {msgid!r}")
            for msgid in catalogue.fuzzy:
                self.stdout.write(f"{language}  fuzzy  {msgid!r}")
            if catalogue.stale_mo:
                self.stdout.write(f"{language}  the .mo is out of date: rapport manage compilemessages")
            todo += len(catalogue.untranslated) + len(catalogue.fuzzy) + catalogue.stale_mo
            self.stdout.write(f"{language}: {len(catalogue.untranslated)} untranslated, "
                              f"{len(catalogue.fuzzy)} fuzzy ({catalogue.po_path})")
        self.stdout.write(f"{len(unmarked)} unmarked template text(s)")
        self.stdout.write(f"{len(in_python)} unmarked Python text(s)")
        if todo:
            raise SystemExit(1)
