"""Each questionnaire is shown as published: its stem and instructions, every question and every
answer's wording, in the definition's order (checked against the definition file itself)."""

from __future__ import annotations

import html
import json
import re

import pytest

from rapport import instruments
from tests.checkins.conftest import accept_consent, make_checkin, make_link

# goal-progress is a template (one question per goal); it is covered in test_goal_progress.py.
SHOWN = [i for i in instruments.instrument_ids() if i != "goal-progress"]


def _published(instrument_id: str) -> list[str]:
    """Every text the definition gives a respondent, in order: display items (stems and
    instructions), questions (without a 0-10 scale's anchor hint, which is shown apart), answers."""
    definition = json.loads((instruments.LIBRARY_DIR / f"{instrument_id}.json").read_text())
    texts = []
    for item in definition["item"]:
        text = item["text"]
        if item["type"] == "integer" and text.endswith(")") and " (" in text:
            text = text[: text.rindex(" (")]
        texts.append(text)
        texts += [o["valueCoding"]["display"] for o in item.get("answerOption", [])]
    return texts


def _page_text(content: bytes) -> str:
    body = content.decode()
    body = body[body.index("<main"):]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


@pytest.mark.parametrize("instrument_id", SHOWN)
def test_the_form_shows_the_published_wording_in_order(practice, web, instrument_id):
    checkin = make_checkin(practice, instruments=(instrument_id,))
    accept_consent(practice)
    page = web.get(make_link(practice, checkin))
    assert page.status_code == 200
    text = _page_text(page.content)
    position = 0
    for published in _published(instrument_id):
        found = text.find(re.sub(r"\s+", " ", published), position)
        assert found >= 0, f"{instrument_id}: {published!r} missing or out of order"
        position = found


@pytest.mark.parametrize("instrument_id", ["phq9", "gad7", "phq2", "gad2"])
def test_the_two_week_stem_comes_before_the_first_question(practice, web, instrument_id):
    checkin = make_checkin(practice, instruments=(instrument_id,))
    accept_consent(practice)
    text = _page_text(web.get(make_link(practice, checkin)).content)
    stem = text.find("Over the last 2 weeks, how often have you been bothered by")
    first = instruments.load(instrument_id).items[0].text
    assert 0 <= stem < text.find(first)


def test_the_loader_keeps_display_items_and_refuses_an_empty_one():
    phq9 = instruments.load("phq9")
    assert [d.text for d in phq9.displays] == [
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    ]
    assert phq9.layout[0] is phq9.displays[0] and phq9.layout[1] is phq9.items[0]
    definition = json.loads((instruments.LIBRARY_DIR / "phq9.json").read_text())
    definition["item"][0]["text"] = " "
    with pytest.raises(instruments.DefinitionError, match="display text"):
        instruments.parse(definition)


def test_what_is_asked_before_a_session_does_not_say_today():
    """A before-session check-in may be answered days ahead (the invitation goes out two days
    before), so nothing asked before a session speaks of "today" (nor "hoy" in Spanish):
    the preparation asks about the next session. The after-session check-in may."""
    import re
    from pathlib import Path

    from rapport.checkins.models import DEFAULT_RULES
    from rapport.instruments import LIBRARY_DIR

    ahead = {r["instrument"] for r in DEFAULT_RULES if r["when"] in ("before", "intake")}
    assert {"session-prep", "phq9", "gad7", "cnip"} <= ahead
    for instrument_id in ahead:
        text = (Path(LIBRARY_DIR) / f"{instrument_id}.json").read_text()
        assert not re.search(r"\b(today|hoy)\b", text, re.I), instrument_id
    after = (Path(LIBRARY_DIR) / "relationship-checkin.json").read_text()
    assert re.search(r"\btoday\b", after)  # the check itself finds the word where it is
