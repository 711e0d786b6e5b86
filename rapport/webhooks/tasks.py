"""Delivering webhooks from a worker: tried again with exponential backoff (full jitter) until
the receiver answers 2xx or the attempts run out; every attempt is in the delivery log.

The attempts are counted on the Delivery row, not by Celery: the next attempt is queued with
its countdown by the task itself, and a message handed out twice is sent once.
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval

from rapport.core.tasks import RETRY, enqueue
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


# A delivery waiting this long past its last possible retry has lost its queued attempt (a
# broker restarted, a worker killed): the sweep queues it again. Delivered ones older than
# KEEP_DAYS leave the log.
STALLED_AFTER = timedelta(seconds=BACKOFF_MAX + 600)
KEEP_DAYS = 30


@shared_task(**RETRY)
def sweep_deliveries() -> int:
    """Periodic: queue again each delivery left waiting, and trim the log; returns how many
    were queued again."""
    from django.db.models import Q
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from rapport.webhooks.models import Delivery

    now = timezone.now()
    waiting = Q(status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING])
    stalled = Q(last_attempt_at__lt=now - STALLED_AFTER) | Q(
        last_attempt_at__isnull=True, created_at__lt=now - STALLED_AFTER)
    with scopes_disabled():
        ids = list(Delivery.objects.filter(waiting, stalled).values_list("id", flat=True))
        Delivery.objects.filter(status=DeliveryStatus.DELIVERED,
                                delivered_at__lt=now - timedelta(days=KEEP_DAYS)).delete()
    for delivery_id in ids:
        enqueue(deliver, delivery_id)
    return len(ids)
