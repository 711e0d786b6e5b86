"""Celery tasks of scheduling: thin wrappers around rapport.scheduling.reminders (idempotent)."""

from __future__ import annotations

from celery import shared_task

from rapport.scheduling import reminders


@shared_task(acks_late=True)
def send_session_reminders() -> int:
    """Run every few minutes (the beat schedule); a second run at once sends nothing twice."""
    return reminders.send_due_reminders()
