"""Who reaches which client, episode and session: 404 for everyone outside the rules."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.conftest import login

VIEWS = ["care-client", "care-episode", "care-session"]


def _target(p, view, own=True):
    if view == "care-client":
        return p.client if own else p.colleague_client
    if view == "care-episode":
        return p.episode if own else p.colleague_episode
    return p.session if own else p.colleague_session


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize(
    ("who", "own", "expected"),
    [
        ("therapist", True, 200),  # treats the client
        ("therapist", False, 404),  # a colleague's client
        ("colleague", True, 404),  # the therapist's client, seen by the colleague
        ("colleague", False, 200),
        ("supervisor", True, 200),  # supervises the therapist
        ("supervisor", False, 404),  # does not supervise the colleague
        ("admin", True, 200),  # administers the whole practice
        ("admin", False, 200),
    ],
)
def test_access_within_a_practice(client, practice, view, who, own, expected):
    login(client, getattr(practice, who))
    response = client.get(reverse(view, args=[_target(practice, view, own).code]))
    assert response.status_code == expected


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("who", ["admin", "supervisor", "therapist", "colleague"])
def test_nobody_reaches_another_practice(client, practice, other_practice, view, who):
    login(client, getattr(practice, who))
    for own in (True, False):
        target = _target(other_practice, view, own)
        assert client.get(reverse(view, args=[target.code])).status_code == 404


@pytest.mark.parametrize("view", VIEWS)
def test_anonymous_is_sent_to_login(client, practice, view):
    response = client.get(reverse(view, args=[_target(practice, view).code]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts-login"))


def test_user_without_membership_sees_nothing(client, practice, django_user_model):
    stranger = django_user_model.objects.create_user("stranger@x.test", "pw", name="S")
    login(client, stranger)
    assert client.get(reverse("care-episode", args=[practice.episode.code])).status_code == 404
    page = client.get(reverse("care-caseload"))
    assert page.status_code == 200
    assert practice.client.name not in page.content.decode()


def test_malformed_code_is_404(client, practice):
    login(client, practice.therapist)
    assert client.get("/episodes/not-a-uuid/").status_code == 404
    assert client.get("/episodes/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_caseload_lists_only_reachable_episodes(client, practice, other_practice):
    login(client, practice.supervisor)
    body = client.get(reverse("care-caseload")).content.decode()
    assert practice.client.name in body
    assert practice.colleague_client.name not in body
    assert other_practice.client.name not in body


def test_admin_does_not_read_clinical_free_text(client, practice):
    login(client, practice.admin)
    body = client.get(reverse("care-episode", args=[practice.episode.code])).content.decode()
    assert "worries about sleep" not in body
    response = client.post(
        reverse("care-episode", args=[practice.episode.code]), {"presenting_concerns": "x"}
    )
    assert response.status_code == 403


@pytest.mark.parametrize("who", ["therapist", "supervisor"])
def test_treating_and_supervising_staff_read_clinical_free_text(client, practice, who):
    login(client, getattr(practice, who))
    body = client.get(reverse("care-episode", args=[practice.episode.code])).content.decode()
    assert "worries about sleep" in body


def test_other_therapist_cannot_change_attendance(client, practice):
    login(client, practice.colleague)
    response = client.post(
        reverse("care-session", args=[practice.session.code]), {"attendance": "no_show"}
    )
    assert response.status_code == 404
    from django_scopes import scopes_disabled

    with scopes_disabled():
        practice.session.refresh_from_db()
    assert practice.session.attendance == "scheduled"
