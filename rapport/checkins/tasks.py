"""Background tasks of the check-ins app: marking check-ins that closed unanswered as missed
(the scheduler runs `mark_missed_checkins`; webhooks react to the signal). Invitations timed to
sessions are sent by rapport.scheduling."""

from __future__ import annotations

from celery import shared_task
from django_scopes import scope, scopes_disabled

from rapport.core.tasks import RETRY


@shared_task(**RETRY)
def mark_missed_checkins() -> int:
    """One task per practice (periodic): check-ins that closed unanswered are marked missed."""
    from rapport.accounts.practices import queue_for_each_practice

    return queue_for_each_practice(mark_practice_missed_checkins)


@shared_task(**RETRY)
def mark_practice_missed_checkins(organisation_id: int) -> int:
    from rapport.accounts.models import Organisation
    from rapport.checkins.services.schedule import mark_missed

    with scopes_disabled():
        organisation = Organisation.objects.get(pk=organisation_id)
    with scope(organisation=organisation):
        return mark_missed(organisation)
