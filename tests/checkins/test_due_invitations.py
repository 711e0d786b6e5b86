"""The scheduler emails each client the link to their check-in before a session, once
(rapport.checkins.tasks; tasks run eagerly here)."""

from __future__ import annotations

from datetime import timedelta

from django.core import mail
from django.utils import timezone
from django_scopes import scope

from rapport.care.models import Attendance, Client, Session
from rapport.checkins import tasks
from rapport.checkins.models import CheckIn, Invitation


def upcoming(practice, *, days: float, email: str = "client@example.org", episode=None):
    episode = episode or practice.episode
    with scope(organisation=practice.org):
        Client.objects.filter(pk=episode.client_id).update(email=email)
        return Session.objects.create(organisation=practice.org, episode=episode,
                                      scheduled_at=timezone.now() + timedelta(days=days))


def test_a_session_coming_up_gets_its_link_emailed_once(practice, other_practice):
    session = upcoming(practice, days=1)
    tasks.send_due_invitations()
    (sent,) = mail.outbox
    assert sent.to == ["client@example.org"] and "/c/" in sent.body
    with scope(organisation=practice.org):
        checkin = CheckIn.objects.get(session=session, when="before", respondent="client")
        assert Invitation.objects.filter(checkin=checkin, channel="email").count() == 1
    tasks.send_due_invitations()  # the next run: already emailed
    tasks.send_checkin_invitation(checkin.pk)  # even asked directly
    assert len(mail.outbox) == 1


def test_sessions_far_ahead_cancelled_or_without_email_get_nothing(practice):
    upcoming(practice, days=5)
    cancelled = upcoming(practice, days=1, episode=practice.colleague_episode)
    with scope(organisation=practice.org):
        Session.objects.filter(pk=cancelled.pk).update(attendance=Attendance.CANCELLED_CLIENT)
    tasks.send_due_invitations()
    assert mail.outbox == []
    upcoming(practice, days=1, email="")
    tasks.send_due_invitations()
    assert mail.outbox == []


def test_a_completed_checkin_is_not_chased(practice):
    session = upcoming(practice, days=1)
    tasks.send_practice_invitations(practice.org.pk)  # plans and emails
    mail.outbox.clear()
    with scope(organisation=practice.org):
        checkin = CheckIn.objects.get(session=session, when="before", respondent="client")
        Invitation.objects.filter(checkin=checkin).delete()
        CheckIn.objects.filter(pk=checkin.pk).update(completed_at=timezone.now())
    tasks.send_due_invitations()
    assert mail.outbox == []


def test_each_practice_emails_only_its_own_clients(practice, other_practice):
    upcoming(practice, days=1, email="mine@example.org")
    upcoming(other_practice, days=1, email="theirs@example.org")
    assert tasks.send_practice_invitations(other_practice.org.pk) == 1
    assert [m.to for m in mail.outbox] == [["theirs@example.org"]]
