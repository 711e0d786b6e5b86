"""Session reminders: due ones sent once, quiet hours in the client's zone, opt-out, crashed claims."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.core import mail
from django_scopes import scopes_disabled

from rapport.audit.models import AuditEvent
from rapport.care.models import Attendance, Client, Session
from rapport.core import sms
from rapport.scheduling import delivery
from rapport.scheduling.models import ReminderPolicy, SentReminder
from rapport.scheduling.tasks import send_session_reminders

NOW = datetime(2026, 10, 5, 12, tzinfo=UTC)


@pytest.fixture
def upcoming(practice):
    with scopes_disabled():
        Client.objects.filter(pk=practice.client.pk).update(email="rc@example.org")
        return Session.objects.create(organisation=practice.org, episode=practice.episode,
                                      scheduled_at=NOW + timedelta(hours=20),
                                      telehealth_url="https://video.example.org/r")


def run(at=NOW) -> int:
    with time_machine.travel(at, tick=False):
        return send_session_reminders.apply().get()


def test_a_due_reminder_is_sent_once_however_often_the_task_runs(upcoming, practice):
    assert run() == 1
    assert run() == 0
    assert run(NOW + timedelta(hours=1)) == 0
    (message,) = mail.outbox
    assert message.to == ["rc@example.org"]
    assert "Tuesday 6 October at 08:00" in message.body and "https://video.example.org/r" in message.body
    with scopes_disabled():
        assert SentReminder.objects.get(session=upcoming).sent_at is not None
        assert AuditEvent.objects.filter(action="scheduling.reminder.sent", object_code=str(upcoming.code)).count() == 1


def test_sessions_further_ahead_cancelled_or_opted_out_get_none(upcoming, practice):
    with scopes_disabled():
        Session.objects.create(organisation=practice.org, episode=practice.episode,
                               scheduled_at=NOW + timedelta(hours=30))
        Session.objects.filter(pk=upcoming.pk).update(attendance=Attendance.CANCELLED_CLIENT)
    assert run() == 0
    with scopes_disabled():
        Session.objects.filter(pk=upcoming.pk).update(attendance=Attendance.SCHEDULED)
        Client.objects.filter(pk=practice.client.pk).update(reminders_opt_out=True)
    assert run() == 0
    assert mail.outbox == []


def test_quiet_hours_follow_the_clients_time_zone(upcoming, practice):
    with scopes_disabled():
        Client.objects.filter(pk=practice.client.pk).update(time_zone="Asia/Tokyo")  # 12:00 UTC is 21:00
    assert run() == 0
    assert run(NOW + timedelta(hours=11, minutes=5)) == 1  # 08:05 in Tokyo, session still ahead


def test_the_practice_sets_how_far_ahead(upcoming, practice):
    with scopes_disabled():
        ReminderPolicy.objects.create(organisation=practice.org, hours_before=2,
                                      quiet_from=time(22), quiet_until=time(7))
    assert run() == 0
    assert run(upcoming.scheduled_at - timedelta(hours=1)) == 1


def test_a_text_preference_goes_through_the_text_backend(upcoming, practice):
    sms.outbox.clear()
    with scopes_disabled():
        Client.objects.filter(pk=practice.client.pk).update(preferred_channel="text", phone="+447700900123")
    assert run() == 1
    assert [m.to for m in sms.outbox] == ["+447700900123"]
    assert mail.outbox == []


def test_a_claim_left_by_a_dead_worker_is_taken_over_later(upcoming, practice):
    with scopes_disabled():
        SentReminder.objects.create(organisation=practice.org, session=upcoming, kind="session",
                                    channel="email", claimed_at=NOW - timedelta(minutes=2))
    assert run() == 0  # another worker may still be sending it
    assert run(NOW + delivery.CLAIM_TIMEOUT) == 1
    assert len(mail.outbox) == 1
