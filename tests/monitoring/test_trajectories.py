import math

import numpy as np

from rapport.monitoring import (
    EpisodeHistory,
    ExpectedTrajectories,
    OutcomeSeries,
    analyze_episode,
    default_model,
)
from rapport.monitoring import thresholds as th
from tests.monitoring.helpers import PHQ9, kinds, phq


def test_default_model_is_one_reliable_change_by_session_8():
    m = default_model("phq9", PHQ9)
    assert m is not None and not m.fitted
    e8, sd8 = m.expected(18, 8)
    assert math.isclose(e8, 12)
    e1, _ = m.expected(18, 1)
    assert e1 == 18
    sd2 = m.expected(18, 2)[1]
    assert math.isclose(sd2, math.sqrt((6 / 1.96) ** 2 + (2 * math.log(2)) ** 2))
    assert sd8 > sd2


def test_no_default_without_reliable_change():
    from rapport.monitoring import Scale

    assert default_model("x", Scale()) is None


def _score_at(z: float, session: int = 4, intake: float = 18) -> float:
    m = default_model("phq9", PHQ9)
    assert m is not None
    e, sd = m.expected(intake, session)
    return e + z * sd


def test_not_on_track_warning_just_above_the_band_and_not_at_it():
    below = analyze_episode(phq([18, 16, 15, _score_at(th.ETR_WARNING_Z - 0.01)]))
    assert not kinds(below, "not_on_track")
    above = analyze_episode(phq([18, 16, 15, _score_at(th.ETR_WARNING_Z + 0.01)]))
    (f,) = kinds(above, "not_on_track")
    assert (f.session, f.severity, f.evidence["level"]) == (4, "warning", "warning")
    assert f.evidence["model"] == "default"


def test_not_on_track_strong_level_is_urgent():
    found = analyze_episode(phq([18, 16, 15, _score_at(th.ETR_STRONG_Z + 0.01)]))
    (f,) = kinds(found, "not_on_track")
    assert f.severity == "urgent" and f.evidence["strong_since"] == 4


def test_higher_is_better_not_on_track_is_below_expected():
    from rapport.monitoring import Scale

    who = Scale(higher_is_better=True, reliable_change=10, cutoff=13)
    ep = EpisodeHistory("e", outcomes=(OutcomeSeries.of("who5", {1: 8, 2: 8, 3: 2}, who),))
    assert kinds(analyze_episode(ep), "not_on_track")
    ep = EpisodeHistory("e", outcomes=(OutcomeSeries.of("who5", {1: 8, 2: 14, 3: 20}, who),))
    assert not kinds(analyze_episode(ep), "not_on_track")


def test_no_alarm_in_the_normal_range_at_and_around_the_cutoff():
    """A mild client (PHQ-9 9) who does not improve: off the expected curve, but not a case."""
    import dataclasses

    def nott(scale, scores):
        ep = EpisodeHistory("e", outcomes=(OutcomeSeries.of("phq9", dict(enumerate(scores, 1)), scale),))
        return kinds(analyze_episode(ep), "not_on_track")

    flat = [9] * 7
    # Without a cutoff the flat course is off track from session 5 ...
    (f,) = nott(dataclasses.replace(PHQ9, cutoff=None), [*flat, 9])
    assert f.session == 5
    # ... with PHQ-9's caseness cutoff (10) it is not, until a session reaches the cutoff.
    assert nott(PHQ9, [*flat, 9]) == []
    (g,) = nott(PHQ9, [*flat, 10])
    assert (g.session, g.evidence["score"]) == (8, 10)


def _cohort(n: int, seed: int = 0) -> list[EpisodeHistory]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        intake = float(rng.uniform(10, 27))
        slope = -0.2 * intake + rng.normal(0, 1)
        pts = {s: intake + slope * math.log(s) + rng.normal(0, 2) for s in range(1, 11)}
        pts[1] = intake
        out.append(EpisodeHistory(str(i), outcomes=(OutcomeSeries.of("phq9", pts, PHQ9),)))
    return out


def test_fitting_needs_50_episodes_per_band():
    assert "phq9" not in ExpectedTrajectories.fit(_cohort(49)).models
    m = ExpectedTrajectories.fit(_cohort(50)).models["phq9"]
    assert m.fitted and len(m.bands) == 1
    assert len(ExpectedTrajectories.fit(_cohort(149)).models["phq9"].bands) == 2
    assert len(ExpectedTrajectories.fit(_cohort(400)).models["phq9"].bands) == 3


def test_fitted_model_recovers_intake_dependent_slope():
    m = ExpectedTrajectories.fit(_cohort(600)).models["phq9"]
    # Generated: change = -0.2 * intake * log(s); a severe intake improves faster.
    e_mild, _ = m.expected(12, 8)
    e_severe, _ = m.expected(24, 8)
    assert math.isclose(e_mild, 12 - 0.2 * 12 * math.log(8), abs_tol=0.6)
    assert math.isclose(e_severe, 24 - 0.2 * 24 * math.log(8), abs_tol=0.6)
    _, sd = m.expected(18, 8)
    assert 1.5 < sd < 4


def test_fitted_model_is_used_and_reported():
    traj = ExpectedTrajectories.fit(_cohort(200))
    found = analyze_episode(phq([20, 24, 26, 27]), trajectories=traj)
    (f,) = kinds(found, "not_on_track")
    assert f.evidence["model"] == "fitted"
    assert traj.models["phq9"].to_dict()["fitted"] is True


def test_reliable_deterioration_at_exactly_the_reliable_change():
    assert not kinds(analyze_episode(phq([15, 20])), "reliable_deterioration")
    (f,) = kinds(analyze_episode(phq([15, 21])), "reliable_deterioration")
    assert f.session == 2 and f.evidence["change"] == 6 and f.ongoing


def test_one_better_score_does_not_split_a_run():
    found = kinds(analyze_episode(phq([10, 17, 15, 18, 19])), "reliable_deterioration")
    assert [(f.session, f.through, f.ongoing) for f in found] == [(2, 5, True)]
    found = kinds(analyze_episode(phq([10, 17, 15, 14, 18])), "reliable_deterioration")
    assert [(f.session, f.through) for f in found] == [(2, 2), (5, 5)]
