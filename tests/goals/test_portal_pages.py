"""The portal pages for goals, summaries and homework, as a logged-in client uses them."""

from __future__ import annotations

import uuid

import pytest
from django.core import mail
from django_scopes import scope, scopes_disabled

from rapport.goals import services
from rapport.goals.models import Goal, GoalStatus, Side
from rapport.notes import services as notes
from rapport.notes.models import Homework


def portal_login(http, practice, client, email):
    with scope(organisation=[practice.org]):
        client.email = email
        client.save()
    mail.outbox.clear()
    http.post("/portal/login/", {"email": email})
    url = next(w for w in mail.outbox[-1].body.split() if "/portal/login/" in w)
    assert http.post(url[url.index("/portal/"):]).status_code == 302
    return http


@pytest.fixture
def me(client, practice):
    return portal_login(client, practice, practice.client, "me@riverside.test")


@pytest.fixture
def world(practice):
    with scope(organisation=[practice.org]):
        mine = services.propose_goal(practice.episode, "Sleep through most nights",
                                     side=Side.THERAPIST, user=practice.therapist)
        theirs = services.propose_goal(practice.colleague_episode, "Someone else's goal",
                                       side=Side.THERAPIST, user=practice.colleague)
        for session, who in ((practice.session, "mine"), (practice.colleague_session, "theirs")):
            notes.save_summary(session, f"Summary {who}", f"Next steps {who}")
            notes.save_private_note(session, f"Private note {who}")
            notes.add_item(session, "homework", f"Homework {who}")
            notes.share(session)
    return mine, theirs


def test_goals_page_shows_own_goals_and_agreeing_activates(me, practice, world):
    mine, theirs = world
    body = me.get("/portal/goals/").content.decode()
    assert "Sleep through most nights" in body and "Someone else" not in body
    assert "I agree to this goal" in body
    assert me.post(f"/portal/goals/{mine.code}/agree/").status_code == 302
    body = me.get("/portal/goals/").content.decode()
    assert "Agreed: we are working on it" in body and "You agreed on" in body
    with scopes_disabled():
        assert Goal.objects.get(pk=mine.pk).status == GoalStatus.ACTIVE


def test_agreeing_to_another_clients_goal_is_404(me, practice, world):
    _, theirs = world
    assert me.post(f"/portal/goals/{theirs.code}/agree/").status_code == 404
    assert me.post(f"/portal/goals/{uuid.uuid4()}/agree/").status_code == 404
    with scopes_disabled():
        assert Goal.objects.get(pk=theirs.pk).client_agreed_at is None


def test_client_proposes_a_goal(me, practice):
    response = me.post("/portal/goals/propose/", {"title": "Call my sister", "description": ""})
    assert response.status_code == 302
    with scopes_disabled():
        goal = Goal.objects.get()
    assert goal.proposed_by == Side.CLIENT and goal.episode == practice.episode


def test_bad_proposal_keeps_what_was_typed(me, practice):
    response = me.post("/portal/goals/propose/", {"title": "", "description": "Keep this text"})
    assert response.status_code == 400
    assert "Keep this text" in response.content.decode()
    with scopes_disabled():
        assert not Goal.objects.exists()


def test_proposing_into_another_clients_episode_is_refused(me, practice):
    response = me.post("/portal/goals/propose/", {
        "title": "Sneaky", "episode": str(practice.colleague_episode.code)})
    assert response.status_code == 400
    with scopes_disabled():
        assert not Goal.objects.exists()


def test_summaries_show_own_shared_records_never_a_private_note(me, world):
    body = me.get("/portal/summaries/").content.decode()
    assert "Summary mine" in body and "Next steps mine" in body and "Homework mine" in body
    assert "Private note" not in body
    assert "theirs" not in body


def test_client_ticks_homework_and_not_anyone_elses(me, practice, world):
    with scopes_disabled():
        mine = Homework.objects.get(episode=practice.episode)
        theirs = Homework.objects.get(episode=practice.colleague_episode)
    assert me.post(f"/portal/homework/{mine.code}/tick/", {"done": "1"}).status_code == 302
    assert me.post(f"/portal/homework/{theirs.code}/tick/", {"done": "1"}).status_code == 404
    with scopes_disabled():
        assert Homework.objects.get(pk=mine.pk).done_at is not None
        assert Homework.objects.get(pk=theirs.pk).done_at is None
    assert "Mark as not done" in me.get("/portal/summaries/").content.decode()


@pytest.mark.parametrize("path", ["/portal/goals/", "/portal/summaries/"])
def test_pages_need_a_portal_login(client, practice, path):
    response = client.get(path)
    assert response.status_code == 302 and "/portal/login/" in response["Location"]


def test_staff_login_is_not_a_portal_login(client, practice, world):
    from tests.conftest import login

    login(client, practice.therapist)
    assert client.get("/portal/goals/").status_code == 302
    assert client.post(f"/portal/goals/{world[0].code}/agree/").status_code == 302
