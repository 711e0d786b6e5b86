"""Background tasks of the privacy app: the daily retention run, one task per practice, and
the erasures in chunks of clients so several workers share them."""

from __future__ import annotations

from celery import shared_task
from django_scopes import scopes_disabled

from rapport.core.tasks import RETRY, enqueue

CHUNK = 20  # clients per erasure task


@shared_task(**RETRY)
def apply_retention() -> int:
    from rapport.accounts.practices import queue_for_each_practice

    return queue_for_each_practice(apply_practice_retention)


@shared_task(**RETRY)
def apply_practice_retention(organisation_id: int) -> int:
    from rapport.accounts.models import Organisation
    from rapport.privacy.services import due_for_retention

    with scopes_disabled():
        organisation = Organisation.objects.get(pk=organisation_id)
    ids = [client.pk for client in due_for_retention(organisation)]
    for start in range(0, len(ids), CHUNK):
        enqueue(erase_expired_clients, organisation_id, ids[start:start + CHUNK])
    return len(ids)


@shared_task(**RETRY)
def erase_expired_clients(organisation_id: int, client_ids: list[int]) -> int:
    """Erase those of these clients still past the retention period (checked again here: the
    policy or the client may have changed since the run began)."""
    from rapport.accounts.models import Organisation
    from rapport.privacy.models import Erasure
    from rapport.privacy.services import due_for_retention, erase_client

    with scopes_disabled():
        organisation = Organisation.objects.get(pk=organisation_id)
    wanted = set(client_ids)
    erased = 0
    for client in due_for_retention(organisation):
        if client.pk in wanted:
            erase_client(client, trigger=Erasure.Trigger.RETENTION,
                         reason="retention period passed")
            erased += 1
    return erased
