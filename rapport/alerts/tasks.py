"""Background tasks of the alerts app: the findings refresh after each response, the periodic
catch-up, and the daily full refresh (fanned out per practice and in chunks of episodes); the
messages about urgent alerts live in rapport.alerts.notify_tasks (imported here so that every
worker knows them).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from celery.signals import worker_ready
from django.db import transaction
from django_scopes import scope, scopes_disabled

from rapport.alerts import pending
from rapport.alerts.notify_tasks import escalate_urgent_alerts, notify_urgent_alert  # noqa: F401
from rapport.core.tasks import RETRY, enqueue

log = logging.getLogger(__name__)

CHUNK = 50  # episodes per task of the daily refresh
# Episodes a sweep refreshes itself; the rest it shares out in tasks of as many each, which
# other workers take. A task costs a worker more CPU than a refresh (measured on two cores,
# Redis and PostgreSQL: 2.5-4 ms for a task that runs one query, 1.5-2 ms for a refresh of an
# episode of 10-35 sessions): with a task per episode, a sweep after answers spread over many
# episodes (a practice's usual shape) cost the worker twice what the refreshes did.
SWEEP_INLINE = 20
# An episode behind for this long with no worker on it has lost its queued refresh.
STALE = timedelta(seconds=10)


@shared_task(**RETRY)
def refresh_episode_findings(episode_id: int) -> str:
    """Bring one episode's findings up to date (coalesced: see rapport.alerts.pending)."""
    outcome = pending.refresh(episode_id)
    if outcome == "again":
        enqueue(refresh_episode_findings, episode_id)
    return outcome


@shared_task(**RETRY)
def refresh_marked_findings() -> int:
    """Refresh every episode whose responses asked for one since its last refresh started, once
    each (the sweep the web processes queue a quarter second after responses): the first
    SWEEP_INLINE here, the others in tasks of SWEEP_INLINE episodes each
    (`refresh_episodes_findings`), queued first, which other workers share."""
    episodes = pending.take_unsent()
    for at in range(SWEEP_INLINE, len(episodes), SWEEP_INLINE):
        enqueue(refresh_episodes_findings, episodes[at:at + SWEEP_INLINE])
    for episode_id in episodes[:SWEEP_INLINE]:
        _refresh_or_queue(episode_id)
    return len(episodes)


@shared_task(**RETRY)
def refresh_episodes_findings(episode_ids: list[int]) -> int:
    """Refresh several episodes' findings one after the other (a sweep's share)."""
    for episode_id in episode_ids:
        _refresh_or_queue(episode_id)
    return len(episode_ids)


def _refresh_or_queue(episode_id: int) -> None:
    """Refresh one episode here; if that fails, queue its own task (retried on its own) and go
    on with the next."""
    try:
        refresh_episode_findings(episode_id)
    except Exception:
        log.exception("refreshing episode %s among others failed: queued", episode_id)
        enqueue(refresh_episode_findings, episode_id)


@shared_task(**RETRY)
def refresh_pending_findings(older_than_seconds: float = STALE.total_seconds()) -> int:
    """Queue a refresh for every episode left behind (periodic, and at every worker start)."""
    episodes = pending.behind(timedelta(seconds=older_than_seconds))
    for episode_id in episodes:
        enqueue(refresh_episode_findings, episode_id)
    return len(episodes)


@worker_ready.connect(dispatch_uid="rapport.alerts.tasks.worker_ready")
def _catch_up(sender=None, **kwargs) -> None:
    # A worker killed mid-refresh leaves its episodes behind: whoever starts next catches up.
    enqueue(refresh_pending_findings, 0)


@shared_task(**RETRY)
def refresh_findings() -> int:
    """The daily full refresh: one task per practice."""
    from rapport.accounts.practices import queue_for_each_practice

    return queue_for_each_practice(refresh_practice_findings)


@shared_task(**RETRY)
def refresh_practice_findings(organisation_id: int) -> int:
    """Refit the practice's curves, then queue its active episodes in chunks."""
    from rapport.accounts.models import Organisation
    from rapport.alerts.findings import trajectories_for
    from rapport.care.models import CareEpisode

    with scopes_disabled():
        organisation = Organisation.objects.get(pk=organisation_id)
    with scope(organisation=organisation):
        trajectories_for(organisation, refit=True)
        ids = list(CareEpisode.objects.filter(organisation=organisation).active()
                   .order_by("id").values_list("id", flat=True))
    for start in range(0, len(ids), CHUNK):
        enqueue(refresh_episodes, organisation_id, ids[start:start + CHUNK])
    return len(ids)


@shared_task(**RETRY)
def refresh_episodes(organisation_id: int, episode_ids: list[int]) -> int:
    """Recompute these episodes of one practice (those still active)."""
    from rapport.accounts.models import Organisation
    from rapport.alerts.findings import refresh_episode, trajectories_for
    from rapport.care.models import CareEpisode

    with scopes_disabled():
        organisation = Organisation.objects.get(pk=organisation_id)
    count = 0
    with scope(organisation=organisation):
        trajectories = trajectories_for(organisation)
        episodes = (CareEpisode.objects.filter(organisation=organisation, pk__in=episode_ids)
                    .active().select_related("organisation", "client").order_by("id"))
        for episode in episodes:
            with transaction.atomic():
                refresh_episode(episode, trajectories=trajectories)
            count += 1
    return count
