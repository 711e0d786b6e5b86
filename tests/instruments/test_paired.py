"""NHS Talking Therapies paired outcomes: every boundary of `classify_paired`.

Source for every case: NHS Talking Therapies for anxiety and depression manual (NHS England),
outcome definitions, and the NHS Data Dictionary's NHS Talking Therapies data set definitions:
caseness on EITHER measure (PHQ-9 >= 10, GAD-7 >= 8); recovery = a case at the start and a case
on NEITHER measure at the end; reliable improvement = a reliable fall on at least one measure
(PHQ-9 >= 6, GAD-7 >= 4) with no reliable rise on the other; reliable deterioration its mirror;
reliable change in both directions is neither; reliable recovery = recovery + reliable
improvement. Numbers from the instrument definitions (phq9.json, gad7.json).
"""

from __future__ import annotations

import pytest

from rapport.instruments import load
from rapport.instruments.psychometrics import (
    NO_RELIABLE_CHANGE,
    RECOVERY,
    RELIABLE_CHANGE_BOTH_DIRECTIONS,
    RELIABLE_DETERIORATION,
    RELIABLE_IMPROVEMENT,
    RELIABLE_RECOVERY,
    Measure,
    classify_paired,
)


def pair(phq: tuple[int, int], gad: tuple[int, int]):
    p, g = load("phq9").psychometrics, load("gad7").psychometrics
    return classify_paired(Measure(*phq, p.reliable_change, p.cutoff),
                           Measure(*gad, g.reliable_change, g.cutoff))


def test_the_library_numbers_are_the_nhs_ones():
    p, g = load("phq9").psychometrics, load("gad7").psychometrics
    assert (p.reliable_change, p.cutoff, g.reliable_change, g.cutoff) == (6, 10, 4, 8)


@pytest.mark.parametrize(("phq", "gad", "case"), [
    ((10, 0), (0, 0), True),   # PHQ-9 at its cutoff alone is caseness
    ((9, 0), (7, 0), False),   # both one below: not a case
    ((9, 0), (8, 0), True),    # GAD-7 at its cutoff alone is caseness
])
def test_caseness_at_the_start_is_either_measure_at_its_cutoff(phq, gad, case):
    assert pair(phq, gad).caseness_at_start is case


def test_the_issue_example_phq9_recovers_but_gad7_stays_a_case_is_not_recovery():
    result = pair((12, 8), (9, 9))
    assert result.recovery is False and result.classification == NO_RELIABLE_CHANGE


@pytest.mark.parametrize(("phq", "gad", "recovery"), [
    ((12, 9), (9, 7), True),    # both one below the cutoff at the end
    ((12, 10), (9, 7), False),  # PHQ-9 at its cutoff at the end
    ((12, 9), (9, 8), False),   # GAD-7 at its cutoff at the end
])
def test_recovery_needs_both_measures_below_their_cutoffs_at_the_end(phq, gad, recovery):
    assert pair(phq, gad).recovery is recovery


def test_recovery_does_not_apply_without_caseness_at_the_start():
    result = pair((9, 3), (7, 1))
    assert result.recovery is None and result.reliable_recovery is None
    assert result.classification == RELIABLE_IMPROVEMENT  # PHQ-9 -6, GAD-7 -6


@pytest.mark.parametrize(("phq", "gad", "label"), [
    ((15, 9), (12, 12), RELIABLE_IMPROVEMENT),    # PHQ-9 -6: at the reliable amount
    ((15, 10), (12, 12), NO_RELIABLE_CHANGE),     # PHQ-9 -5: one short
    ((15, 15), (12, 8), RELIABLE_IMPROVEMENT),    # GAD-7 -4: at the reliable amount
    ((15, 15), (12, 9), NO_RELIABLE_CHANGE),      # GAD-7 -3: one short
    ((15, 21), (12, 12), RELIABLE_DETERIORATION),  # PHQ-9 +6
    ((15, 20), (12, 12), NO_RELIABLE_CHANGE),     # PHQ-9 +5
    ((15, 15), (12, 16), RELIABLE_DETERIORATION),  # GAD-7 +4
    ((15, 15), (12, 15), NO_RELIABLE_CHANGE),     # GAD-7 +3
    ((15, 9), (12, 15), RELIABLE_IMPROVEMENT),    # PHQ-9 -6, GAD-7 +3 (not reliable)
    ((15, 21), (12, 9), RELIABLE_DETERIORATION),  # PHQ-9 +6, GAD-7 -3 (not reliable)
])
def test_reliable_change_boundaries(phq, gad, label):
    assert pair(phq, gad).classification == label


def test_the_issue_example_phq9_minus_6_with_gad7_plus_4_is_both_directions():
    result = pair((15, 9), (12, 16))
    assert result.classification == RELIABLE_CHANGE_BOTH_DIRECTIONS
    assert not result.reliable_improvement and not result.reliable_deterioration


def test_reliable_recovery_is_recovery_with_reliable_improvement():
    result = pair((15, 9), (9, 7))  # PHQ-9 -6 and both below the cutoffs
    assert result.classification == RELIABLE_RECOVERY and result.reliable_recovery


def test_recovery_without_reliable_improvement_is_recovery_only():
    result = pair((12, 9), (9, 7))  # PHQ-9 -3, GAD-7 -2: neither reliable
    assert result.classification == RECOVERY and result.reliable_recovery is False


def test_recovery_with_reliable_change_both_ways_is_not_reliable_recovery():
    result = pair((16, 9), (3, 7))  # PHQ-9 -7, GAD-7 +4; both below the cutoffs at the end
    assert result.recovery is True and result.reliable_recovery is False
    assert result.classification == RELIABLE_CHANGE_BOTH_DIRECTIONS
