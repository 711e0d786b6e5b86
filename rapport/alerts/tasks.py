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
# Episodes a sweep refreshes itself before the others get a task each. A task costs a worker
# about as much CPU as a refresh (measured on two cores, Redis and PostgreSQL: 2.5-4 ms for a
# task that runs one query, 3-4 ms for a refresh of 20-35 responses), so the few episodes of
# a usual sweep are cheapest refreshed in place; a sweep after a large burst still shares the
# rest between workers.
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
    SWEEP_INLINE here, the others each in a task of its own, queued first, which other workers
    share. An episode whose refresh fails here is queued as a task, retried on its own."""
    episodes = pending.take_unsent()
    for episode_id in episodes[SWEEP_INLINE:]:
        enqueue(refresh_episode_findings, episode_id)
    for episode_id in episodes[:SWEEP_INLINE]:
        try:
            refresh_episode_findings(episode_id)
        except Exception:
            log.exception("refreshing episode %s in the sweep failed: queued", episode_id)
            enqueue(refresh_episode_findings, episode_id)
    return len(episodes)


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
