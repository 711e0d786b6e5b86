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


def _monitoring_evidence():
    """Evidence as the monitoring core writes it (not written by hand): a drop-out risk with
    its reasons, and a rupture's basis with the practice's prior spread."""
    from rapport.monitoring.alliance_findings import basis
    from rapport.monitoring.dropout import DropoutReason, DropoutRisk
    from rapport.monitoring.variability import VariabilityPrior

    risk = DropoutRisk(0.45, (DropoutReason("no_show", 0.69, {"count": 1}),
                              DropoutReason("missed_checkins", 0.5, {"missed": 2, "due": 4}),
                              DropoutReason("unrepaired_rupture", 0.69,
                                            {"instrument": "relationship-checkin",
                                             "since_session": 5})), 8)
    prior = VariabilityPrior(sd=6.5, weight=4, resolution=1.4, episodes=0)
    rupture = basis("relationship-checkin", 31.4, 83.9, 5.8, 4, 5.7, prior, [1, 2, 3, 4, 5], 4)
    return {"dropout_risk": risk.to_dict(), "rupture": rupture}


@pytest.mark.parametrize("kind", ["dropout_risk", "rupture"])
def test_real_evidence_reads_as_words_not_python(kind):
    rows = evidence_rows(_monitoring_evidence()[kind], kind)
    for label, value in rows:
        for text in (label, value):
            assert not any(c in text for c in "{}[]_") and "': " not in text, (label, value)
            assert "relationship-checkin" not in text


def test_a_dropout_risk_says_its_reasons():
    evidence = _monitoring_evidence()["dropout_risk"]
    rows = dict(evidence_rows(evidence, "dropout_risk"))
    assert rows["Sessions missed without notice: 1"] == "odds × 2"
    assert rows["Check-ins not answered: 2 of the last 4"] == "odds × 1.6"
    assert rows["A drop in the relationship not yet repaired (since session 5)"] == "odds × 2"
    assert rows["Usual chance for clients in general"] == "about 20 in 100"
    assert rows["A warning from"] == "about 40 in 100"
    from rapport.monitoring.explain import why

    assert why("dropout_risk", evidence) == (
        "About 45 in 100, against about 20 in 100 for clients in general, because of: sessions "
        "missed without notice: 1; check-ins not answered: 2 of the last 4; a drop in the "
        "relationship not yet repaired (since session 5).")


def test_the_practice_s_prior_spread_is_its_number_and_z_is_read_for_its_kind():
    rows = dict(evidence_rows(_monitoring_evidence()["rupture"], "rupture"))
    assert rows["Usual spread of this practice's clients"] == "6.5"
    assert rows["Distance from the usual level, in standard deviations"] == "-9.1"
    rows = dict(evidence_rows(RAISED_BY_MONITORING["not_on_track"], "not_on_track"))
    assert rows["Distance from the expected score, in expected spreads"] == "1.5"


def test_a_part_of_the_relationship_is_named_in_the_sentence_too():
    from rapport.alerts.wording import why_sentence

    sentence = why_sentence("component_drop", {"component": "listening", "score": 3, "usual": 8,
                                               "drop": 5, "threshold": 3})
    assert sentence == "Active listening 3 this session against a usual 8: down 5, at least 3."
