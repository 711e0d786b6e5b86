from datetime import date

import pytest

from rapport.monitoring import (
    AllianceSeries,
    Attendance,
    CheckIn,
    EpisodeHistory,
    GoalRating,
    RiskFlag,
    analyze_episode,
    dropout_risk,
)
from rapport.monitoring import thresholds as th
from tests.monitoring.helpers import kinds


def _pair(client: dict[int, float], therapist: dict[int, float], **kw) -> EpisodeHistory:
    return EpisodeHistory(
        "e",
        alliance=(
            AllianceSeries.of("relationship-checkin", client),
            AllianceSeries.of("therapist-reflection", therapist, respondent="therapist", **kw),
        ),
    )


def test_discrepancy_at_the_margin_for_the_same_session():
    margin = th.DISCREPANCY_FRACTION * 100
    (f,) = kinds(analyze_episode(_pair({1: 70, 2: 75}, {1: 70 + margin, 3: 99})), "discrepancy")
    assert f.session == 1 and f.severity == "info"
    assert f.evidence["gap"] == margin and f.evidence["client_instrument"] == "relationship-checkin"
    assert not kinds(analyze_episode(_pair({1: 70}, {1: 70 + margin - 0.01})), "discrepancy")
    # Only sessions rated by both count: session 3 has no client rating.
    assert not kinds(analyze_episode(_pair({1: 70}, {2: 99})), "discrepancy")


def test_discrepancy_run_is_one_finding():
    found = kinds(analyze_episode(_pair({1: 60, 2: 60, 3: 60}, {1: 90, 2: 90, 3: 70})),
                  "discrepancy")
    assert [(f.session, f.through, f.ongoing) for f in found] == [(1, 2, False)]


def test_risk_flag_is_urgent_and_grouped_per_response():
    ep = EpisodeHistory(
        "e",
        risk_flags=(RiskFlag(2, "phq9", "risk:phq9-9"), RiskFlag(2, "phq9", "risk:phq9-9"),
                    RiskFlag(3, "cnip", "risk:cnip-1")),
    )
    found = kinds(analyze_episode(ep), "risk")
    assert [(f.session, f.subject, f.severity) for f in found] == [
        (2, "phq9", "urgent"), (3, "cnip", "urgent")]
    assert found[0].evidence["flags"] == ["risk:phq9-9"]
    assert found[1].ongoing and not found[0].ongoing


def _attend(*statuses: tuple[str, bool]) -> tuple[Attendance, ...]:
    return tuple(Attendance(date(2025, 1, 1 + i), s, late) for i, (s, late) in enumerate(statuses))


def test_dropout_base_rate_and_single_reason_below_warning():
    assert dropout_risk(EpisodeHistory("e")).probability == pytest.approx(0.2)
    one = dropout_risk(EpisodeHistory("e", attendance=_attend(("no_show", False))))
    assert one.probability == pytest.approx(1 / 3) and not one.warning


def test_dropout_two_no_shows_warn_with_reasons():
    ep = EpisodeHistory("e", attendance=_attend(("no_show", False), ("no_show", False),
                                                ("no_show", False)))
    risk = dropout_risk(ep)
    assert risk.probability == pytest.approx(0.5)  # capped at two events
    (f,) = kinds(analyze_episode(ep), "dropout_risk")
    assert f.key == "dropout_risk:" and f.evidence["reasons"][0]["code"] == "no_show"


def test_dropout_low_early_alliance_and_unrepaired_rupture():
    ep = EpisodeHistory(
        "e",
        alliance=(AllianceSeries.of("relationship-checkin", {1: 60, 2: 60, 3: 60}),),
        attendance=_attend(("cancelled_client", True), ("cancelled_client", False)),
    )
    risk = dropout_risk(ep)
    codes = [r.code for r in risk.reasons]
    assert codes == ["late_cancellation", "low_early_alliance"]
    assert risk.reasons[1].log_odds == pytest.approx(0.55 * 3.14159265 / 3**0.5)
    ep2 = EpisodeHistory(
        "e", alliance=(AllianceSeries.of("relationship-checkin", {1: 60.01, 2: 60.01, 3: 60.01}),)
    )
    assert not dropout_risk(ep2).reasons
    # An unrepaired rupture is a reason; found by analyze_episode.
    ep3 = EpisodeHistory(
        "e",
        alliance=(AllianceSeries.of("relationship-checkin", {1: 90, 2: 90, 3: 90, 4: 65}),),
        checkins=(CheckIn(1, True), CheckIn(2, False), CheckIn(3, False), CheckIn(4, True)),
    )
    (f,) = kinds(analyze_episode(ep3), "dropout_risk")
    assert [r["code"] for r in f.evidence["reasons"]] == ["missed_checkins", "unrepaired_rupture"]


def _goals(ratings: list[float], **kw) -> EpisodeHistory:
    return EpisodeHistory(
        "e", goals=tuple(GoalRating("sleep", s, r, **kw) for s, r in enumerate(ratings, 1))
    )


def test_goal_stagnation_over_four_ratings():
    (f,) = kinds(analyze_episode(_goals([3, 3, 3, 3])), "goal_stagnation")
    assert (f.session, f.subject, f.ongoing) == (4, "sleep", True)
    assert not kinds(analyze_episode(_goals([3, 3, 3])), "goal_stagnation")
    assert not kinds(analyze_episode(_goals([3, 3, 3, 4])), "goal_stagnation")  # one step: progress
    assert kinds(analyze_episode(_goals([3, 3, 3, 3.99])), "goal_stagnation")
    assert not kinds(analyze_episode(_goals([9, 9, 9, 9])), "goal_stagnation")  # achieved


def test_goal_stagnation_ends_when_progress_resumes():
    (f,) = kinds(analyze_episode(_goals([3, 3, 3, 3, 3, 6, 7, 8])), "goal_stagnation")
    assert (f.session, f.through, f.ongoing) == (4, 5, False)
