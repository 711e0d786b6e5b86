"""An episode's findings refresh, off the request path: coalesced per episode and crash-safe.

- `mark(episode_id, organisation_id)` runs inside the transaction that stores a response and
  counts one more response to read (`PendingRefresh.requested`); unless a refresh is asked for
  already and no worker has started it (`queued_at`), the caller has one queued once the
  transaction commits: by the sweep `take_unsent` serves, which queues each episode's task
  once (`sent_at`) however many web processes asked for a sweep. So the queue holds one task
  per episode, not one per response: after a burst, a new episode's refresh (and its alert)
  waits behind a few tasks, not hundreds.
- `refresh(episode_id)` (the worker's task) claims the episode, reads how many responses are
  stored, recomputes the findings from everything committed, and records that count as done.
  Responses stored meanwhile leave it behind again: it answers "again" and the task queues
  itself once more. So a burst of N responses for one episode costs one or two recomputes, not N.
- A refresh lost with a dying worker, or never queued (a crash between commit and queueing),
  leaves the episode behind; `behind()` finds such episodes for the periodic task and for every
  worker that starts, so no response is left unanalysed.

Why no response waits unseen: a worker starting a refresh clears `queued_at` in the same
statement that claims the episode (or finds it held, or up to date), so a response counted
after that statement queues its own task; one counted before it is read by this refresh, by
the holder's final check (it is committed before the holder releases the episode), or was
already read (the episode was up to date). The row's lock orders the statements.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from rapport.alerts.models import PendingRefresh
from rapport.care.models import CareEpisode, EpisodeStatus


def _claim() -> timedelta:
    """How long a worker's claim on an episode lasts (settings.FINDINGS_CLAIM_SECONDS): a
    refresh takes well under a second, so an older claim belongs to a worker that died."""
    return timedelta(seconds=settings.FINDINGS_CLAIM_SECONDS)


def mark(episode_id: int, organisation_id: int) -> bool:
    """Count one more response for the episode (inside the storing transaction, one statement).

    Returns whether the caller should queue a refresh once the transaction commits: False when
    one is queued already and no worker has started it (it will read this response).
    """
    table = connection.ops.quote_name(PendingRefresh._meta.db_table)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (episode_id, organisation_id, requested, done, requested_at, "  # noqa: S608 - table name from the model
            "queued_at) VALUES (%s, %s, 1, 0, %s, %s) ON CONFLICT (episode_id) DO UPDATE SET "
            f"requested = {table}.requested + 1, requested_at = excluded.requested_at, "
            f"queued_at = COALESCE({table}.queued_at, excluded.queued_at) "
            "RETURNING queued_at = %s",
            [episode_id, organisation_id, now, now, now],
        )
        return bool(cursor.fetchone()[0])


def _due():
    return PendingRefresh.objects.filter(requested__gt=F("done"))


def refresh(episode_id: int) -> str:
    """Bring the episode's findings up to date with its stored responses.

    Returns "clean" (nothing was due), "busy" (another worker holds it: it will see what is
    new when it finishes), "done", or "again" (responses arrived during the recompute: queue
    another refresh).
    """
    from rapport.alerts.findings import refresh_episode

    now = timezone.now()
    until = now + _claim()
    with scopes_disabled():
        row = PendingRefresh.objects.filter(pk=episode_id)
        # One statement: the queued task has started (responses counted from now on queue
        # their own), and the episode is claimed if it is due and no live worker holds it.
        free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
        row.update(queued_at=None, sent_at=None, claimed_until=Case(
            When(free & Q(requested__gt=F("done")), then=Value(until)),
            default=F("claimed_until")))
        # Read the count before the responses: every response it counts is committed (each is
        # counted in its own storing transaction), so the recompute below reads at least these.
        requested, done, claimed = (row.values_list("requested", "done", "claimed_until")
                                    .first() or (0, 0, None))
        if claimed != until:
            return "busy" if claimed is not None and claimed >= now and requested > done \
                else "clean"
        try:
            episode = CareEpisode.objects.select_related("organisation", "client").get(pk=episode_id)
            # Findings are for episodes in progress (see findings.refresh_all).
            if episode.status == EpisodeStatus.ACTIVE:
                with scope(organisation=episode.organisation_id), transaction.atomic():
                    refresh_episode(episode)
        except BaseException:
            PendingRefresh.objects.filter(pk=episode_id).update(claimed_until=None)
            raise
        PendingRefresh.objects.filter(pk=episode_id, done__lt=requested).update(done=requested)
        PendingRefresh.objects.filter(pk=episode_id).update(claimed_until=None)
        return "again" if _due().filter(episode_id=episode_id).exists() else "done"


def take_unsent() -> list[int]:
    """Episodes asked for a refresh whose task is not on the queue yet, marked sent: each is
    returned once (by one sweep), until a worker starts its refresh. Marked before it is
    queued: a task lost between the two is found by `behind` like any lost task.

    One UPDATE: a row a storing transaction holds (a response of the episode being stored
    now) is waited for, not passed over, so the sweep after a burst leaves nothing unsent."""
    table = connection.ops.quote_name(PendingRefresh._meta.db_table)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET sent_at = %s "  # noqa: S608 - table name from the model
            "WHERE queued_at IS NOT NULL AND sent_at IS NULL RETURNING episode_id", [now])
        return sorted(row[0] for row in cursor.fetchall())


def behind(older_than: timedelta = timedelta(0), limit: int = 10_000) -> list[int]:
    """Episodes whose findings are behind and that no live worker holds, oldest first."""
    now = timezone.now()
    with scopes_disabled():
        since = now - older_than
        return list(
            # A queued task not started for that long is lost too, however recent the
            # responses counted since (they queued none of their own).
            _due().filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
                          Q(queued_at__lte=since) | Q(queued_at__isnull=True,
                                                      requested_at__lte=since))
            .order_by("requested_at").values_list("episode_id", flat=True)[:limit]
        )


def pending_count() -> int:
    with scopes_disabled():
        return _due().count()
