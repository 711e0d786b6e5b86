"""The functions the portal calls: a client reaches only their own goals."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django_scopes import scope

from rapport.audit.models import AuditEvent
from rapport.goals import services
from rapport.goals.models import Goal, GoalEvent, Side
from tests.goals.conftest import rate


def test_client_sees_own_goals_with_progress_and_milestones(in_org):
    p = in_org
    goal = services.propose_goal(p.episode, "Sleep better", side=Side.THERAPIST, user=p.therapist)
    services.agree_goal_as_client(p.client, goal.code)
    services.propose_goal(p.colleague_episode, "Not yours", side=Side.THERAPIST, user=p.colleague)
    rate(p.episode, {goal.code: 3}, session=p.session)
    rate(p.episode, {goal.code: 7}, at=p.session.scheduled_at + timedelta(days=7))
    mine = services.goals_for_client(p.client)
    assert [g.title for g in mine] == ["Sleep better"]
    assert mine[0].progress[-1][1] == 7
    assert len(mine[0].milestones) == 2 and "Sleep better" in mine[0].milestones[0][1]
    assert not mine[0].waiting_for_client
    audit = AuditEvent.objects.get(action="goals.client_goals.viewed")
    assert audit.actor_label == f"client:{p.client.code}" and audit.client_code == p.client.code


def test_closing_reason_is_not_shown_to_the_client(in_org):
    p = in_org
    goal = services.propose_goal(p.episode, "Sleep", side=Side.THERAPIST, user=p.therapist)
    services.close_goal(goal, achieved=False, reason="Staff-only reason")
    shown = services.goals_for_client(p.client)[0]
    assert "Staff-only reason" not in repr(shown)
    assert shown.status_label == "Closed"


def test_client_cannot_agree_to_another_clients_goal(in_org):
    p = in_org
    theirs = services.propose_goal(p.colleague_episode, "X", side=Side.THERAPIST, user=p.colleague)
    with pytest.raises(services.GoalNotFound):
        services.agree_goal_as_client(p.client, theirs.code)
    with pytest.raises(services.GoalNotFound):
        services.agree_goal_as_client(p.client, uuid.uuid4())
    with pytest.raises(services.GoalNotFound):
        services.agree_goal_as_client(p.client, "not-a-code")
    assert Goal.objects.get(pk=theirs.pk).client_agreed_at is None


def test_client_cannot_propose_in_another_clients_episode(in_org):
    p = in_org
    with pytest.raises(services.GoalNotFound):
        services.propose_goal_as_client(p.client, p.colleague_episode, "Sneaky")
    with pytest.raises(services.GoalNotFound):
        services.propose_goal_as_client(p.client, p.colleague_episode.code, "Sneaky")
    assert not Goal.objects.exists()


def test_client_of_another_practice_reaches_nothing(practice, other_practice):
    with scope(organisation=[practice.org]):
        goal = services.propose_goal(practice.episode, "Mine", side=Side.THERAPIST,
                                     user=practice.therapist)
    with scope(organisation=[other_practice.org]):
        assert services.goals_for_client(other_practice.client) == []
        with pytest.raises(services.GoalNotFound):
            services.agree_goal_as_client(other_practice.client, goal.code)


def test_goal_text_is_encrypted_at_rest(in_org):
    p = in_org
    goal = services.propose_goal(p.episode, "Plaintext title", "Plaintext description",
                                 side=Side.THERAPIST, user=p.therapist)
    goal = services.revise_goal(goal, "Plaintext new", side=Side.THERAPIST, user=p.therapist)
    services.close_goal(goal, achieved=False, reason="Plaintext reason")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT title, description, closed_reason FROM {Goal._meta.db_table}")
        row = cursor.fetchone()
        cursor.execute(f"SELECT text_before, text_after FROM {GoalEvent._meta.db_table} "
                       "WHERE text_before <> '' OR text_after <> ''")
        events = cursor.fetchall()
    values = [*row, *(v for e in events for v in e)]
    assert values and all(v == "" or v.startswith("gAAAA") for v in values)
    assert not any("Plaintext" in v for v in values)
