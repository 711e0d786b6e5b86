"""The state of the translations: what is untranslated or fuzzy, and whether each compiled .mo
matches its .po (README, "Languages"). Read by `rapport manage i18n_check` and tests/i18n."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import polib
from django.conf import settings


@dataclass
class Catalogue:
    language: str
    po_path: Path
    untranslated: list[str] = field(default_factory=list)
    fuzzy: list[str] = field(default_factory=list)
    stale_mo: bool = False

    @property
    def complete(self) -> bool:
        return not (self.untranslated or self.fuzzy or self.stale_mo)


def locale_dir() -> Path:
    return Path(settings.LOCALE_PATHS[0])


def translated_languages() -> list[str]:
    """Every offered language but the one the source strings are written in."""
    return [code for code, _name in settings.LANGUAGES if code != "en"]


def _compiled(entry: polib.POEntry) -> tuple:
    if entry.msgid_plural:
        return (entry.msgctxt, entry.msgid, tuple(sorted(entry.msgstr_plural.items())))
    return (entry.msgctxt, entry.msgid, entry.msgstr)


def mo_is_stale(po: polib.POFile, mo_path: Path) -> bool:
    """True when the .mo is missing or differs from what compiling the .po would give."""
    if not mo_path.exists():
        return True
    wanted = {_compiled(e) for e in po.translated_entries() if e.msgid}
    got = {_compiled(e) for e in polib.mofile(str(mo_path)) if e.msgid}
    return wanted != got


def inspect(language: str) -> Catalogue:
    po_path = locale_dir() / language / "LC_MESSAGES" / "django.po"
    catalogue = Catalogue(language, po_path)
    if not po_path.exists():
        catalogue.untranslated = ["(no catalogue: run makemessages)"]
        catalogue.stale_mo = True
        return catalogue
    po = polib.pofile(str(po_path))
    catalogue.untranslated = [e.msgid for e in po.untranslated_entries() if not e.obsolete]
    catalogue.fuzzy = [e.msgid for e in po.fuzzy_entries() if not e.obsolete]
    catalogue.stale_mo = mo_is_stale(po, po_path.with_suffix(".mo"))
    return catalogue
