"""Notice goal milestones as soon as a `goal-progress` response is stored."""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import receiver

from rapport.checkins.signals import response_stored
from rapport.goals.progress import GOAL_PROGRESS, notice_milestones

log = logging.getLogger(__name__)


@receiver(response_stored, dispatch_uid="rapport.goals.notice_milestones")
def on_response_stored(sender, response, **kwargs) -> None:
    if response.instrument_id != GOAL_PROGRESS:
        return
    # A savepoint: a fault here must never lose the client's stored answer (the receiver runs
    # inside the transaction that stores it); the milestone is noticed with the next rating.
    try:
        with transaction.atomic():
            notice_milestones(response.episode)
    except Exception:
        log.exception("noticing goal milestones failed for response %s", response.code)
