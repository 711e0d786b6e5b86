"""Every finding has a plain-language headline; its numbers are labelled, identifiers left out."""

from __future__ import annotations

import pytest

from rapport.alerts.models import Kind
from rapport.alerts.wording import evidence_rows, headline

RAISED_BY_MONITORING = {
    "not_on_track": {"instrument": "phq9", "score": 18.0, "warning_beyond": 14.0,
                     "strong_beyond": 21.44, "level": "warning", "z": 1.5, "band": 0,
                     "model": "default", "tolerance_sd": 3.2},
    "reliable_deterioration": {"instrument": "gad7", "intake": 8, "score": 14, "change": 6,
                               "reliable_change": 4},
    "rupture": {"instrument": "relationship-checkin", "score": 40, "usual": 80,
                "component_z": {"trust": -2.4, "empathy": -2.1, "goals": 0.2}},
    "rupture_repaired": {"instrument": "relationship-checkin", "rupture_session": 11},
    "alliance_dip": {"instrument": "relationship-checkin", "score": 60, "usual": 80},
    "alliance_low": {"instrument": "relationship-checkin", "score": 45, "cutoff": 60},
    "component_drop": {"instrument": "relationship-checkin", "component": "listening",
                       "score": 3, "usual": 8},
    "discrepancy": {"instrument": "therapist-reflection", "therapist": 90, "client": 55},
    "dropout_risk": {"probability": 0.34},
    "goal_stagnation": {},
    "risk": {"instrument": "phq9", "item": "phq9-9", "value": 2,
             "response": "2fee6775-0d4c-4c4b-a1de-3bb2c4e5b4a1"},
}


def test_the_issue_s_examples_read_as_asked():
    assert headline("not_on_track", "phq9", RAISED_BY_MONITORING["not_on_track"], 6) == (
        "PHQ-9 score 18 – above the range expected by session 6 (up to 14)")
    assert headline("rupture", "relationship-checkin", RAISED_BY_MONITORING["rupture"], 5) == (
        "Trust and empathy dropped well below this client's usual ratings")
    assert headline("risk", "phq9", RAISED_BY_MONITORING["risk"]) == (
        "Risk answer on PHQ-9 item 9: “More than half the days”")


@pytest.mark.parametrize("kind", [k.value for k in Kind])
def test_every_kind_has_words_and_no_identifier(kind):
    for evidence in (RAISED_BY_MONITORING[kind], {}, None, {"unknown_key": [1, "x"]}):
        text = headline(kind, "relationship-checkin", evidence, 4)
        assert text and "_" not in text and "phq9" not in text and "relationship-checkin" not in text
        for label, value in evidence_rows(evidence):
            assert "_" not in label
            assert "2fee6775" not in value and "phq9" not in value


def test_the_numbers_are_labelled_and_groups_are_one_row():
    rows = dict(evidence_rows(RAISED_BY_MONITORING["rupture"] | {
        "components": {"trust": 2, "respect": 7}, "weakest_component": "respect"}))
    assert rows["Each part this session"] == "trust 2, mutual respect 7"
    assert rows["Weakest part"] == "mutual respect"
    assert rows["This client's usual level"] == "80"
    assert not any("z" == label.lower() or "band" in label.lower() for label in rows)
