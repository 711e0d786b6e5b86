"""Scoring each shipped instrument against its published rules, and every answer error."""

from __future__ import annotations

from typing import Any

import pytest

from rapport.instruments import AnswerError, Severity, goal_progress, load

COMPONENTS = ["trust", "empathy", "genuineness", "respect", "listening", "safety", "goals"]


def phq9(*values: int) -> dict[str, int]:
    return {f"phq9-{n}": v for n, v in enumerate(values, 1)}


def spread(total: int, n: int, top: int) -> list[int]:
    """n item values in 0..top summing to total."""
    values = []
    for _ in range(n):
        v = min(top, total)
        values.append(v)
        total -= v
    assert total == 0
    return values


# -- PHQ-9 (Kroenke et al. 2001) ---------------------------------------------------------------


@pytest.mark.parametrize(
    "total,label,band",
    [
        (0, "minimal", 0),
        (4, "minimal", 0),
        (5, "mild", 1),
        (9, "mild", 1),
        (10, "moderate", 2),
        (14, "moderate", 2),
        (15, "moderately severe", 3),
        (19, "moderately severe", 3),
        (20, "severe", 4),
        (27, "severe", 4),
    ],
)
def test_phq9_totals_and_severity_bands(total: int, label: str, band: int) -> None:
    values = spread(total, 9, 3)
    score = load("phq9").score(phq9(*values))
    assert score.complete and not score.errors
    assert score.total == total
    assert score.severity == Severity(label, band)


def test_phq9_item_9_above_zero_raises_the_risk_flag() -> None:
    instrument = load("phq9")
    assert instrument.score(phq9(0, 0, 0, 0, 0, 0, 0, 0, 0)).flags == []
    assert instrument.score(phq9(0, 0, 0, 0, 0, 0, 0, 0, 1)).flags == ["risk:phq9-9"]
    assert instrument.score(phq9(0, 0, 0, 0, 0, 0, 0, 0, 3)).flags == ["risk:phq9-9"]


def test_the_risk_flag_survives_errors_elsewhere() -> None:
    score = load("phq9").score({"phq9-9": 2, "phq9-1": 7})
    assert score.flags == ["risk:phq9-9"]
    assert score.total is None and score.errors


def test_choice_answers_by_code_or_ordinal_value_score_the_same() -> None:
    instrument = load("phq9")
    by_value = instrument.score(phq9(3, 2, 1, 0, 3, 2, 1, 0, 0))
    codes = ["nearly-every-day", "more-than-half", "several-days", "not-at-all"]
    by_code = instrument.score(
        {f"phq9-{n}": codes[3 - v] for n, v in enumerate([3, 2, 1, 0, 3, 2, 1, 0, 0], 1)}
    )
    assert by_value.total == by_code.total == 12


def test_the_phq9_difficulty_question_is_optional_and_not_scored() -> None:
    instrument = load("phq9")
    answers: dict[str, Any] = phq9(1, 1, 1, 1, 1, 1, 1, 1, 0)
    answers["phq9-difficulty"] = "very"
    score = instrument.score(answers)
    assert score.total == 8 and score.complete


# Prorating. Source: NHS Data Dictionary, supporting information "Patient Health Questionnaire-9":
# "If one or two values are missing from the score, then they can be substituted with the average
# score of the non-missing items. Questionnaires with more than two missing values should be
# disregarded." (also Arrieta et al. 2017, J Clin Psychol 73:1076, for the PHQ-9). Substituting the
# mean for each missing item = mean of the answered items x the number of items; the source does
# not round, so neither does the total. Each boundary below.


def test_phq9_one_missing_item_is_prorated() -> None:
    score = load("phq9").score(phq9(3, 3, 3, 3, 3, 3, 3, 3))  # 24 over 8 items -> 27
    assert score.total == 27 and not score.complete and not score.errors


def test_phq9_two_missing_items_are_prorated_without_rounding() -> None:
    # 1+1+1+1+1+1+2 = 8 over 7 items -> 8 x 9 / 7 = 10.29 (caseness: PHQ-9 >= 10)
    score = load("phq9").score(phq9(1, 1, 1, 1, 1, 1, 2))
    assert score.total == 10.29 and not score.errors
    # 3+3+1+1+1+1+1 = 11 -> 11 x 9 / 7 = 14.14; 6 over 7 x 9 = 7.71
    assert load("phq9").score(phq9(3, 3, 1, 1, 1, 1, 1)).total == 14.14
    assert load("phq9").score(phq9(1, 1, 1, 1, 1, 1, 0)).total == 7.71


def test_phq9_prorated_half_stays_a_half() -> None:
    # 4 over 8 items: 4 x 9 / 8 = 4.5, which is below 5 (remission is PHQ-9 < 5): not rounded up
    score = load("phq9").score(phq9(1, 1, 1, 1, 0, 0, 0, 0))
    assert score.total == 4.5 and score.severity is not None and score.severity.label == "minimal"


def test_phq9_three_missing_items_have_no_total() -> None:
    score = load("phq9").score(phq9(3, 3, 3, 3, 3, 3))
    assert score.total is None and score.severity is None and not score.complete
    assert [str(e) for e in score.errors] == [
        "too many missing items for a total: 3 missing (phq9-7, phq9-8, phq9-9); "
        "allowed: at most 2 missing"
    ]


def test_gad7_with_a_missing_item_has_no_total() -> None:
    # No source we could verify gives a prorating rule for the GAD-7: the NHS Data Dictionary's
    # text is written for the PHQ-9 ("Patient Health Questionnaire-9" supporting information),
    # and neither its GAD-7 entry nor the NHS Talking Therapies manual's scoring text was found
    # in the sources searched. So, as for the other shipped measures without a verified rule, a
    # GAD-7 with a scored item missing has no total, and the error names the item.
    gad7 = load("gad7")
    one_missing = gad7.score({f"gad7-{i}": 2 for i in range(1, 7)})
    assert one_missing.total is None and one_missing.severity is None
    assert [str(e) for e in one_missing.errors] == [
        "too many missing items for a total: 1 missing (gad7-7); allowed: at most 0 missing"
    ]
    assert gad7.score({f"gad7-{i}": 2 for i in range(1, 8)}).total == 14


# -- GAD-7 (Spitzer et al. 2006), PHQ-2, GAD-2 ---------------------------------------------------


@pytest.mark.parametrize(
    "total,label",
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_bands(total: int, label: str) -> None:
    answers = {f"gad7-{n}": v for n, v in enumerate(spread(total, 7, 3), 1)}
    score = load("gad7").score(answers)
    assert score.total == total and score.severity is not None and score.severity.label == label


@pytest.mark.parametrize("instrument_id", ["phq2", "gad2"])
@pytest.mark.parametrize(
    "a,b,label",
    [
        (0, 0, "screen negative"),
        (1, 1, "screen negative"),
        (2, 1, "screen positive"),
        (3, 3, "screen positive"),
    ],
)
def test_two_item_screeners_are_positive_at_3(
    instrument_id: str, a: int, b: int, label: str
) -> None:
    score = load(instrument_id).score({f"{instrument_id}-1": a, f"{instrument_id}-2": b})
    assert score.total == a + b
    assert score.severity is not None and score.severity.label == label


# -- PCL-5 (Weathers et al. 2013) ----------------------------------------------------------------


def test_pcl5_total_and_dsm5_cluster_scores() -> None:
    answers = {f"pcl5-{n}": 4 for n in range(1, 21)}
    score = load("pcl5").score(answers)
    assert score.total == 80
    assert score.subscales == {"intrusion": 20, "avoidance": 8, "cognition-mood": 28, "arousal": 24}
    answers = {f"pcl5-{n}": n % 5 for n in range(1, 21)}
    score = load("pcl5").score(answers)
    assert score.total == sum(n % 5 for n in range(1, 21)) == 40
    assert score.subscales["avoidance"] == (6 % 5) + (7 % 5)
    assert score.severity is None  # no published bands


# -- C-NIP (Cooper & Norcross 2016) --------------------------------------------------------------


def test_cnip_scales_are_sums_from_minus_to_plus_and_there_is_no_total() -> None:
    instrument = load("cnip")
    left = instrument.score({f"cnip-{n}": "left-3" for n in range(1, 19)})
    assert left.total is None and left.complete and not left.errors
    assert left.subscales == {
        "therapist-directiveness": 15,
        "emotional-intensity": 15,
        "past-orientation": 9,
        "warm-support": 15,
    }
    right = instrument.score({f"cnip-{n}": -3 for n in range(1, 19)})
    assert right.subscales["past-orientation"] == -9
    mixed = instrument.score({f"cnip-{n}": (1 if n <= 5 else 0) for n in range(1, 19)})
    assert mixed.subscales["therapist-directiveness"] == 5
    assert mixed.subscales["warm-support"] == 0


# -- our own instruments -------------------------------------------------------------------------


def test_relationship_checkin_total_is_the_mean_rating_times_ten() -> None:
    instrument = load("relationship-checkin")
    score = instrument.score({c: 10 for c in COMPONENTS})
    assert score.total == 100 and score.complete
    assert score.subscales == {c: 10 for c in COMPONENTS}
    score = instrument.score({**{c: 7 for c in COMPONENTS}, "goals": 0})
    assert score.total == pytest.approx(60.0)


def test_relationship_checkin_skipped_items_do_not_count_as_zero() -> None:
    score = load("relationship-checkin").score({"trust": 8, "empathy": 7, "not-right": "rushed"})
    assert score.total == 75
    assert not score.complete and not score.errors
    assert score.subscales == {"trust": 8, "empathy": 7}


def test_relationship_checkin_free_text_is_never_scored() -> None:
    instrument = load("relationship-checkin")
    base = {c: 5 for c in COMPONENTS}
    with_text = instrument.score({**base, "not-right": "x", "next-time": "y"})
    assert with_text.total == instrument.score(base).total == 50
    assert "not-right" not in with_text.subscales


def test_therapist_reflection_total_uses_only_the_seven_shared_components() -> None:
    answers = {
        **{c: 6 for c in COMPONENTS},
        "warmth": 10,
        "acceptance": 10,
        "authenticity": 8,
        "self-awareness": 8,
    }
    score = load("therapist-reflection").score(answers)
    assert score.total == 60
    assert score.subscales["self-reflection"] == 90
    assert score.subscales["warmth"] == 10 and score.subscales["trust"] == 6


def test_session_prep_has_no_total_and_reports_since_last() -> None:
    instrument = load("session-prep")
    score = instrument.score({"focus": "my sister", "since-last": 4})
    assert score.total is None and score.complete and score.subscales == {"since-last": 4}
    assert not instrument.score({"focus": "work"}).complete


def test_goal_progress_is_built_from_goal_ids() -> None:
    instrument = goal_progress({"g-1": "Sleep better", "g-2": "Call my brother"})
    assert [(i.link_id, i.text) for i in instrument.items] == [
        ("g-1", "Sleep better"),
        ("g-2", "Call my brother"),
    ]
    score = instrument.score({"g-1": 4, "g-2": 7})
    assert score.total == 5.5 and score.subscales == {"g-1": 4, "g-2": 7} and score.complete
    partial = instrument.score({"g-1": 4})
    assert partial.total == 4 and not partial.complete
    assert [e.link_id for e in instrument.score({"g-3": 4}).errors] == ["g-3"]
    assert [e.link_id for e in instrument.score({"g-1": 11}).errors] == ["g-1"]


def test_goal_progress_template_scores_whatever_goal_ids_it_is_given() -> None:
    score = load("goal-progress").score({"a": 2, "b": 4, "c": 9})
    assert score.total == 5 and score.subscales == {"a": 2, "b": 4, "c": 9}


def test_goal_progress_rejects_duplicate_or_empty_ids() -> None:
    with pytest.raises(ValueError):
        goal_progress(["a", "a"])
    with pytest.raises(ValueError):
        goal_progress([""])


# -- errors --------------------------------------------------------------------------------------


def only_error(instrument_id: str, answers: Any) -> AnswerError:
    score = load(instrument_id).score(answers)
    assert len(score.errors) == 1, score.errors
    assert score.total is None and not score.complete
    return score.errors[0]


def test_out_of_range_choice_names_the_item_the_value_and_the_allowed_values() -> None:
    error = only_error("phq9", phq9(1, 1, 4, 1, 1, 1, 1, 1, 1))
    assert error.link_id == "phq9-3" and error.value == 4
    assert error.allowed == (
        "one of the values 0, 1, 2, 3 or the codes not-at-all, several-days, more-than-half, "
        "nearly-every-day"
    )
    assert str(error).startswith("phq9-3: not an allowed answer: 4; allowed: one of the values")


def test_unknown_code() -> None:
    error = only_error("gad7", {"gad7-1": "sometimes"})
    assert error.link_id == "gad7-1" and error.value == "sometimes"


def test_unknown_link_id() -> None:
    error = only_error("gad2", {"gad2-1": 1, "gad2-2": 1, "gad2-3": 1})
    assert error.link_id == "gad2-3" and "unknown linkId" in error.message
    assert error.allowed == "the items gad2-1, gad2-2"


def test_decimal_where_a_whole_number_is_expected() -> None:
    error = only_error("phq2", {"phq2-1": 1.5, "phq2-2": 1})
    assert error.link_id == "phq2-1"
    assert "a decimal given where a whole number is expected" in error.message
    rating = only_error("relationship-checkin", {"trust": 7.5})
    assert rating.link_id == "trust" and rating.allowed == "a whole number from 0 to 10"


def test_a_whole_float_counts_as_the_number() -> None:
    assert load("phq2").score({"phq2-1": 1.0, "phq2-2": 2}).total == 3


def test_free_text_where_a_number_is_expected() -> None:
    error = only_error("relationship-checkin", {"trust": "very much"})
    assert error.link_id == "trust"
    assert error.message == "text given where a number is expected: 'very much'"


def test_number_where_text_is_expected() -> None:
    error = only_error("session-prep", {"focus": 3})
    assert error.link_id == "focus" and error.allowed == "text"


def test_out_of_range_rating() -> None:
    for bad in (-1, 11, 100):
        error = only_error("relationship-checkin", {"empathy": bad})
        assert error.link_id == "empathy" and error.value == bad and "out of range" in error.message


@pytest.mark.parametrize("bad", [True, False, [1], {"v": 1}, float("nan"), float("inf")])
def test_wrong_types_are_errors_not_crashes(bad: Any) -> None:
    assert only_error("phq9", {"phq9-1": bad}).link_id == "phq9-1"
    assert only_error("relationship-checkin", {"trust": bad}).link_id == "trust"


@pytest.mark.parametrize("bad", [None, [], "phq9-1", 3, [["phq9-1", 1]]])
def test_answers_must_be_an_object(bad: Any) -> None:
    error = only_error("phq9", bad)
    assert error.link_id is None and "answers must be an object" in error.message


def test_every_error_is_reported_not_just_the_first() -> None:
    score = load("phq9").score({"phq9-1": 9, "phq9-2": "x", "zzz": 1})
    assert [e.link_id for e in score.errors] == ["phq9-1", "phq9-2", "zzz"]


def test_null_and_empty_answers_are_missing_not_errors() -> None:
    score = load("relationship-checkin").score({"trust": 9, "empathy": None, "not-right": ""})
    assert score.total == 90 and not score.errors


def test_validate_returns_the_errors() -> None:
    instrument = load("phq9")
    assert instrument.validate(phq9(0, 0, 0, 0, 0, 0, 0, 0, 0)) == []
    assert [e.link_id for e in instrument.validate({"phq9-1": 5})] == ["phq9-1"]
    missing = instrument.validate({"phq9-1": 1})
    assert [e.link_id for e in missing] == [None]
    assert missing[0].message.startswith("too many missing items for a total: 8 missing")


def test_to_json_is_the_cli_shape() -> None:
    data = load("phq9").score(phq9(1, 1, 1, 1, 1, 1, 1, 1, 1)).to_json()
    assert data == {
        "instrument": "phq9",
        "complete": True,
        "total": 9,
        "severity": {"label": "mild", "band": 1},
        "subscales": {},
        "flags": ["risk:phq9-9"],
        "errors": [],
    }
