"""Reliable change (Jacobson & Truax 1991) and NHS Talking Therapies change categories."""

from __future__ import annotations

import math

import pytest

from rapport.instruments import classify_change, load, rci, reliable_change_amount
from rapport.instruments.psychometrics import PRECEDENCE, Psychometrics, is_remission, is_response


def test_reliable_change_amount_is_jacobson_truax() -> None:
    assert reliable_change_amount(5, 0.84) == pytest.approx(1.96 * math.sqrt(2) * 5 * 0.4)
    # A worked example: SD 7.5, r .88 -> 7.20 points.
    assert reliable_change_amount(7.5, 0.88) == pytest.approx(7.2019, abs=1e-3)


def test_rci_is_change_over_the_standard_error_of_the_difference() -> None:
    assert rci(20, 10, sd=5, reliability=0.84) == pytest.approx(-10 / (math.sqrt(2) * 2))
    amount = reliable_change_amount(5, 0.84)
    assert abs(rci(20, 20 - amount, sd=5, reliability=0.84)) == pytest.approx(1.96)


@pytest.mark.parametrize("sd,r", [(0, 0.8), (-1, 0.8), (5, 1.0), (5, -0.1)])
def test_rci_refuses_impossible_inputs(sd: float, r: float) -> None:
    with pytest.raises(ValueError):
        reliable_change_amount(sd, r)
    with pytest.raises(ValueError):
        rci(1, 2, sd=sd, reliability=r)


# PHQ-9: reliable change 6, caseness >= 10, lower is better.
@pytest.mark.parametrize(
    "first,last,expected",
    [
        (20, 8, "reliable_recovery"),  # case -> not a case, fell 12
        (11, 9, "recovery"),  # case -> not a case, fell only 2
        (22, 14, "reliable_improvement"),  # fell 8, still a case
        (20, 14, "reliable_improvement"),  # exactly 6 counts ("6 or more")
        (20, 15, "no_reliable_change"),
        (8, 2, "reliable_improvement"),  # not a case at first: no recovery possible
        (5, 11, "reliable_deterioration"),
        (9, 10, "no_reliable_change"),
    ],
)
def test_classify_change_phq9(first: float, last: float, expected: str) -> None:
    assert classify_change(first, last, reliable_change=6, cutoff=10) == expected
    phq9 = load("phq9").psychometrics
    assert phq9 is not None and phq9.classify(first, last) == expected


def test_classify_change_without_cutoff_has_no_recovery() -> None:
    assert classify_change(20, 2, reliable_change=6, cutoff=None) == "reliable_improvement"
    assert classify_change(20, 18, reliable_change=6, cutoff=None) == "no_reliable_change"


def test_classify_change_higher_is_better() -> None:
    # e.g. a practice's ORS: cutoff 25, a case below it; reliable change 5.
    kw = {"reliable_change": 5, "cutoff": 25, "higher_is_better": True}
    assert classify_change(15, 30, **kw) == "reliable_recovery"
    assert classify_change(23, 26, **kw) == "recovery"
    assert classify_change(10, 16, **kw) == "reliable_improvement"
    assert classify_change(30, 24, **kw) == "reliable_deterioration"
    assert classify_change(30, 28, **kw) == "no_reliable_change"


def test_precedence_is_documented_and_complete() -> None:
    assert PRECEDENCE == (
        "reliable_deterioration",
        "reliable_recovery",
        "recovery",
        "reliable_improvement",
        "no_reliable_change",
    )


def test_classify_change_needs_a_positive_amount() -> None:
    with pytest.raises(ValueError):
        classify_change(1, 2, reliable_change=0, cutoff=None)


def test_response_and_remission_phq9() -> None:
    phq9 = load("phq9").psychometrics
    assert phq9 is not None
    assert phq9.response(20, 10) is True
    assert phq9.response(20, 11) is False
    assert phq9.response(0, 0) is False
    assert phq9.remission(4) is True and phq9.remission(5) is False
    assert is_response(16, 8, fraction=0.5) and is_remission(4.5, below=5)
    assert phq9.is_case(10) is True and phq9.is_case(9) is False


def test_undefined_response_and_remission_are_none() -> None:
    gad7 = load("gad7").psychometrics
    assert gad7 is not None
    assert gad7.response(15, 5) is None and gad7.remission(2) is None
    assert Psychometrics().classify(10, 2) is None and Psychometrics().is_case(3) is None
