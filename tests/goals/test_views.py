"""The staff goal pages: who reaches them, who writes, what they show, and the audit trail."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from rapport.audit.models import AuditEvent
from rapport.goals import services
from rapport.goals.models import EventKind, Goal, GoalStatus, Side
from tests.conftest import login


def _goal(p, episode=None, therapist=None, title="Sleep through most nights"):
    with scope(organisation=[p.org]):
        return services.propose_goal(episode or p.episode, title, side=Side.THERAPIST,
                                     user=therapist or p.therapist)


@pytest.fixture
def goals(practice):
    return _goal(practice), _goal(practice, practice.colleague_episode, practice.colleague,
                                  title="Colleague's client goal")


def _url(name, obj):
    return reverse(name, args=[obj.code])


@pytest.mark.parametrize("page", ["goals-episode", "goals-goal"])
@pytest.mark.parametrize(
    ("who", "own", "expected"),
    [
        ("therapist", True, 200), ("therapist", False, 404),
        ("colleague", True, 404), ("colleague", False, 200),
        ("supervisor", True, 200), ("supervisor", False, 404),
        ("admin", True, 404), ("admin", False, 404),  # administers, reads no goal text
    ],
)
def test_access_within_a_practice(client, practice, goals, page, who, own, expected):
    goal = goals[0] if own else goals[1]
    target = goal.episode if page == "goals-episode" else goal
    login(client, getattr(practice, who))
    response = client.get(_url(page, target))
    assert response.status_code == expected
    if expected == 404:
        assert goal.title not in response.content.decode()


@pytest.mark.parametrize("who", ["admin", "supervisor", "therapist", "colleague"])
def test_nobody_reaches_another_practice(client, practice, other_practice, who):
    theirs = _goal(other_practice)
    login(client, getattr(practice, who))
    assert client.get(_url("goals-goal", theirs)).status_code == 404
    assert client.get(_url("goals-episode", theirs.episode)).status_code == 404
    response = client.post(_url("goals-goal", theirs), {"action": "agree"})
    assert response.status_code == 404


def test_anonymous_is_sent_to_login(client, goals):
    response = client.get(_url("goals-goal", goals[0]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts-login"))


def test_malformed_codes_are_404(client, practice):
    login(client, practice.therapist)
    assert client.get("/goals/not-a-uuid/").status_code == 404
    assert client.get("/goals/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_therapist_proposes_and_the_page_shows_who_agreed_when(web, practice):
    login(web, practice.therapist)
    page = web.get(_url("goals-episode", practice.episode))
    token = page.cookies["csrftoken"].value
    response = web.post(_url("goals-episode", practice.episode),
                        {"action": "propose", "title": "Walk every morning", "description": "",
                         "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    with scopes_disabled():
        goal = Goal.objects.get(episode=practice.episode)
    with scope(organisation=[practice.org]):
        services.agree_goal_as_client(practice.client, goal.code)
    body = web.get(_url("goals-goal", goal)).content.decode()
    assert "Walk every morning" in body
    assert "Agreed and active" in body
    assert "Proposed by the therapist (Therapist)" in body
    assert "Agreed by the client." in body
    assert "Agreed by both: the goal is active." in body


def test_invalid_proposal_keeps_what_was_typed(client, practice):
    login(client, practice.therapist)
    response = client.post(_url("goals-episode", practice.episode),
                           {"action": "propose", "title": "", "description": "Keep me please"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Keep me please" in body and "This field is required." in body
    with scopes_disabled():
        assert not Goal.objects.exists()


def test_therapist_agrees_to_a_client_proposal(client, practice):
    with scope(organisation=[practice.org]):
        goal = services.propose_goal_as_client(practice.client, practice.episode, "See friends")
    login(client, practice.therapist)
    assert "I agree to this goal" in client.get(_url("goals-goal", goal)).content.decode()
    assert client.post(_url("goals-goal", goal), {"action": "agree"}).status_code == 302
    with scopes_disabled():
        goal.refresh_from_db()
    assert goal.status == GoalStatus.ACTIVE and goal.therapist_agreed_by == practice.therapist


def test_revise_and_close_from_the_page_keep_history(client, practice, goals):
    goal = goals[0]
    login(client, practice.therapist)
    response = client.post(_url("goals-goal", goal), {"action": "revise", "title": "Sleep 7 hours",
                                                      "description": "Most nights"})
    assert response.status_code == 302
    response = client.post(_url("goals-goal", goal), {"action": "close", "outcome": "closed",
                                                      "reason": ""})
    assert response.status_code == 400
    assert "Please give a reason" in response.content.decode()
    response = client.post(_url("goals-goal", goal), {"action": "close", "outcome": "closed",
                                                      "reason": "Client chose another focus"})
    assert response.status_code == 302
    body = client.get(_url("goals-goal", goal)).content.decode()
    assert "Before: Sleep through most nights" in body
    assert "After: Sleep 7 hours — Most nights" in body
    assert "Reason: Client chose another focus" in body
    with scopes_disabled():
        assert list(goal.events.values_list("kind", flat=True)) == [
            EventKind.PROPOSED, EventKind.AGREED, EventKind.REVISED, EventKind.CLOSED,
        ]


@pytest.mark.parametrize("action", [
    {"action": "agree"}, {"action": "revise", "title": "x"}, {"action": "close", "outcome": "achieved"},
])
def test_supervisor_reads_but_does_not_write(client, practice, goals, action):
    login(client, practice.supervisor)
    body = client.get(_url("goals-goal", goals[0])).content.decode()
    assert "Sleep through most nights" in body and "Close the goal" not in body
    assert client.post(_url("goals-goal", goals[0]), action).status_code == 403
    assert client.post(_url("goals-episode", practice.episode),
                       {"action": "propose", "title": "x"}).status_code == 403
    with scopes_disabled():
        assert Goal.objects.get(pk=goals[0].pk).events.count() == 2


def test_unknown_action_is_404(client, practice, goals):
    login(client, practice.therapist)
    assert client.post(_url("goals-goal", goals[0]), {"action": "explode"}).status_code == 404


def test_reads_are_audited(client, practice, goals):
    login(client, practice.supervisor)
    client.get(_url("goals-episode", practice.episode))
    client.get(_url("goals-goal", goals[0]))
    actions = set(AuditEvent.objects.filter(actor=practice.supervisor).values_list("action", flat=True))
    assert {"goals.episode_goals.viewed", "goals.goal.viewed"} <= actions


def test_revisit_prompt_and_marking_it(client, practice):
    from datetime import timedelta

    from tests.goals.conftest import rate

    with scope(organisation=[practice.org]):
        at = practice.session.scheduled_at - timedelta(days=1)
        goal = services.propose_goal(practice.episode, "Calm", side=Side.THERAPIST,
                                     user=practice.therapist, at=at)
        services.agree_goal(goal, side=Side.CLIENT, at=at)
        for n in range(3):
            rate(practice.episode, {goal.code: 5}, at=at + timedelta(days=n + 1))
    login(client, practice.therapist)
    body = client.get(_url("goals-episode", practice.episode)).content.decode()
    assert "Time to revisit the goals together" in body
    assert client.post(_url("goals-episode", practice.episode), {"action": "revisited"}).status_code == 302
    body = client.get(_url("goals-episode", practice.episode)).content.decode()
    assert "Time to revisit the goals together" not in body


def test_episode_page_links_goals_only_for_clinical_readers(client, practice):
    login(client, practice.therapist)
    goals_url = _url("goals-episode", practice.episode)
    assert goals_url in client.get(_url("care-episode", practice.episode)).content.decode()
    login(client, practice.admin)
    assert goals_url not in client.get(_url("care-episode", practice.episode)).content.decode()
