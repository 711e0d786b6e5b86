"""Goal agreement, revision and closing through the services, with the history they leave."""

from __future__ import annotations

import json

import pytest

from rapport.audit.models import AuditEvent
from rapport.care.models import EpisodeStatus
from rapport.goals import services
from rapport.goals.models import EventKind, Goal, GoalEvent, GoalEventError, GoalStatus, Side


def kinds(goal):
    return [(e.kind, e.side) for e in goal.events.order_by("at", "id")]


def test_therapist_proposal_waits_for_the_client_then_becomes_active(in_org):
    p = in_org
    goal = services.propose_goal(p.episode, "Sleep through most nights", "Five nights a week",
                                 side=Side.THERAPIST, user=p.therapist)
    assert goal.status == GoalStatus.PROPOSED
    assert goal.therapist_agreed_at is not None and goal.therapist_agreed_by == p.therapist
    assert goal.client_agreed_at is None
    assert goal.waiting_for == Side.CLIENT

    goal = services.agree_goal_as_client(p.client, goal.code)
    assert goal.status == GoalStatus.ACTIVE
    assert goal.client_agreed_at >= goal.therapist_agreed_at
    assert goal.waiting_for is None
    assert kinds(goal) == [
        (EventKind.PROPOSED, Side.THERAPIST), (EventKind.AGREED, Side.THERAPIST),
        (EventKind.AGREED, Side.CLIENT), (EventKind.ACTIVATED, ""),
    ]


def test_client_proposal_waits_for_the_therapist(in_org):
    p = in_org
    goal = services.propose_goal_as_client(p.client, p.episode, "Call my sister again")
    assert goal.proposed_by == Side.CLIENT and goal.proposed_by_user is None
    assert goal.status == GoalStatus.PROPOSED and goal.waiting_for == Side.THERAPIST
    goal = services.agree_goal(goal, side=Side.THERAPIST, user=p.therapist)
    assert goal.status == GoalStatus.ACTIVE
    assert goal.therapist_agreed_by == p.therapist


def test_agreeing_twice_adds_nothing(in_org):
    p = in_org
    goal = services.propose_goal_as_client(p.client, p.episode.code, "Walk daily")
    before = goal.events.count()
    services.agree_goal_as_client(p.client, goal.code)
    assert goal.events.count() == before
    assert Goal.objects.get(pk=goal.pk).status == GoalStatus.PROPOSED


@pytest.mark.parametrize("title", ["", "   ", "x" * 201])
def test_bad_titles_are_refused_and_nothing_is_stored(in_org, title):
    with pytest.raises(services.GoalError):
        services.propose_goal(in_org.episode, title, side=Side.THERAPIST, user=in_org.therapist)
    assert not Goal.objects.exists()


def test_no_new_goals_after_the_episode_ended(in_org):
    p = in_org
    p.episode.status = EpisodeStatus.COMPLETED
    p.episode.save()
    with pytest.raises(services.GoalError, match="under way"):
        services.propose_goal_as_client(p.client, p.episode, "Anything")


def _active(p, title="Feel less tense at work"):
    goal = services.propose_goal(p.episode, title, side=Side.THERAPIST, user=p.therapist)
    return services.agree_goal_as_client(p.client, goal.code)


def test_revision_keeps_old_and_new_wording_and_asks_the_client_again(in_org):
    p = in_org
    goal = _active(p)
    goal = services.revise_goal(goal, "Feel calm in team meetings", "Most weeks",
                                side=Side.THERAPIST, user=p.therapist)
    assert goal.status == GoalStatus.REVISED
    assert goal.client_agreed_at is None and goal.therapist_agreed_at is not None
    assert goal.is_rated  # still rated while the wording is agreed
    revised = goal.events.get(kind=EventKind.REVISED)
    assert json.loads(revised.text_before) == {"title": "Feel less tense at work", "description": ""}
    assert json.loads(revised.text_after) == {"title": "Feel calm in team meetings",
                                              "description": "Most weeks"}
    goal = services.agree_goal_as_client(p.client, goal.code)
    assert goal.status == GoalStatus.ACTIVE
    assert goal.events.filter(kind=EventKind.ACTIVATED).count() == 2


def test_revising_a_proposal_keeps_it_proposed(in_org):
    p = in_org
    goal = services.propose_goal_as_client(p.client, p.episode, "Run")
    goal = services.revise_goal(goal, "Run twice a week", side=Side.THERAPIST, user=p.therapist)
    assert goal.status == GoalStatus.PROPOSED
    assert goal.waiting_for == Side.CLIENT  # the client agrees to the therapist's new wording


def test_unchanged_revision_is_refused(in_org):
    goal = _active(in_org, "Same")
    with pytest.raises(services.GoalError, match="unchanged"):
        services.revise_goal(goal, "Same", side=Side.THERAPIST, user=in_org.therapist)
    assert not goal.events.filter(kind=EventKind.REVISED).exists()


def test_closing_needs_a_reason_unless_achieved(in_org):
    p = in_org
    goal = _active(p)
    with pytest.raises(services.GoalError, match="reason"):
        services.close_goal(goal, achieved=False, reason=" ")
    assert Goal.objects.get(pk=goal.pk).status == GoalStatus.ACTIVE
    goal = services.close_goal(goal, achieved=False, reason="No longer a priority", user=p.therapist)
    assert goal.status == GoalStatus.CLOSED and goal.closed_reason == "No longer a priority"
    assert goal.events.get(kind=EventKind.CLOSED).text_after == "No longer a priority"
    with pytest.raises(services.GoalError, match="already closed"):
        services.close_goal(goal, achieved=True)
    with pytest.raises(services.GoalError, match="closed"):
        services.agree_goal_as_client(p.client, goal.code)
    with pytest.raises(services.GoalError, match="closed"):
        services.revise_goal(goal, "Another", side=Side.THERAPIST, user=p.therapist)


def test_achieved_goal_is_no_longer_rated(in_org):
    goal = services.close_goal(_active(in_org), achieved=True)
    assert goal.status == GoalStatus.ACHIEVED and not goal.is_rated and not goal.is_open


def test_history_is_append_only(in_org):
    goal = _active(in_org)
    event = goal.events.first()
    event.kind = EventKind.CLOSED
    with pytest.raises(GoalEventError):
        event.save()
    with pytest.raises(GoalEventError):
        GoalEvent.objects.get(pk=event.pk).delete()


def test_every_write_is_audited_without_goal_text(in_org):
    p = in_org
    goal = services.propose_goal(p.episode, "Secret wording", side=Side.THERAPIST, user=p.therapist)
    services.agree_goal_as_client(p.client, goal.code)
    services.revise_goal(goal, "Secret wording two", side=Side.THERAPIST, user=p.therapist)
    services.close_goal(goal, achieved=False, reason="Secret reason")
    events = list(AuditEvent.objects.filter(object_code=str(goal.code)).order_by("id"))
    assert [e.action for e in events] == [
        "goals.goal.proposed", "goals.goal.agreed", "goals.goal.revised", "goals.goal.closed",
    ]
    assert events[1].actor_label == f"client:{p.client.code}"
    assert all(e.client_code == p.client.code for e in events)
    assert "Secret" not in json.dumps([e.detail for e in events])
