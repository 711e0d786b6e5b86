"""Clients asking from the portal to move a session; the therapist accepts, proposes or declines."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from rapport.audit.models import AuditEvent
from rapport.care.models import Session
from rapport.scheduling.models import Availability, MoveStatus, RescheduleRequest
from tests.conftest import StaffClient
from tests.portal.test_portal import log_in


def at(days: int, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=days), time(hour)))


@pytest.fixture
def web(db) -> StaffClient:
    return StaffClient()  # the staff's browser, beside the client's (`client`)


@pytest.fixture
def booked(practice):
    with scopes_disabled():
        for weekday in range(7):
            Availability.objects.create(organisation=practice.org, client=practice.client, weekday=weekday,
                                        starts=time(9), ends=time(17))
        return Session.objects.create(organisation=practice.org, episode=practice.episode,
                                      scheduled_at=at(3, 10))


def ask(http, session, **extra):
    data = {"reason": "work", "key": "6f1c9a52-3f1e-4a43-9f55-0a3c3c1d2b11", **extra}
    return http.post(reverse("portal-reschedule", args=[session.code]), data)


def only_request(session) -> RescheduleRequest:
    with scopes_disabled():
        (move,) = RescheduleRequest.objects.filter(session=session)
        return move


def test_the_client_asks_once_the_therapist_accepts_and_the_client_is_told(
        client, web, practice, booked, django_capture_on_commit_callbacks):
    log_in(client, practice)
    page = client.get(reverse("portal-reschedule", args=[booked.code])).content.decode()
    assert "Times that suit you" in page and "Work or study" in page
    choice = at(1, 10).isoformat()  # offered: on the hour, within the client's times, free
    assert ask(client, booked, times=[choice]).status_code == 302
    assert ask(client, booked, times=[choice]).status_code in (200, 302)  # the double click
    move = only_request(booked)
    assert move.status == MoveStatus.OPEN and move.options == [choice]
    assert "Waiting for the therapist" in client.get(reverse("portal-home")).content.decode()

    web.force_login(practice.therapist)
    assert "asked to move this session" in web.get(reverse("care-session", args=[booked.code])).content.decode()
    assert practice.client.display_name in web.get(reverse("scheduling-requests")).content.decode()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        done = web.post(reverse("scheduling-request", args=[move.code]), {"action": "accept", "option": "0"})
    assert done.status_code == 302
    with scopes_disabled():
        booked.refresh_from_db()
        assert booked.scheduled_at == at(1, 10)
        assert only_request(booked).status == MoveStatus.ACCEPTED
        actions = set(AuditEvent.objects.filter(object_code=str(move.code)).values_list("action", flat=True))
    assert {"scheduling.reschedule.requested", "scheduling.reschedule.accepted",
            "scheduling.reschedule.notified"} <= actions
    (message,) = mail.outbox
    assert "has moved to" in message.body and "worries" not in message.body and "Work" not in message.body
    again = web.post(reverse("scheduling-request", args=[move.code]), {"action": "accept", "option": "0"})
    assert "answered already" in again.content.decode()


def test_a_clash_is_refused_with_a_clear_message_and_nothing_moves(client, web, practice, booked):
    log_in(client, practice)
    ask(client, booked, day=(timezone.localdate() + timedelta(days=5)).isoformat(), at="12:00")
    move = only_request(booked)
    with scopes_disabled():  # meanwhile another session was booked at that time
        Session.objects.create(organisation=practice.org, episode=practice.episode, scheduled_at=at(5, 12))
    web.force_login(practice.therapist)
    page = web.post(reverse("scheduling-request", args=[move.code]), {"action": "accept", "option": "0"})
    assert "already has a session" in page.content.decode()
    with scopes_disabled():
        booked.refresh_from_db()
        assert booked.scheduled_at == at(3, 10) and only_request(booked).status == MoveStatus.OPEN


def test_the_therapist_proposes_another_time_and_the_client_accepts_it(client, web, practice, booked):
    log_in(client, practice)
    ask(client, booked, times=[at(1, 9).isoformat()])
    move = only_request(booked)
    web.force_login(practice.therapist)
    day = (timezone.localdate() + timedelta(days=6)).isoformat()
    bad = web.post(reverse("scheduling-request", args=[move.code]), {"action": "propose", "day": day, "at": "nonsense"})
    assert bad.status_code == 200 and only_request(booked).status == MoveStatus.OPEN
    web.post(reverse("scheduling-request", args=[move.code]), {"action": "propose", "day": day, "at": "15:00"})
    assert only_request(booked).status == MoveStatus.PROPOSED
    assert "Accept the new time" in client.get(reverse("portal-home")).content.decode()
    assert client.post(reverse("portal-reschedule-accept", args=[move.code])).status_code == 302
    with scopes_disabled():
        booked.refresh_from_db()
    assert booked.scheduled_at == at(6, 15) and only_request(booked).status == MoveStatus.ACCEPTED
    assert client.post(reverse("portal-reschedule-accept", args=[move.code])).status_code == 404


def test_bad_requests_change_nothing(client, practice, booked):
    log_in(client, practice)
    assert ask(client, booked).status_code == 200  # no time given
    assert ask(client, booked, times=["2020-01-01T10:00:00+00:00"]).status_code == 200  # not offered
    assert ask(client, booked, day="2020-01-01", at="10:00").status_code == 200  # passed
    assert ask(client, booked, times=[at(1, 9).isoformat()], reason="because").status_code == 200
    with scopes_disabled():
        assert not RescheduleRequest.objects.exists()


def test_others_get_404(client, web, practice, other_practice, booked):
    log_in(client, practice, client=practice.colleague_client, email="other@riverside.test")
    assert client.get(reverse("portal-reschedule", args=[booked.code])).status_code == 404
    log_in(client, practice)
    ask(client, booked, times=[at(1, 9).isoformat()])
    move = only_request(booked)
    for user in (practice.colleague, practice.supervisor, other_practice.admin):
        web.force_login(user)
        assert web.get(reverse("scheduling-request", args=[move.code])).status_code == 404
        assert web.post(reverse("scheduling-request", args=[move.code]), {"action": "decline"}).status_code == 404
    assert only_request(booked).status == MoveStatus.OPEN
    web.force_login(practice.admin)
    assert web.post(reverse("scheduling-request", args=[move.code]), {"action": "decline"}).status_code == 302
    assert only_request(booked).status == MoveStatus.DECLINED
