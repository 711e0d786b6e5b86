"""The shipped library: every definition loads, validates as FHIR, and cites its numbers."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire

from rapport.instruments import LIBRARY_DIR, UnknownInstrument, instrument_ids, load

SHIPPED = {
    "phq9",
    "gad7",
    "phq2",
    "gad2",
    "pcl5",
    "cnip",
    "relationship-checkin",
    "therapist-reflection",
    "session-prep",
    "goal-progress",
}
COMPONENTS = ["trust", "empathy", "genuineness", "respect", "listening", "safety", "goals"]


def test_the_library_ships_exactly_the_issue_instruments() -> None:
    assert set(instrument_ids()) == SHIPPED
    assert {p.stem for p in LIBRARY_DIR.glob("*.json")} == SHIPPED


@pytest.mark.parametrize("instrument_id", sorted(SHIPPED))
def test_each_definition_loads_and_is_a_valid_fhir_r4_questionnaire(instrument_id: str) -> None:
    instrument = load(instrument_id)
    assert instrument.id == instrument_id
    assert instrument.title and instrument.version and instrument.items
    Questionnaire.model_validate(json.loads((LIBRARY_DIR / f"{instrument_id}.json").read_text()))


@pytest.mark.parametrize("instrument_id", sorted(SHIPPED))
def test_every_clinical_number_has_a_source(instrument_id: str) -> None:
    instrument = load(instrument_id)
    assert instrument.sources
    p = instrument.psychometrics
    if p is not None:
        for name in ("reliable_change", "cutoff", "response_fraction", "remission_below"):
            assert (getattr(p, name) is None) == (name not in p.source), name
    if instrument.scoring.bands:
        assert instrument.scoring.bands_source
    assert all(f.source for f in instrument.scoring.flags)
    total = instrument.scoring.total
    if total is not None and total.max_missing != 0:
        assert total.missing_source


def test_unknown_instrument_is_a_key_error_with_a_clear_message() -> None:
    with pytest.raises(UnknownInstrument) as raised:
        load("ors")
    assert isinstance(raised.value, KeyError)
    assert "unknown instrument 'ors'" in str(raised.value)
    assert "phq9" in str(raised.value)


def test_link_id_scheme_for_published_measures() -> None:
    assert [i.link_id for i in load("phq9").items][:9] == [f"phq9-{n}" for n in range(1, 10)]
    assert [i.link_id for i in load("gad7").items][:7] == [f"gad7-{n}" for n in range(1, 8)]
    assert [i.link_id for i in load("pcl5").items] == [f"pcl5-{n}" for n in range(1, 21)]
    assert [i.link_id for i in load("cnip").items] == [f"cnip-{n}" for n in range(1, 19)]
    assert [i.link_id for i in load("phq2").items] == ["phq2-1", "phq2-2"]
    assert [i.link_id for i in load("gad2").items] == ["gad2-1", "gad2-2"]


def test_published_measures_carry_the_known_numbers() -> None:
    phq9 = load("phq9").psychometrics
    assert phq9 is not None
    assert (phq9.reliable_change, phq9.cutoff, phq9.response_fraction, phq9.remission_below) == (
        6,
        10,
        0.5,
        5,
    )
    assert not phq9.higher_is_better
    gad7 = load("gad7").psychometrics
    assert gad7 is not None
    assert (gad7.reliable_change, gad7.cutoff, gad7.response_fraction) == (4, 8, None)
    pcl5 = load("pcl5").psychometrics
    # PCL-5 reliable change: Marx et al. 2022, Psychol Assess 34:197 (15 points in their first
    # sample, 15-18 across samples), not the 10-point "clinically meaningful" minimum.
    assert pcl5 is not None and pcl5.reliable_change == 15 and 31 <= (pcl5.cutoff or 0) <= 33
    for screener in ("phq2", "gad2"):
        p = load(screener).psychometrics
        assert p is not None and p.cutoff == 3 and p.reliable_change is None
    assert load("cnip").psychometrics is None


def test_our_own_instruments_say_they_are_not_validated() -> None:
    for instrument_id in (
        "relationship-checkin",
        "therapist-reflection",
        "session-prep",
        "goal-progress",
    ):
        instrument = load(instrument_id)
        assert instrument.validated is False
        assert "Not a validated instrument" in " ".join(instrument.sources)
        p = instrument.psychometrics
        assert p is None or (p.cutoff is None and p.reliable_change is None)
    for instrument_id in ("phq9", "gad7", "phq2", "gad2", "pcl5", "cnip"):
        assert load(instrument_id).validated is True


def test_alliance_instruments_are_marked_and_share_the_component_link_ids() -> None:
    client = load("relationship-checkin")
    therapist = load("therapist-reflection")
    assert client.alliance and therapist.alliance
    assert not load("phq9").alliance
    assert [i.link_id for i in client.items] == [*COMPONENTS, "not-right", "next-time"]
    assert [i.link_id for i in therapist.items] == [
        *COMPONENTS,
        "warmth",
        "acceptance",
        "authenticity",
        "self-awareness",
    ]
    assert client.respondent == "client" and therapist.respondent == "therapist"


def test_session_prep_and_goal_progress_items() -> None:
    prep = load("session-prep")
    assert [(i.link_id, i.kind) for i in prep.items] == [
        ("focus", "text"),
        ("since-last", "integer"),
        ("tell-therapist", "text"),
        ("questions", "text"),
    ]
    goal = load("goal-progress")
    assert goal.template is not None and goal.template.max_value == 10


def test_score_ranges_follow_the_items():
    from rapport.instruments import load

    assert load("phq9").score_range() == (0.0, 27.0)
    assert load("gad7").score_range() == (0.0, 21.0)
    assert load("relationship-checkin").score_range() == (0.0, 100.0)
    rel = load("relationship-checkin")
    trust = next(s for s in rel.scoring.subscales if s.name == "trust")
    assert rel.score_range(trust) == (0.0, 10.0)
