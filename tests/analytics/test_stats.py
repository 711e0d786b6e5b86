"""The pure figures: intervals, the small-n rule, outcome classes and the effect size."""

from __future__ import annotations

import math

import pytest

from rapport.analytics import stats
from rapport.analytics.stats import EpisodeFacts, OutcomeFacts
from rapport.instruments import load
from rapport.monitoring import OutcomeSeries, Scale, default_model

PHQ9 = Scale.of(load("phq9").psychometrics)


# Wilson (1927) score intervals worked by hand from
# (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n), z = 1.96.
@pytest.mark.parametrize(("k", "n", "low", "high"), [
    (3, 10, 0.1078, 0.6032),
    (0, 5, 0.0, 0.4345),
    (5, 5, 0.5655, 1.0),
    (50, 100, 0.4038, 0.5962),
])
def test_proportions_carry_wilson_intervals(k, n, low, high):
    fig = stats.proportion(k, n)
    assert fig.value == pytest.approx(k / n)
    assert (fig.low, fig.high) == (pytest.approx(low, abs=1e-4), pytest.approx(high, abs=1e-4))
    assert (fig.count, fig.n) == (k, n)


def test_a_mean_carries_a_t_interval():
    # mean 3, SD sqrt(2.5), SE 0.7071; t(0.975, 4) = 2.7764 -> 3 -/+ 1.9632
    fig = stats.mean([1, 2, 3, 4, 5])
    assert fig.value == 3
    assert (fig.low, fig.high) == (pytest.approx(1.0368, abs=1e-4), pytest.approx(4.9632, abs=1e-4))
    assert fig.n == 5


def test_a_mean_without_spread_has_a_point_interval_and_nan_is_ignored():
    fig = stats.mean([7, 7, 7, 7, 7, math.nan])
    assert (fig.value, fig.low, fig.high, fig.n) == (7, 7, 7, 5)


def test_below_the_minimum_n_there_is_no_figure_to_show():
    assert stats.MIN_N == 5
    few, enough = stats.proportion(2, 4), stats.proportion(2, 5)
    assert not few.enough and few.shown is None
    assert enough.enough and enough.shown == pytest.approx(0.4)
    assert stats.mean([1, 2, 3, 4]).shown is None
    assert stats.proportion(0, 0).shown is None
    # Counts are counts: shown whatever their size.
    assert stats.count(1).shown == 1


def test_outcome_classes_come_from_the_instrument_rules():
    recovered = stats.outcome_facts(OutcomeSeries.of("phq9", {1: 20, 5: 8}, PHQ9), None, None)
    improved_not_case = stats.outcome_facts(OutcomeSeries.of("phq9", {1: 9, 3: 3}, PHQ9), None, None)
    worse = stats.outcome_facts(OutcomeSeries.of("phq9", {1: 12, 4: 19}, PHQ9), None, None)
    assert (recovered.classification, recovered.case_at_intake) == ("reliable_recovery", True)
    assert (improved_not_case.classification, improved_not_case.case_at_intake) == (
        "reliable_improvement", False)
    assert worse.classification == "reliable_deterioration"
    assert stats.outcome_facts(OutcomeSeries.of("phq9", {1: 12}, PHQ9), None, None) is None


def test_the_effect_is_the_distance_from_the_expected_score_in_intake_sds():
    model = default_model("phq9", PHQ9)
    series = OutcomeSeries.of("phq9", {2: 20, 5: 8}, PHQ9)  # intake at session 2, latest at 5
    expected, _ = model.expected(20, 4)  # the model counts from intake: 5 - 2 + 1
    got = stats.outcome_facts(series, model, 5.0)
    assert got.effect == pytest.approx((expected - 8) / 5.0)
    assert got.effect > 0  # better than expected: the default expects about 7 points by session 4
    # Higher-is-better instruments are oriented the same way: positive is better.
    up = Scale(higher_is_better=True, reliable_change=5, cutoff=None)
    up_model = default_model("up", up)
    e_up, _ = up_model.expected(10, 3)
    rising = stats.outcome_facts(OutcomeSeries.of("up", {1: 10, 3: 30}, up), up_model, 4.0)
    assert rising.effect == pytest.approx((30 - e_up) / 4.0) and rising.effect > 0


def test_intake_sd_needs_two_intakes_and_some_spread():
    assert stats.intake_sd([OutcomeSeries.of("phq9", {1: 10, 2: 5}, PHQ9)]) is None
    same = [OutcomeSeries.of("phq9", {1: 10, 2: 5}, PHQ9)] * 3
    assert stats.intake_sd(same) is None
    two = [OutcomeSeries.of("phq9", {1: 10, 2: 5}, PHQ9), OutcomeSeries.of("phq9", {1: 14}, PHQ9)]
    assert stats.intake_sd(two) == pytest.approx(math.sqrt(8))


def test_summarise_adds_up_the_episodes():
    o = lambda c, case, e: OutcomeFacts(c, case, e)  # noqa: E731
    facts = [
        EpisodeFacts(1, active=True, sessions_attended=6, relationship=80, checkins_due=4,
                     checkins_done=3, outcomes={"phq9": o("reliable_recovery", True, 1.0)}),
        EpisodeFacts(1, active=True, sessions_attended=7, relationship=70, ruptures=1, repaired=1,
                     outcomes={"phq9": o("reliable_deterioration", True, -2.0)}),
        EpisodeFacts(1, ended=True, dropped_out=True, sessions_attended=7, relationship=60,
                     ruptures=1, checkins_due=1, outcomes={"phq9": o("no_reliable_change", True, 0.0)}),
        EpisodeFacts(2, ended=True, sessions_attended=3,
                     outcomes={"phq9": o("reliable_improvement", False, 0.5)}),
    ]
    figs = stats.summarise(facts)
    assert (figs.episodes_active.n, figs.episodes_ended.n, figs.sessions_attended.n) == (2, 2, 23)
    assert (figs.dropout.count, figs.dropout.n) == (1, 2)
    assert (figs.checkins.count, figs.checkins.n) == (3, 5)
    assert (figs.ruptures.n, figs.repaired.count, figs.repaired.n) == (2, 1, 2)
    assert (figs.relationship.value, figs.relationship.n) == (70, 3)
    phq9 = figs.outcome("phq9")
    assert (phq9.improved.count, phq9.improved.n) == (2, 4)
    assert (phq9.recovered.count, phq9.recovered.n) == (1, 3)  # of the three cases at intake
    assert (phq9.deteriorated.count, phq9.deteriorated.n) == (1, 4)
    assert phq9.effect.value == pytest.approx(-0.125) and phq9.effect.n == 4
    assert figs.outcome("gad7").improved.n == 0
