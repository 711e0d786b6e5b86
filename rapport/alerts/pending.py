"""An episode's findings refresh, off the request path: coalesced per episode and crash-safe.

- `mark(episode_id, organisation_id)` runs inside the transaction that stores a response and
  counts one more response to read (`PendingRefresh.requested`); unless a refresh is asked for
  already and no worker has started it (`queued_at`), the caller has one queued once the
  transaction commits: by the sweep `take_unsent` serves, which takes each episode once
  (`sent_at`) however many web processes asked for a sweep, and refreshes it or shares it
  out in a task of several episodes (rapport.alerts.tasks). So the queue holds a few tasks
  for a burst, not one per response: after a burst, a new episode's refresh (and its alert)
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

import functools
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from rapport.alerts.models import PendingRefresh
from rapport.care.models import CareEpisode, Client, EpisodeStatus
from rapport.core import statements
from rapport.core.fields import EncryptedDateField, EncryptedTextField
from rapport.core.statements import Joined, Part


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
    with statements.cursor() as cursor:  # prepared: it runs with every response stored
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
    requested, claimed, busy = _start(episode_id, now, now + _claim())
    if not claimed:
        return "busy" if busy else "clean"
    try:
        episode = _episode(episode_id)
        # Findings are for episodes in progress (see findings.refresh_all).
        if episode is not None and episode.status == EpisodeStatus.ACTIVE:
            with scope(organisation=episode.organisation_id), transaction.atomic():
                refresh_episode(episode)
    except BaseException:
        with scopes_disabled():
            PendingRefresh.objects.filter(pk=episode_id).update(claimed_until=None)
        raise
    return "again" if _finish(episode_id, requested) else "done"


def _start(episode_id: int, now, until) -> tuple[int, bool, bool]:
    """One statement: the queued task has started (responses counted from now on queue their
    own), and the episode is claimed until `until` if it is due and no live worker holds it.
    Returns the responses counted (every one is committed: each is counted in its own storing
    transaction, which holds the row until it commits, so the recompute reads at least these),
    whether this worker claimed it, and whether a live worker holds it with responses due."""
    table = connection.ops.quote_name(PendingRefresh._meta.db_table)
    now, until = (connection.ops.adapt_datetimefield_value(t) for t in (now, until))
    with statements.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET queued_at = NULL, sent_at = NULL, claimed_until = CASE WHEN "  # noqa: S608 - table name from the model
            "(claimed_until IS NULL OR claimed_until < %s) AND requested > done THEN %s "
            "ELSE claimed_until END WHERE episode_id = %s RETURNING requested, "
            "claimed_until = %s, claimed_until >= %s AND requested > done",
            [now, until, episode_id, until, now],
        )
        row = cursor.fetchone()
    return (0, False, False) if row is None else (row[0], bool(row[1]), bool(row[2]))


def _finish(episode_id: int, requested: int) -> bool:
    """One statement: record the responses read as done and release the episode. Returns
    whether responses counted meanwhile leave it behind (they are committed before this
    statement can change the row, so the holder's final check sees them)."""
    table = connection.ops.quote_name(PendingRefresh._meta.db_table)
    with statements.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET done = CASE WHEN done < %s THEN %s ELSE done END, "  # noqa: S608 - table name from the model
            "claimed_until = NULL WHERE episode_id = %s RETURNING requested > done",
            [requested, requested, episode_id],
        )
        row = cursor.fetchone()
    return bool(row and row[0])


@functools.cache
def _episode_read() -> Joined:
    """The episode with its practice and client (but their encrypted columns, which a refresh
    never reads), in one statement written once per process (rapport.core.statements)."""
    from rapport.accounts.models import Organisation

    def encrypted(model) -> tuple[str, ...]:
        return tuple(f.name for f in model._meta.concrete_fields
                     if isinstance(f, EncryptedTextField | EncryptedDateField))

    return Joined(
        Part(CareEpisode, "e", defer=encrypted(CareEpisode)),
        Part(Organisation, "o", "JOIN {organisation} o ON o.id = e.organisation_id"),
        Part(Client, "k", "JOIN {client} k ON k.id = e.client_id", defer=encrypted(Client)),
        where="e.id = %s",
    )


def _episode(episode_id: int) -> CareEpisode | None:
    found = _episode_read().first([episode_id])
    if found is None:
        return None
    (episode, organisation, client), _ = found
    episode.organisation, episode.client = organisation, client
    return episode


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
