import pytest

from rapport.monitoring import OutcomeSeries, Scale, classify, summarize
from tests.monitoring.helpers import PHQ9


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (20, 14, "reliable_improvement"),  # a fall of exactly 6 is reliable
        (20, 15, "no_reliable_change"),  # 5 is not
        (20, 26, "reliable_deterioration"),  # a rise of exactly 6
        (20, 25, "no_reliable_change"),
        (12, 9, "recovery"),  # case (>= 10) to not a case, by less than 6
        (12, 10, "no_reliable_change"),  # 10 is still a case
        (16, 9, "reliable_recovery"),
        (16, 10, "reliable_improvement"),
        (8, 2, "reliable_improvement"),  # not a case at intake: no recovery
    ],
)
def test_phq9_classification_at_and_around_thresholds(first, last, expected):
    assert classify(first, last, PHQ9) == expected


def test_higher_is_better_instrument_reverses_direction():
    who = Scale(higher_is_better=True, reliable_change=10, cutoff=13)
    assert classify(5, 15, who) == "reliable_recovery"
    assert classify(20, 10, who) == "reliable_deterioration"


def test_no_reliable_change_amount_gives_none():
    assert classify(10, 0, Scale()) is None


def test_summary_uses_intake_and_latest_with_response_and_remission():
    s = summarize(OutcomeSeries.of("phq9", {3: 6, 1: 20, 2: 12}, PHQ9))
    assert s is not None
    assert (s.first, s.last, s.change) == (20, 6, -14)
    assert s.classification == "reliable_recovery"
    assert s.response is True  # 6 <= 50% of 20
    assert s.remission is False  # 6 is not below 5
    s2 = summarize(OutcomeSeries.of("phq9", {1: 20, 2: 11}, PHQ9))
    assert s2 is not None and s2.response is False
    s3 = summarize(OutcomeSeries.of("phq9", {1: 20, 2: 4}, PHQ9))
    assert s3 is not None and s3.remission is True


def test_response_undefined_where_not_published():
    s = summarize(OutcomeSeries.of("gad7", {1: 15, 2: 3}, Scale(reliable_change=4, cutoff=8)))
    assert s is not None and s.response is None and s.remission is None


def test_empty_series_has_no_summary():
    assert summarize(OutcomeSeries.of("phq9", {}, PHQ9)) is None
