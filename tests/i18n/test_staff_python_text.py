"""Text composed in Python for staff (alert headlines, suggestions) speaks the reader's language."""

from __future__ import annotations

from pathlib import Path

import polib
from django.conf import settings
from django.utils import translation

from rapport.alerts.suggestions import suggestions_for
from rapport.alerts.wording import evidence_rows, headline
from tests.alerts.conftest import make_alert

CATALOGUE = Path(settings.BASE_DIR) / "rapport" / "locale" / "es" / "LC_MESSAGES" / "django.po"


def msgstr(msgid: str) -> str:
    entry = polib.pofile(str(CATALOGUE)).find(msgid)
    assert entry is not None and entry.msgstr and "fuzzy" not in entry.flags, msgid
    return entry.msgstr


def test_a_spanish_speaking_therapist_reads_the_alert_headline_in_spanish():
    with translation.override("es"):
        text = headline("alliance_dip", "relationship-checkin", {})
        with_score = headline("alliance_low", "relationship-checkin", {"score": 41})
        rows = dict(evidence_rows({"usual": 80, "flags": True}))
        suggestions = suggestions_for("goal_stagnation", {})
    assert text == msgstr("The relationship rating dipped below this client's usual ratings")
    assert with_score == msgstr("Low relationship rating: %(score)s") % {"score": "41"}
    assert rows == {msgstr("This client's usual level"): "80", msgstr("Flags"): msgstr("yes")}
    assert suggestions[0] == msgstr(
        "Revisit this goal together: is it still the right one, and is it the right size?")
    # The English stays as it was.
    assert headline("alliance_dip", "relationship-checkin", {}) == (
        "The relationship rating dipped below this client's usual ratings")


def test_an_alert_keeps_its_suggestions_in_its_therapists_language(practice):
    practice.episode.therapist.language = "es"
    practice.episode.therapist.save(update_fields=["language"])
    alert = make_alert(practice, kind="goal_stagnation", key="goal_stagnation:x")
    assert alert.suggestions[0] == msgstr(
        "Revisit this goal together: is it still the right one, and is it the right size?")
