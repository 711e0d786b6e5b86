"""The matched false-alarm comparison: a tiny cohort whose curve is known by hand."""

import pytest

from rapport.monitoring import thresholds as th
from rapport.monitoring.evaluation import COMPONENTS, Truth
from rapport.monitoring.evaluation_matched import (
    Matched,
    matched_table,
    sensitivity_at,
    strictness,
    sweep,
)
from rapport.monitoring.records import AllianceSeries, EpisodeHistory

SESSIONS = tuple(range(1, 9))


def _client(name: str, low_from: int | None, low_to: int = 0) -> EpisodeHistory:
    """Every item 8 (total 80), and every item 7 (total 70) from `low_from` to `low_to`."""
    items = [7.0 if low_from is not None and low_from <= s <= low_to else 8.0 for s in SESSIONS]
    return EpisodeHistory(name, alliance=(AllianceSeries(
        "relationship-checkin", SESSIONS, tuple(x * 10 for x in items),
        {c: tuple(items) for c in COMPONENTS}, component_max=10.0),))


def _cohort():
    # With the constants a steady client's SD is the 5-point floor, so a 10-point drop spread
    # evenly over the items (component drop distance 3.1, under the 3.8 line) is a rupture when
    # the 2 SD line is at most 10 points (k <= 1) and only a notice at k = 1.2.
    # 6 steady clients, 2 with a one-session wobble at session 6 (not a rupture: false alarms
    # when flagged), 2 with a true rupture from session 6 to the end.
    episodes = [_client(f"steady{i}", None) for i in range(6)]
    episodes += [_client(f"wobble{i}", 6, 6) for i in range(2)]
    episodes += [_client(f"rupture{i}", 6, 8) for i in range(2)]
    truths = [Truth("", "", None, None, False, 8)] * 8 + [Truth("", "", 6, None, False, 8)] * 2
    return episodes, truths


def test_sweep_on_a_cohort_with_a_known_curve():
    episodes, truths = _cohort()
    curve = sweep(episodes, truths, None, 4, ks=(0.8, 1.2))
    # Stable sessions from session 4: 8 clients x 5 sessions + 2 ruptured clients x 2 (4, 5).
    stable = 8 * 5 + 2 * 2
    assert curve[0] == (0.8, pytest.approx(2 / stable), 1.0)  # both wobbles and both ruptures
    assert curve[1] == (1.2, 0.0, 0.0)  # neither: each is a 1 SD notice only
    points = [(fa, sens) for _, fa, sens in curve]
    # Halfway along the segment from (0, 0) to (2/44, 1), by linear interpolation.
    assert sensitivity_at(points, 1 / stable) == pytest.approx(0.5)
    assert sensitivity_at(points, 0.02) == pytest.approx(0.02 * stable / 2)
    # Past the measured range: not extrapolated.
    assert sensitivity_at(points, 0.05) is None


def test_strictness_scales_every_line_and_restores_them():
    saved = th.DIP_SD, th.RUPTURE_SD, th.COMPONENT_DISTANCE
    with pytest.raises(RuntimeError), strictness(1.5):
        assert (th.DIP_SD, th.RUPTURE_SD, th.COMPONENT_DISTANCE) == pytest.approx(
            tuple(1.5 * v for v in saved))
        raise RuntimeError
    assert (th.DIP_SD, th.RUPTURE_SD, th.COMPONENT_DISTANCE) == saved


def test_sensitivity_at_reads_the_upper_envelope():
    # A dip in a noisy curve (0.7 at 3%) does not lower the reading past a better point.
    points = [(0.01, 0.5), (0.02, 0.8), (0.03, 0.7), (0.04, 0.9)]
    assert sensitivity_at(points, 0.03) == pytest.approx(0.8)
    assert sensitivity_at(points, 0.035) == pytest.approx(0.85)
    assert sensitivity_at(points, 0.005) is None
    assert sensitivity_at([], 0.02) is None


def test_table_prints_missing_levels_as_dashes():
    table = matched_table([Matched("today", "constants", (0.048, 0.928), (None, 0.9, 0.91, 0.92))])
    assert "| today | constants | 0.928 / 0.0480 | - | 0.900 | 0.910 | 0.920 |" in table
