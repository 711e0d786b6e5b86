"""Check-in invitations timed to the session: before (N hours ahead), after (once it has ended),
one follow-up, quiet hours in the client's zone, opt-out (client and practice), never twice, and
the history on the episode page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django_scopes import scopes_disabled

from rapport.audit.models import AuditEvent
from rapport.care.models import Client, Session
from rapport.checkins.models import CheckIn, Invitation
from rapport.core import sms
from rapport.scheduling import delivery
from rapport.scheduling.models import Delivery, ReminderPolicy, SentReminder
from rapport.scheduling.tasks import send_checkin_invitations

NOW = datetime(2026, 10, 5, 12, tzinfo=UTC)


@pytest.fixture
def upcoming(practice):
    """A session at 08:00 UTC tomorrow; quiet hours off (their own test turns them on)."""
    with scopes_disabled():
        ReminderPolicy.objects.create(organisation=practice.org, quiet_from="00:00", quiet_until="00:00")
        Client.objects.filter(pk=practice.client.pk).update(email="ci@example.org")
        return Session.objects.create(organisation=practice.org, episode=practice.episode,
                                      scheduled_at=NOW + timedelta(hours=20), duration_minutes=50)


def run(at=NOW) -> int:
    with time_machine.travel(at, tick=False):
        return send_checkin_invitations.apply().get()


def rows(session, kind):
    with scopes_disabled():
        return list(SentReminder.objects.filter(session=session, kind=kind))


def test_the_pre_session_invitation_goes_once_with_a_working_link(upcoming, practice, client):
    assert run() == 1
    assert run() == 0  # the task run twice
    (message,) = mail.outbox
    assert message.to == ["ci@example.org"] and "before your session on Tuesday 6 October at 08:00" in message.body
    path = message.body[message.body.index("/c/"):].split()[0]
    # What is asked is never in the message (the link's random token aside: it may hold "phq").
    assert "phq" not in message.body.replace(path, "").lower()
    with time_machine.travel(NOW, tick=False):
        assert client.get(path).status_code == 200
    with scopes_disabled():
        (row,) = rows(upcoming, "checkin-before")
        assert row.status == Delivery.SENT and row.channel == "email"
        assert Invitation.objects.filter(checkin__session=upcoming, channel="email").count() == 1
        assert AuditEvent.objects.filter(action="scheduling.reminder.sent", object_code=str(upcoming.code)).count() == 1


def test_not_before_the_practices_hours_ahead(upcoming, practice):
    with scopes_disabled():
        ReminderPolicy.objects.filter(organisation=practice.org).update(checkin_hours_before=4)
    assert run() == 0
    assert run(upcoming.scheduled_at - timedelta(hours=3)) == 1


def test_one_follow_up_only_while_unanswered_and_the_session_is_ahead(upcoming, practice):
    assert run() == 1
    assert run(NOW + timedelta(hours=11)) == 0  # the follow-up waits 12 hours
    assert run(NOW + timedelta(hours=12)) == 1
    assert run(NOW + timedelta(hours=15)) == 0  # a single follow-up
    assert "gentle reminder" in mail.outbox[-1].body
    assert len(rows(upcoming, "checkin-before-followup")) == 1


def test_an_answered_check_in_gets_no_follow_up(upcoming, practice):
    run()
    with scopes_disabled():
        CheckIn.objects.filter(session=upcoming, when="before").update(completed_at=NOW)
    assert run(NOW + timedelta(hours=13)) == 0
    assert rows(upcoming, "checkin-before-followup") == []


def test_the_post_session_rating_goes_when_the_session_has_ended(upcoming, practice):
    run()
    ends = upcoming.scheduled_at + timedelta(minutes=50)
    assert run(ends - timedelta(minutes=1)) == 0
    assert run(ends + timedelta(minutes=1)) == 1
    assert "how was your session" in mail.outbox[-1].body
    assert run(ends + timedelta(minutes=2)) == 0
    assert run(ends + timedelta(hours=12, minutes=2)) == 1  # its follow-up
    assert run(ends + timedelta(hours=30)) == 0


def test_a_day_late_the_post_session_invitation_is_not_sent(upcoming, practice):
    with scopes_disabled():
        ReminderPolicy.objects.filter(organisation=practice.org).update(checkin_hours_before=1)
    assert run(upcoming.scheduled_at + timedelta(hours=26)) == 0
    assert rows(upcoming, "checkin-after") == []


def test_quiet_hours_hold_it_in_the_clients_time_zone(upcoming, practice):
    with scopes_disabled():
        ReminderPolicy.objects.filter(organisation=practice.org).update(quiet_from="21:00", quiet_until="08:00")
        Client.objects.filter(pk=practice.client.pk).update(time_zone="Asia/Tokyo")  # 21:00 there
    assert run() == 0
    (row,) = rows(upcoming, "checkin-before")
    assert row.status == Delivery.HELD
    assert run(NOW + timedelta(hours=11, minutes=5)) == 1  # 08:05 in Tokyo
    (row,) = rows(upcoming, "checkin-before")
    assert row.status == Delivery.SENT and "quiet hours" in row.reason


@pytest.mark.parametrize("switch", ["client", "practice"])
def test_opt_out_is_honoured_and_the_reason_recorded_once(upcoming, practice, switch):
    with scopes_disabled():
        if switch == "client":
            Client.objects.filter(pk=practice.client.pk).update(reminders_opt_out=True)
        else:
            ReminderPolicy.objects.filter(organisation=practice.org).update(checkin_invitations=False)
    assert run() == 0
    assert run() == 0
    assert mail.outbox == []
    (row,) = rows(upcoming, "checkin-before")
    assert row.status == Delivery.NOT_SENT and row.reason


def test_a_text_preference_without_a_provider_is_recorded_not_sent(upcoming, practice, settings):
    settings.SMS_BACKEND = "rapport.core.sms.DisabledBackend"
    with scopes_disabled():
        Client.objects.filter(pk=practice.client.pk).update(preferred_channel="text", phone="+447700900123")
    assert run() == 0
    (row,) = rows(upcoming, "checkin-before")
    assert row.status == Delivery.NOT_SENT and "not configured" in row.reason


def test_a_text_goes_through_the_text_backend(upcoming, practice):
    sms.outbox.clear()
    with scopes_disabled():
        Client.objects.filter(pk=practice.client.pk).update(preferred_channel="text", phone="+447700900123")
    assert run() == 1
    assert [m.to for m in sms.outbox] == ["+447700900123"] and "/c/" in sms.outbox[0].body


def test_a_dead_workers_claim_is_taken_over_after_the_timeout(upcoming, practice):
    with scopes_disabled():
        SentReminder.objects.create(organisation=practice.org, session=upcoming, kind="checkin-before",
                                    channel="email", claimed_at=NOW - timedelta(minutes=1))
    assert run() == 0
    assert run(NOW + delivery.CLAIM_TIMEOUT) == 1
    assert len(mail.outbox) == 1


def test_the_episode_page_shows_what_was_sent_and_why_not(upcoming, practice, web):
    run()
    with scopes_disabled():
        Client.objects.filter(pk=practice.client.pk).update(reminders_opt_out=True)
    with time_machine.travel(NOW, tick=False):
        from rapport.scheduling.tasks import send_session_reminders
        send_session_reminders.apply()
    web.force_login(practice.therapist)
    page = web.get(reverse("care-episode", args=[practice.episode.code])).content.decode()
    assert "Invitation: check-in before the session" in page and "Sent Mon 5 Oct 2026" in page
    assert "Session reminder" in page and "asked not to receive reminders" in page
