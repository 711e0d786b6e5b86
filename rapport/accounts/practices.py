"""Work done for every practice: the scheduled jobs fan out one task per practice."""

from __future__ import annotations

from rapport.accounts.models import Organisation
from rapport.core.tasks import enqueue


def queue_for_each_practice(task) -> int:
    """Queue `task(organisation_id)` once for each practice, so several workers share the work;
    returns how many were queued."""
    ids = list(Organisation.objects.order_by("id").values_list("id", flat=True))
    for organisation_id in ids:
        enqueue(task, organisation_id)
    return len(ids)
