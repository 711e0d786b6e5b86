"""The practice's within-client variability prior (variability.py, Smyth 2004)."""

from __future__ import annotations

import numpy as np
import pytest

from rapport.monitoring import AllianceSeries, EpisodeHistory, ExpectedTrajectories, analyze_many
from rapport.monitoring.variability import (
    VariabilityPrior,
    fit_item_ratio,
    fit_prior,
    resolution_of,
)


def _clients(rng, n, sds, sessions=10):
    return [list(rng.normal(80, sd, sessions)) for sd in rng.choice(sds, n)]


def test_clients_who_all_vary_alike_give_their_sd_and_strong_shrinkage():
    rng = np.random.default_rng(3)
    prior = fit_prior(_clients(rng, 400, [4.0]), 100)
    assert prior is not None
    assert prior.sd == pytest.approx(4.0, rel=0.08)
    assert prior.weight >= 20  # sampling explains the spread of variances: shrink hard


def test_steady_and_restless_clients_give_weak_shrinkage():
    rng = np.random.default_rng(4)
    prior = fit_prior(_clients(rng, 400, [0.7, 6.0]), 100)
    assert prior is not None and prior.weight < 3


def test_too_few_clients_give_no_prior():
    rng = np.random.default_rng(5)
    assert fit_prior(_clients(rng, 29, [4.0]), 100) is None
    assert fit_prior(_clients(rng, 30, [4.0]), 100) is not None
    assert fit_prior([[90, 91, 92]] * 100, 100) is None  # three ratings each: too short


def test_clients_who_never_move_get_the_rounding_variance_not_zero():
    prior = fit_prior([[100.0] * 8] * 40 + [[100.0, 98.57142857142858] * 4] * 40, 100)
    assert prior is not None and prior.sd > 0
    assert prior.resolution == pytest.approx(10 / 7)
    assert prior.sd_floor == pytest.approx(10 / 7 / 12**0.5)


def test_resolution_is_the_smallest_step_between_totals():
    assert resolution_of(np.array([80.0, 82.5, 85.0, 80.0]), 100) == pytest.approx(2.5)
    assert resolution_of(np.array([80.0]), 100) == pytest.approx(1.0)


def test_fit_reads_client_alliance_series_only():
    rng = np.random.default_rng(6)
    episodes = [
        EpisodeHistory(f"e{i}", alliance=(
            AllianceSeries.of("relationship-checkin",
                              {s: float(np.clip(rng.normal(90, 3), 0, 100)) for s in range(1, 9)}),
            AllianceSeries.of("therapist-reflection", {s: 50.0 + s for s in range(1, 9)},
                              respondent="therapist"),
        ))
        for i in range(60)
    ]
    fitted = ExpectedTrajectories.fit(episodes)
    assert set(fitted.alliance) == {"relationship-checkin"}
    assert fitted.alliance["relationship-checkin"].sd == pytest.approx(3.0, rel=0.2)


def _itemised(name, rows):
    """A client check-in series from rows of seven item ratings (total = mean x 10)."""
    names = [f"i{k}" for k in range(7)]
    sessions = tuple(range(1, len(rows) + 1))
    return AllianceSeries("relationship-checkin", sessions,
                          tuple(10 * sum(r) / 7 for r in rows),
                          {n: tuple(float(r[k]) for r in rows) for k, n in enumerate(names)},
                          component_max=10.0)


def test_item_ratio_is_total_variance_per_unit_of_item_residual_variance():
    # Items = level + a session shock (SD 0.5) + item noise (SD 1.5), unrounded. The total
    # (mean x 10) varies by 100 (0.5^2 + 1.5^2 / 7); the two-way residual by 1.5^2, less the
    # rounding variance 1/12 the fit takes off: the ratio is 57.1 / 2.17 = 26.4.
    rng = np.random.default_rng(7)
    series = []
    for i in range(300):
        x = 6 + rng.normal(0, 0.5, (10, 1)) + rng.normal(0, 1.5, (10, 7))
        series.append(_itemised(f"c{i}", x.tolist()))
    expected = 100 * (0.5**2 + 1.5**2 / 7) / (1.5**2 - 1 / 12)
    assert fit_item_ratio(series) == pytest.approx(expected, rel=0.08)
    # Fewer than 30 clients with 4 complete sessions, or no items: no ratio (the rules then
    # ignore the items, as before the ratio existed).
    assert fit_item_ratio(series[:29]) == 0.0
    assert fit_item_ratio([AllianceSeries.of("relationship-checkin", {1: 80, 2: 82, 3: 81,
                                                                       4: 79})] * 40) == 0.0
    fitted = ExpectedTrajectories.fit([EpisodeHistory(f"e{i}", alliance=(s,))
                                       for i, s in enumerate(series)])
    prior = fitted.alliance["relationship-checkin"]
    assert prior.item_ratio == pytest.approx(expected, rel=0.08)
    assert prior.to_dict()["item_ratio"] == round(prior.item_ratio, 3)


# Five sessions at a total of 80, then 70. "together": every item 8, then every item 7.
# "scattered": the same totals, but the items disagree within each session (10s and 6s).
TOGETHER = [[8] * 7] * 5 + [[7] * 7]
SCATTERED = [[10, 6, 10, 6, 8, 8, 8], [6, 10, 6, 10, 8, 8, 8], [10, 10, 6, 6, 8, 8, 8],
             [6, 6, 10, 10, 8, 8, 8], [10, 6, 6, 10, 8, 8, 8], [9, 5, 9, 5, 7, 7, 7]]


@pytest.mark.parametrize("ratio, together, scattered", [
    (0.0, "rupture", "rupture"),  # no ratio: the items' dispersion is not read (as before)
    (50.0, "rupture", None),  # today's family's ratio: a client whose items scatter is restless
])
def test_the_items_dispersion_widens_a_restless_clients_spread(ratio, together, scattered):
    prior = VariabilityPrior(sd=3.0, weight=4.0, resolution=10 / 7, episodes=200,
                             item_ratio=ratio)
    traj = ExpectedTrajectories(alliance={"relationship-checkin": prior})
    found = analyze_many([EpisodeHistory("t", alliance=(_itemised("t", TOGETHER),)),
                          EpisodeHistory("s", alliance=(_itemised("s", SCATTERED),))],
                         trajectories=traj)
    kinds = [{f.kind for f in fs if f.session == 6} & {"rupture", "alliance_dip"}
             for fs in found]
    assert kinds[0] == {together}
    assert kinds[1] == ({scattered} if scattered else set())
