"""Hypothesis properties: ranges, answer order, reverse keying, missing items."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rapport.instruments import instrument_ids, load

SUMMED = {"phq9": (9, 3), "gad7": (7, 3), "phq2": (2, 3), "gad2": (2, 3), "pcl5": (20, 4)}
COMPONENTS = ["trust", "empathy", "genuineness", "respect", "listening", "safety", "goals"]


@pytest.mark.parametrize("instrument_id", sorted(SUMMED))
@given(data=st.data())
def test_complete_summed_responses_score_the_sum_within_range(
    instrument_id: str, data: st.DataObject
) -> None:
    n, top = SUMMED[instrument_id]
    values = data.draw(st.lists(st.integers(0, top), min_size=n, max_size=n))
    instrument = load(instrument_id)
    score = instrument.score({f"{instrument_id}-{i}": v for i, v in enumerate(values, 1)})
    assert score.complete and not score.errors
    assert score.total == sum(values)
    assert 0 <= score.total <= n * top
    bands = instrument.scoring.bands
    if not bands:
        assert score.severity is None
        return
    assert score.severity is not None
    assert bands[score.severity.band].min <= score.total
    if score.severity.band + 1 < len(bands):
        assert score.total < bands[score.severity.band + 1].min


@given(values=st.lists(st.integers(0, 3), min_size=9, max_size=9), seed=st.integers())
def test_scoring_does_not_depend_on_answer_order(values: list[int], seed: int) -> None:
    pairs = [(f"phq9-{i}", v) for i, v in enumerate(values, 1)]
    shuffled = pairs[:]
    random.Random(seed).shuffle(shuffled)
    instrument = load("phq9")
    assert instrument.score(dict(pairs)).to_json() == instrument.score(dict(shuffled)).to_json()


@given(ratings=st.dictionaries(st.sampled_from(COMPONENTS), st.integers(0, 10), min_size=1))
def test_relationship_total_is_a_0_to_100_mean(ratings: dict[str, int]) -> None:
    score = load("relationship-checkin").score(ratings)
    assert score.total is not None and 0 <= score.total <= 100
    assert score.total == pytest.approx(sum(ratings.values()) / len(ratings) * 10, abs=0.01)
    assert score.complete == (len(ratings) == 7)
    assert score.subscales == ratings


@given(
    values=st.lists(st.integers(0, 3), min_size=9, max_size=9),
    missing=st.sets(st.integers(1, 9), min_size=1),
)
def test_phq9_prorates_one_or_two_missing_items_and_no_more(
    values: list[int], missing: set[int]
) -> None:
    # NHS Data Dictionary, "Patient Health Questionnaire-9" (the same rule as Arrieta et al. 2017,
    # J Clin Psychol 73:1076): one or two items missing -> each is substituted by the mean of the
    # answered items (total = that mean times the number of items, not rounded); more missing ->
    # no total. (The GAD-7 is not prorated: test_scoring.py.)
    instrument_id, n = "phq9", 9
    missing = {m for m in missing if m <= n} or {1}
    answered = [v for i, v in enumerate(values[:n], 1) if i not in missing]
    answers = {f"{instrument_id}-{i}": v for i, v in enumerate(values[:n], 1) if i not in missing}
    score = load(instrument_id).score(answers)
    assert not score.complete
    if len(missing) <= 2:
        mean_times_n = sum(answered) * n / len(answered)
        assert score.total == round(mean_times_n, 2) and not score.errors
    else:
        assert score.total is None and len(score.errors) == 1


@given(
    answers=st.dictionaries(
        st.text(max_size=12),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(),
            st.text(max_size=5),
            st.lists(st.integers(), max_size=2),
        ),
        max_size=12,
    )
)
def test_no_input_crashes_any_instrument(answers: dict[str, Any]) -> None:
    for instrument_id in instrument_ids():
        score = load(instrument_id).score(answers)
        assert (score.total is None) or not score.errors
        for error in score.errors:
            assert error.message


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.integers(0, 4), min_size=4, max_size=4))
def test_reverse_keying_mirrors_the_item(practice_dir: Path, values: list[int]) -> None:
    instrument = load("wellbeing-demo")
    answers = {f"wb-{i}": v for i, v in enumerate(values, 1)}
    score = instrument.score(answers)
    assert score.total == values[0] + (4 - values[1]) + values[2] + values[3]
    flipped = instrument.score({**answers, "wb-2": 4 - values[1]})
    assert flipped.total == score.total - (4 - values[1]) + values[1]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.integers(0, 4), min_size=4, max_size=4), drop=st.integers(1, 4))
def test_prorated_total_is_the_mean_of_the_answered_items_times_n(
    practice_dir: Path, values: list[int], drop: int
) -> None:
    answers = {f"wb-{i}": v for i, v in enumerate(values, 1) if i != drop}
    scored = [(4 - v) if i == 2 else v for i, v in enumerate(values, 1) if i != drop]
    score = load("wellbeing-demo").score(answers)
    assert score.total == pytest.approx(sum(scored) / 3 * 4, abs=0.01)
    assert 0 <= (score.total or 0) <= 16
