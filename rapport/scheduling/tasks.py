"""Celery tasks of scheduling: thin wrappers around rapport.scheduling.reminders and
rapport.scheduling.checkin_invitations (both idempotent: a second run at once sends nothing twice)."""

from __future__ import annotations

from celery import shared_task

from rapport.scheduling import checkin_invitations, reminders


@shared_task(acks_late=True)
def send_session_reminders() -> int:
    """Run every few minutes (the beat schedule); a second run at once sends nothing twice."""
    return reminders.send_due_reminders()


@shared_task(acks_late=True)
def send_checkin_invitations() -> int:
    """Run every few minutes: pre-session and post-session check-in invitations and follow-ups."""
    return checkin_invitations.send_due_invitations()
