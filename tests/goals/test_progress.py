"""Progress read from goal-progress responses, milestones, and the prompt to revisit goals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from rapport.audit.models import AuditEvent
from rapport.care.models import Attendance
from rapport.checkins.models import Respondent, Response
from rapport.goals import progress, services
from rapport.goals.models import EventKind, GoalEvent, Side
from tests.goals.conftest import add_sessions, rate


def _active(p, title, at=None):
    goal = services.propose_goal(p.episode, title, side=Side.THERAPIST, user=p.therapist, at=at)
    return services.agree_goal_as_client(p.client, goal.code, request=None) if at is None else \
        services.agree_goal(goal, side=Side.CLIENT, at=at)


def test_progress_lists_each_goals_ratings_in_order(in_org):
    p = in_org
    a, b = _active(p, "A"), _active(p, "B")
    sessions = add_sessions(p.episode, 3)
    for s, (ra, rb) in zip(sessions, [(2, 5), (3, 5), (6, 4)], strict=True):
        rate(p.episode, {a.code: ra, b.code: rb}, session=s)
    got = progress.goal_progress(p.episode)
    assert [pt.rating for pt in got[str(a.code)]] == [2, 3, 6]
    assert [pt.rating for pt in got[str(b.code)]] == [5, 5, 4]
    assert [pt.session for pt in got[str(a.code)]] == sessions


def test_superseded_ratings_and_unknown_goals_are_ignored(in_org):
    p = in_org
    goal = _active(p, "A")
    old = rate(p.episode, {goal.code: 1, "not-a-goal": 9}, session=p.session)
    Response.objects.create(
        organisation=p.org, episode=p.episode, session=p.session, instrument_id="goal-progress",
        instrument_version="1", respondent=Respondent.CLIENT, answers={str(goal.code): 4},
        supersedes=old,
    )
    got = progress.goal_progress(p.episode)
    assert [pt.rating for pt in got[str(goal.code)]] == [4]
    assert "not-a-goal" not in got


def test_ratings_of_another_episode_do_not_leak(in_org):
    p = in_org
    goal = _active(p, "A")
    rate(p.colleague_episode, {goal.code: 9}, session=p.colleague_session)
    assert progress.goal_progress(p.episode)[str(goal.code)] == []


def test_unrated_goal_has_an_empty_series(in_org):
    goal = _active(in_org, "A")
    assert progress.goal_progress(in_org.episode) == {str(goal.code): []}


@pytest.mark.parametrize(
    ("ratings", "expected"),
    [
        ([2, 3, 4], []),
        ([2, 4, 5], ["rise"]),  # +3 from the first rating
        ([5, 6, 7], ["first-high"]),  # a first 7 (only +2)
        ([3, 7], ["first-high", "rise"]),
        ([8, 9, 10], []),  # already high at the start, +2: nothing new to notice
        ([], []),
    ],
)
def test_milestone_rules(ratings, expected):
    from datetime import UTC, datetime

    points = [progress.ProgressPoint(None, datetime(2026, 1, n + 1, tzinfo=UTC), r)
              for n, r in enumerate(ratings)]
    assert [k for k, _, _ in progress.milestones_reached("Sleep", points)] == expected


def test_milestones_are_noticed_once_when_ratings_are_stored(in_org):
    p = in_org
    goal = _active(p, "Sleep better")
    s1, s2, s3 = add_sessions(p.episode, 3)
    rate(p.episode, {goal.code: 3}, session=s1)
    assert not GoalEvent.objects.filter(kind=EventKind.MILESTONE).exists()
    rate(p.episode, {goal.code: 7}, session=s2)
    rate(p.episode, {goal.code: 8}, session=s3)
    milestones = list(goal.events.filter(kind=EventKind.MILESTONE).order_by("key"))
    assert [m.key for m in milestones] == ["first-high", "rise"]
    assert all(m.session == s2 for m in milestones)
    assert "Sleep better" in milestones[0].text_after and "7" in milestones[0].text_after
    assert "from 3 to 7" in milestones[1].text_after
    assert AuditEvent.objects.filter(action="goals.milestone.noticed").count() == 2
    # Noticing again finds nothing new.
    assert progress.notice_milestones(p.episode) == []


def test_closed_goals_get_no_milestones(in_org):
    p = in_org
    goal = _active(p, "A")
    services.close_goal(goal, achieved=False, reason="Changed focus")
    rate(p.episode, {goal.code: 2}, session=p.session)
    rate(p.episode, {goal.code: 9}, at=p.session.scheduled_at + timedelta(days=8))
    assert not goal.events.filter(kind=EventKind.MILESTONE).exists()


def test_therapist_acknowledges_a_milestone_once(in_org):
    p = in_org
    goal = _active(p, "A")
    rate(p.episode, {goal.code: 2}, session=p.session)
    rate(p.episode, {goal.code: 6}, at=p.session.scheduled_at + timedelta(days=7))
    milestone = goal.events.get(kind=EventKind.MILESTONE)
    first = services.acknowledge_milestone(milestone, user=p.therapist)
    again = services.acknowledge_milestone(milestone, user=p.therapist)
    assert first.pk == again.pk and first.key == "rise"
    with pytest.raises(services.GoalError):
        services.acknowledge_milestone(goal.events.get(kind=EventKind.PROPOSED))


# -- revisiting --------------------------------------------------------------------------------


def test_no_prompt_without_agreed_goals(in_org):
    p = in_org
    add_sessions(p.episode, 6)
    services.propose_goal(p.episode, "Only proposed", side=Side.THERAPIST, user=p.therapist)
    assert progress.revisit_due(p.episode) == []


def test_prompt_after_four_attended_sessions_since_the_last_revisit(in_org):
    p = in_org
    start = p.session.scheduled_at
    _active(p, "A", at=start)
    add_sessions(p.episode, 3, start=start + timedelta(weeks=1))
    assert progress.revisit_due(p.episode) == []
    add_sessions(p.episode, 2, attendance=Attendance.NO_SHOW)  # missed sessions do not count
    assert progress.revisit_due(p.episode) == []
    add_sessions(p.episode, 1)
    reasons = progress.revisit_due(p.episode)
    assert reasons == ["4 sessions attended since the goals were last revisited."]
    services.mark_revisited(p.episode, user=p.therapist, at=start + timedelta(weeks=6, days=1))
    assert progress.revisit_due(p.episode) == []


def test_prompt_when_a_goal_has_not_risen_over_three_ratings(in_org):
    p = in_org
    start = p.session.scheduled_at - timedelta(days=1)
    goal = _active(p, "Feel rested", at=start)
    for n, r in enumerate([4, 5, 5]):
        rate(p.episode, {goal.code: r}, at=start + timedelta(days=1 + n))
    assert progress.revisit_due(p.episode) == []  # 5 and 5 rose above the first, 4
    rate(p.episode, {goal.code: 4}, at=start + timedelta(days=5))
    reasons = progress.revisit_due(p.episode)
    assert reasons == ["“Feel rested” has not risen over its last 3 ratings (5, 5, 4)."]
    # After revisiting, three new ratings are needed before the prompt comes back.
    services.mark_revisited(p.episode, user=p.therapist, at=start + timedelta(days=6))
    rate(p.episode, {goal.code: 4}, at=start + timedelta(days=7))
    assert progress.revisit_due(p.episode) == []


def test_no_prompt_for_an_ended_episode(in_org):
    p = in_org
    goal = _active(p, "A", at=p.session.scheduled_at - timedelta(days=1))
    for n in range(3):
        rate(p.episode, {goal.code: 5}, at=p.session.scheduled_at + timedelta(days=n))
    assert progress.revisit_due(p.episode)
    p.episode.status = "completed"
    p.episode.save()
    assert progress.revisit_due(p.episode) == []


def test_rated_goals_feed_the_goal_progress_instrument(in_org):
    from rapport import instruments

    p = in_org
    active = _active(p, "Active one")
    services.propose_goal(p.episode, "Proposed one", side=Side.THERAPIST, user=p.therapist)
    goals = progress.rated_goals(p.episode)
    assert goals == {str(active.code): "Active one"}
    instrument = instruments.goal_progress(goals)
    assert [i.link_id for i in instrument.items] == [str(active.code)]
    assert instrument.score({str(active.code): 6}).complete
