"""The practice's within-client variability prior (variability.py, Smyth 2004)."""

from __future__ import annotations

import numpy as np
import pytest

from rapport.monitoring import AllianceSeries, EpisodeHistory, ExpectedTrajectories
from rapport.monitoring.variability import fit_prior, resolution_of


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
