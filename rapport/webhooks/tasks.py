"""Delivering webhooks from a worker: tried again with exponential backoff (full jitter) until
the receiver answers 2xx or the attempts run out; every attempt is in the delivery log.

The attempts are counted on the Delivery row, not by Celery: the next attempt is queued with
its countdown by the task itself, and a message handed out twice is sent once.
"""

from __future__ import annotations

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval

from rapport.core.tasks import RETRY
from rapport.webhooks import sending
from rapport.webhooks.models import DeliveryStatus

ATTEMPTS = 8  # over about an hour: at most 30 s, 1, 2, 4, 8, 16, 32 min apart
BACKOFF = 30  # seconds, at most, before the second attempt
BACKOFF_MAX = 3600


def backoff(failed: int) -> int:
    """Seconds before the next attempt after `failed` failed ones (full jitter: a random wait up
    to BACKOFF * 2**(failed - 1), at most BACKOFF_MAX)."""
    return get_exponential_backoff_interval(BACKOFF, max(failed - 1, 0), BACKOFF_MAX,
                                            full_jitter=True)


@shared_task(**RETRY)  # Celery's retries are for our own failures (the database away)
def deliver(delivery_id: int) -> str:
    status, attempts = sending.attempt(delivery_id, attempts=ATTEMPTS)
    if status == DeliveryStatus.RETRYING:
        deliver.apply_async((delivery_id,), countdown=backoff(attempts))
    return status
