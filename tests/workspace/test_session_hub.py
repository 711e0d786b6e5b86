"""The session page is the session's hub: attendance, record, check-ins, the reflection."""

from __future__ import annotations

from django.urls import reverse

from tests.conftest import login
from tests.workspace.conftest import new_episode


def links(practice):
    session = practice.session
    return {
        "record": reverse("notes-record", args=[session.code]),
        "checkins": reverse("checkins-session", args=[session.code]),
        "reflection": reverse("checkins-reflection", args=[session.code]),
        "episode": reverse("care-episode", args=[practice.episode.code]),
    }


def body(client, practice) -> str:
    response = client.get(reverse("care-session", args=[practice.session.code]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_therapist_gets_every_link_and_the_attendance_form(client, practice):
    login(client, practice.therapist)
    page = body(client, practice)
    assert all(url in page for url in links(practice).values())
    assert 'name="attendance"' in page
    assert "Session 1" in page  # its number in the episode


def test_the_supervisor_reads_the_record_but_writes_no_reflection(client, practice):
    login(client, practice.supervisor)
    page = body(client, practice)
    urls = links(practice)
    assert urls["record"] in page and urls["checkins"] in page
    assert urls["reflection"] not in page


def test_the_admin_gets_attendance_and_check_ins_only(client, practice):
    login(client, practice.admin)
    page = body(client, practice)
    urls = links(practice)
    assert urls["checkins"] in page and 'name="attendance"' in page
    assert urls["record"] not in page and urls["reflection"] not in page


def test_a_colleague_gets_404(client, practice):
    login(client, practice.colleague)
    assert client.get(reverse("care-session", args=[practice.session.code])).status_code == 404


def test_a_future_session_says_the_reflection_comes_after(client, practice):
    episode, sessions = new_episode(practice, "Jo Later", past=1, future=1)
    login(client, practice.therapist)
    page = client.get(reverse("care-session", args=[sessions[1].code])).content.decode()
    assert "Session 2" in page and "After the session" in page
