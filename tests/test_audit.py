"""Every read and write of clinical data leaves an append-only audit event."""

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from rapport.audit.models import AuditEvent, AuditEventError
from tests.conftest import login


def _events(action):
    return list(AuditEvent.objects.filter(action=action))


@pytest.mark.parametrize(
    ("view", "attr", "action"),
    [
        ("care-client", "client", "care.client.viewed"),
        ("care-episode", "episode", "care.episode.viewed"),
        ("care-session", "session", "care.session.viewed"),
    ],
)
def test_reads_are_audited(client, practice, view, attr, action):
    login(client, practice.therapist)
    obj = getattr(practice, attr)
    client.get(reverse(view, args=[obj.code]), REMOTE_ADDR="203.0.113.7")
    (event,) = _events(action)
    assert event.actor == practice.therapist
    assert event.object_code == str(obj.code)
    assert event.client_code == practice.client.code
    assert event.organisation == practice.org
    assert event.ip_address == "203.0.113.7"


def test_refused_read_leaves_no_view_event(client, practice):
    login(client, practice.colleague)
    client.get(reverse("care-episode", args=[practice.episode.code]))
    assert _events("care.episode.viewed") == []


def test_caseload_read_is_audited(client, practice):
    login(client, practice.therapist)
    client.get(reverse("care-caseload"))
    (event,) = _events("care.caseload.viewed")
    assert event.detail == {"episodes": 1}


def test_attendance_change_is_audited_with_before_and_after(client, practice):
    login(client, practice.therapist)
    response = client.post(reverse("care-session", args=[practice.session.code]), {"attendance": "no_show"})
    assert response.status_code == 302
    (event,) = _events("care.session.attendance_changed")
    assert event.detail == {"from": "scheduled", "to": "no_show"}
    assert event.client_code == practice.client.code


def test_invalid_write_changes_nothing_and_is_not_audited(client, practice):
    login(client, practice.therapist)
    response = client.post(reverse("care-session", args=[practice.session.code]), {"attendance": "teleported"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert _events("care.session.attendance_changed") == []
    with scopes_disabled():
        practice.session.refresh_from_db()
    assert practice.session.attendance == "scheduled"


def test_concerns_write_is_audited_without_the_text(client, practice):
    login(client, practice.therapist)
    client.post(reverse("care-episode", args=[practice.episode.code]), {"presenting_concerns": "panic at work"})
    (event,) = _events("care.episode.concerns_changed")
    assert "panic" not in str(event.detail)
    with scopes_disabled():
        practice.episode.refresh_from_db()
    assert practice.episode.presenting_concerns == "panic at work"


def test_events_are_append_only(client, practice):
    login(client, practice.therapist)
    client.get(reverse("care-client", args=[practice.client.code]))
    event = AuditEvent.objects.get(action="care.client.viewed")
    event.action = "something.else"
    with pytest.raises(AuditEventError):
        event.save()
    with pytest.raises(AuditEventError):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "care.client.viewed"


@pytest.mark.parametrize(
    ("who", "view", "arg", "action", "client_attr"),
    [
        ("therapist", "checkins-schedule", "episode", "checkins.schedule.viewed", "client"),
        ("admin", "privacy-erase", "client", "privacy.erase_form.viewed", "client"),
        ("admin", "privacy-erasures", None, "privacy.erasures.viewed", None),
    ],
)
def test_pages_about_clients_leave_a_view_event(client, practice, who, view, arg, action, client_attr):
    login(client, getattr(practice, who))
    client.reauthenticate()
    args = [getattr(practice, arg).code] if arg else []
    assert client.get(reverse(view, args=args)).status_code == 200
    (event,) = _events(action)
    assert event.actor == getattr(practice, who)
    assert event.organisation == practice.org
    if client_attr:
        assert event.client_code == getattr(practice, client_attr).code
