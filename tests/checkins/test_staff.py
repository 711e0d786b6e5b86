"""The therapist's side: a session's check-ins, links and QR codes, reflections, the schedule."""

from __future__ import annotations

import re

from django.core import mail
from django_scopes import scope

from rapport.checkins.models import CheckIn, Invitation, Response, Schedule
from tests.conftest import login

REFLECTION = {f"a-{k}": "8" for k in ("trust", "empathy", "genuineness", "respect", "listening",
                                      "safety", "goals", "warmth", "acceptance", "authenticity",
                                      "self-awareness")}


def url(name, code):
    return {"session": f"/sessions/{code}/checkins/", "reflection": f"/sessions/{code}/reflection/",
            "schedule": f"/episodes/{code}/schedule/"}[name]


def test_the_access_matrix(practice, other_practice, client):
    cases = [
        (practice.therapist, 200), (practice.supervisor, 200), (practice.admin, 200),
        (practice.colleague, 404), (other_practice.therapist, 404), (other_practice.admin, 404),
    ]
    for user, expected in cases:
        login(client, user)
        assert client.get(url("session", practice.session.code)).status_code == expected, user
        assert client.get(url("schedule", practice.episode.code)).status_code == expected, user
    client.logout()
    assert client.get(url("session", practice.session.code)).status_code == 302


def test_the_session_page_plans_checkins_and_gives_a_link_with_a_qr_code(practice, client):
    login(client, practice.therapist)
    page = client.get(url("session", practice.session.code))
    assert b"Getting ready for your session" in page.content  # the name, not the id
    assert b"session-prep" not in re.sub(rb"<[^>]+>", b" ", page.content)  # as text
    with scope(organisation=[practice.org]):
        before = CheckIn.objects.get(session=practice.session, when="before")
    page = client.post(url("session", practice.session.code),
                       {"checkin": before.code, "action": "link"})
    assert page.status_code == 200
    assert b"<svg" in page.content and b"/c/" in page.content


def test_the_session_page_lists_the_check_ins_in_the_order_they_happen(practice, client):
    login(client, practice.therapist)
    body = client.get(url("session", practice.session.code)).content.decode()
    headings = re.findall(r'<h2 id="c-[^"]+">([^<]+)</h2>', body)
    assert [h.split(" — ")[0] for h in headings][:2] == ["Before the session", "After the session"]


def test_a_link_can_be_emailed(practice, client):
    with scope(organisation=[practice.org]):
        practice.client.email = "c@riverside.test"
        practice.client.save()
    login(client, practice.therapist)
    client.get(url("session", practice.session.code))
    with scope(organisation=[practice.org]):
        before = CheckIn.objects.get(session=practice.session, when="before")
    client.post(url("session", practice.session.code), {"checkin": before.code, "action": "email"})
    assert len(mail.outbox) == 1 and "/c/" in mail.outbox[0].body


def test_another_sessions_checkin_cannot_be_linked_from_this_session(practice, client):
    login(client, practice.colleague)
    client.get(url("session", practice.colleague_session.code))
    login(client, practice.therapist)
    client.get(url("session", practice.session.code))
    with scope(organisation=[practice.org]):
        theirs = CheckIn.objects.get(session=practice.colleague_session, when="before")
    page = client.post(url("session", practice.session.code), {"checkin": theirs.code, "action": "link"})
    assert page.status_code == 404


def test_the_therapist_reflects_and_a_second_save_is_a_correction(practice, client):
    login(client, practice.therapist)
    page = client.post(url("reflection", practice.session.code), REFLECTION | {"submission": ""})
    assert page.status_code == 302
    page = client.post(url("reflection", practice.session.code), REFLECTION | {"a-trust": "4"})
    with scope(organisation=[practice.org]):
        stored = list(Response.objects.filter(instrument_id="therapist-reflection"))
        checkin = CheckIn.objects.get(session=practice.session, respondent="therapist")
    assert len(stored) == 2
    assert stored[1].supersedes == stored[0]
    assert stored[0].respondent_user == practice.therapist
    assert checkin.is_complete


def test_an_invalid_reflection_is_refused_and_kept(practice, client):
    login(client, practice.therapist)
    page = client.post(url("reflection", practice.session.code), REFLECTION | {"a-warmth": "11"})
    assert page.status_code == 200
    assert b"Please give a whole number from 0 to 10." in page.content
    with scope(organisation=[practice.org]):
        assert not Response.objects.exists()


def test_only_the_treating_therapist_reflects(practice, client):
    login(client, practice.supervisor)
    assert client.get(url("reflection", practice.session.code)).status_code == 403
    login(client, practice.colleague)
    assert client.get(url("reflection", practice.session.code)).status_code == 404


def test_the_therapist_adjusts_the_schedule(practice, client):
    login(client, practice.therapist)
    page = client.get(url("schedule", practice.episode.code))
    assert b"gad7" in page.content
    # Keep only the first row (session-prep), asked every 2nd session, and add PCL-5 at intake.
    page = client.post(url("schedule", practice.episode.code), {
        "on-0": "yes", "every-0": "2", "new-instrument": "pcl5", "new-when": "intake",
        "new-every": "1",
    })
    assert page.status_code == 302
    with scope(organisation=[practice.org]):
        rules = Schedule.objects.get(episode=practice.episode).rules
    assert rules == [{"instrument": "session-prep", "when": "before", "every": 2},
                     {"instrument": "pcl5", "when": "intake", "every": 1}]
    page = client.post(url("schedule", practice.episode.code), {"on-0": "yes", "every-0": "zero"})
    assert page.status_code == 200 and b"whole number" in page.content


def test_a_supervisor_cannot_change_the_schedule(practice, client):
    login(client, practice.supervisor)
    page = client.post(url("schedule", practice.episode.code), {"on-0": "yes", "every-0": "2"})
    assert page.status_code == 403


def test_only_the_treating_therapist_is_given_a_link_in_hand(practice, other_practice, client):
    """A link opens the client's draft and answers as the client: an administrator or supervisor
    who may see the session page gets no link (only the emailed one, to the client's address),
    and another practice's staff get 404. Nothing is created for them."""
    login(client, practice.therapist)
    client.get(url("session", practice.session.code))
    with scope(organisation=[practice.org]):
        before = CheckIn.objects.get(session=practice.session, when="before")
    cases = [(practice.admin, 403), (practice.supervisor, 403), (practice.colleague, 404),
             (other_practice.admin, 404), (other_practice.therapist, 404)]
    for user, expected in cases:
        login(client, user)
        page = client.post(url("session", practice.session.code),
                           {"checkin": before.code, "action": "link"})
        assert page.status_code == expected, user
        assert b"/c/" not in page.content
        with scope(organisation=[practice.org]):
            assert not Invitation.objects.filter(checkin=before).exists(), user
    login(client, practice.admin)
    page = client.get(url("session", practice.session.code))
    assert b'value="link"' not in page.content and b'value="email"' in page.content
