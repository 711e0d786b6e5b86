"""A finding's evidence carries the client's own numbers, and `explain.why` words them."""

from __future__ import annotations

from rapport.monitoring import AllianceSeries, EpisodeHistory, ExpectedTrajectories, analyze_episode
from rapport.monitoring.explain import why
from rapport.monitoring.variability import VariabilityPrior

STEADY = {1: 95.7, 2: 97.1, 3: 95.7, 4: 97.1, 6: 95.7, 7: 88.6}  # session 5 not rated


def _rupture(prior):
    traj = ExpectedTrajectories(alliance={"relationship-checkin": prior} if prior else {})
    ep = EpisodeHistory("e", alliance=(AllianceSeries.of("relationship-checkin", STEADY),))
    return [f for f in analyze_episode(ep, trajectories=traj) if f.kind in ("rupture",
                                                                          "alliance_dip")]


def test_rupture_evidence_is_usual_level_spread_this_session_and_the_line_crossed():
    prior = VariabilityPrior(sd=1.5, weight=4.0, resolution=10 / 7, episodes=300)
    (f,) = _rupture(prior)
    e = f.evidence
    assert f.kind == "rupture" and f.session == 7
    assert e["score"] == 88.6 and e["usual"] == 96.26 and e["earlier_sessions"] == 5
    assert e["rupture_below"] == round(e["usual"] - max(2 * e["sd"], 4 * 10 / 7), 2)
    assert e["score"] <= e["rupture_below"]
    assert e["min_drop"] == 5.71 and e["sd_prior"]["fitted"] is True
    assert (e["previous_rated_session"], e["unrated_sessions_before"]) == (6, 0)
    assert why(f.kind, e) == (
        f"This session 88.6; usual level 96.26, spread {e['sd']:g} over 5 earlier sessions; "
        f"{e['rupture_below']:g} or lower is a rupture."
    )


def test_with_the_constants_the_same_drop_is_only_a_notice_and_says_so():
    (f,) = _rupture(None)
    assert f.kind == "alliance_dip" and f.evidence["sd_prior"]["fitted"] is False
    assert f.evidence["score"] > f.evidence["rupture_below"]
    assert "or lower is a notice" in (why(f.kind, f.evidence) or "")


def test_gap_before_a_rated_session_is_in_the_evidence():
    prior = VariabilityPrior(sd=1.5, weight=4.0, resolution=10 / 7, episodes=300)
    ep = EpisodeHistory("e", alliance=(AllianceSeries.of(
        "relationship-checkin", {1: 95.7, 2: 97.1, 3: 95.7, 4: 97.1, 8: 85.7}),))
    traj = ExpectedTrajectories(alliance={"relationship-checkin": prior})
    (f,) = [f for f in analyze_episode(ep, trajectories=traj) if f.kind == "rupture"]
    assert (f.evidence["previous_rated_session"], f.evidence["unrated_sessions_before"]) == (4, 3)


def test_why_is_none_for_evidence_without_the_numbers():
    assert why("risk", {"flags": ["phq9-9"]}) is None
    assert why("rupture", {"score": 80}) is None
