"""Reminders and check-in invitations sent by several workers at the same moment, and a request
to move a session accepted twice at once: each message goes once, the session moves once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import RequestFactory
from django_scopes import scope, scopes_disabled

from rapport.care.models import Client, Session
from rapport.scheduling import checkin_invitations, reminders, rescheduling
from rapport.scheduling.models import Delivery, MoveReason, RescheduleRequest, SentReminder
from tests.concurrency.conftest import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

N = 6
NOW = datetime(2030, 10, 7, 12, tzinfo=UTC)  # a Monday, outside quiet hours


@pytest.fixture
def upcoming(practice):
    with scopes_disabled():
        Client.objects.filter(pk=practice.client.pk).update(email="together@example.org")
        return Session.objects.create(organisation=practice.org, episode=practice.episode,
                                      scheduled_at=NOW + timedelta(hours=20))


def test_workers_at_once_send_each_message_once(upcoming):
    def work(i, barrier):
        barrier.wait()
        return reminders.send_due_reminders(NOW) + checkin_invitations.send_due_invitations(NOW)

    results, errors = at_once(N, work)
    assert errors == []
    assert sum(results) == 2 and len(mail.outbox) == 2
    with scopes_disabled():
        rows = SentReminder.objects.filter(session=upcoming)
        assert sorted(rows.values_list("kind", flat=True)) == ["checkin-before", "session"]
        assert set(rows.values_list("status", flat=True)) == {Delivery.SENT}


def test_a_request_accepted_twice_at_once_moves_the_session_once(practice, upcoming):
    later = NOW + timedelta(days=2)
    with scope(organisation=[practice.org]):
        move = RescheduleRequest.objects.create(
            organisation=practice.org, key="6f1c9a52-3f1e-4a43-9f55-0a3c3c1d2b12", session=upcoming,
            reason=MoveReason.WORK, options=[later.isoformat()])

    def work(i, barrier):
        request = RequestFactory().post("/")
        request.user = practice.therapist
        barrier.wait()
        with scope(organisation=[practice.org]):
            try:
                rescheduling.accept(request, move, later)
            except rescheduling.services.BookingError as exc:
                return exc.problems
        return "moved"

    with time_machine.travel(NOW, tick=False):
        results, errors = at_once(N, work)
    assert errors == []
    assert results.count("moved") == 1
    assert all(r == ["This request has been answered already."] for r in results if r != "moved")
    with scopes_disabled():
        upcoming.refresh_from_db()
        assert upcoming.scheduled_at == later
