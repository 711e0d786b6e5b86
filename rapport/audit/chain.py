"""A hash chain over the audit trail: any edit, deletion or truncation shows.

Each event has a position `seq` (1, 2, 3, ...) and a `row_hash`:

    row_hash = SHA-256(previous row_hash, seq, at, organisation, actor, action, object_type,
                       ip_address, content_digest)
    content_digest = SHA-256(client_code, object_code, actor_label, detail)

The fields an erasure may mask (which client, which object, the detail) enter the chain only
through `content_digest`, which masking leaves in place: a masked event still chains, and
`verify` accepts a changed content digest only for an event masked by an erasure announced later
in the chain, no more events than it announced (rapport.audit.masking). Events
are appended under a lock (PostgreSQL: a transaction-level advisory lock; SQLite: its single
writer), so positions are gapless and each hash follows the one before.

Locks. The append lock is one for the whole installation, so it is taken after a change's own
row locks, never before them (a check-in's answer reads the head in a statement after the one
that stores it), and the rows the application locks are locked FOR NO KEY UPDATE
(`select_for_update(no_key=True)`, which tests/test_locks.py holds every call to): a row
inserted under the append lock checks its foreign keys when its transaction commits, taking FOR
KEY SHARE on the rows it refers to, which FOR UPDATE would refuse. A transaction holding an
episode's row FOR UPDATE and waiting for the append lock, while the transaction holding that
lock commits a response of the episode, would wait for each other until PostgreSQL failed one.
A findings sync saves alerts after it has appended, so it locks them when it reads them,
before (rapport.alerts.reads.alerts_of). One row is locked after the append lock on purpose: a
response's count for its episode's findings refresh (rapport.alerts.pending.mark), whose other
writers are single statements that never wait for the append lock.

The chain proves the trail is unchanged up to a head (seq, row_hash) recorded earlier: keep the
head `rapport manage verify_audit` prints (or pass --checkpoint FILE), and a later run detects any
change before it, including the rows removed by a truncation.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from dataclasses import dataclass
from datetime import UTC

from django.db import connection

from rapport.core import statements

GENESIS = "0" * 64
# pg_advisory_xact_lock key for appending to the chain (an arbitrary constant: "RAPPORT1").
LOCK_KEY = 0x52415050_4F525431


def _canonical(values: list) -> bytes:
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def content_digest(event) -> str:
    return hashlib.sha256(_canonical([
        str(event.client_code or ""), event.object_code, event.actor_label, event.detail,
    ])).hexdigest()


def _ip(value) -> str:
    return str(ipaddress.ip_address(value)) if value else ""


def row_hash(previous: str, event) -> str:
    return hashlib.sha256(_canonical([
        previous, event.seq, event.at.astimezone(UTC).isoformat(), event.organisation_id,
        event.actor_id, event.action, event.object_type, _ip(event.ip_address),
        event.content_digest,
    ])).hexdigest()


def lock() -> None:
    """Serialise appends until the transaction ends (SQLite's writer lock already does)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


# PostgreSQL: the function that takes the append lock and then reads the head, one statement
# (migration audit 0006: its read has a snapshot of its own, taken after the lock).
HEAD_FUNCTION = "audit_chain_head()"


def _head(model) -> tuple[int, str] | None:
    """The last event's (seq, row_hash), read under the append lock, which it takes first.

    PostgreSQL: one prepared statement (`HEAD_FUNCTION`). Elsewhere: `lock()`, then the read."""
    if connection.vendor != "postgresql":
        lock()
        return _head_query(model).first()
    with statements.cursor() as cursor:
        cursor.execute(f"SELECT seq, row_hash FROM {HEAD_FUNCTION}")  # noqa: S608 - a constant
        return Head.of(*cursor.fetchone()).last


def _head_query(model):
    return (model.objects.filter(seq__isnull=False).order_by("-seq")
            .values_list("seq", "row_hash"))[:1]


@dataclass(frozen=True)
class Head:
    """The chain's head read under the lock by a caller's own statement (PostgreSQL: selecting
    from `HEAD_FUNCTION`), to give to `record`; `last` None: no event yet."""

    last: tuple[int, str] | None

    @classmethod
    def of(cls, seq: int | None, row_hash: str | None) -> Head:
        return cls(None if seq is None else (seq, row_hash))


def seal(event, model, head: Head | None = None) -> None:
    """Give an unsaved event its position and hashes, taking the append lock (held until the
    transaction ends), or after `head`, read under the lock already by the caller (selecting
    from `HEAD_FUNCTION`). Call in a transaction."""
    last = _head(model) if head is None else head.last
    seq, previous = last if last else (0, GENESIS)
    event.seq = seq + 1
    event.content_digest = content_digest(event)
    event.row_hash = row_hash(previous, event)


@dataclass
class Report:
    events: int
    head_seq: int
    head_hash: str
    problems: list[str]

    @property
    def intact(self) -> bool:
        return not self.problems


# An erasure's announcement (rapport.audit.masking; the action is named here, below the apps).
ANNOUNCEMENT = "privacy.client.erased"


def _announcements(model) -> dict[str, tuple[int, int | None]]:
    """Erasure code -> (seq of its announcement, how many events it says it masked)."""
    found = {}
    for code, seq, detail in (model.objects.filter(action=ANNOUNCEMENT, seq__isnull=False)
                              .values_list("object_code", "seq", "detail")):
        said = detail.get("events_masked") if isinstance(detail, dict) else None
        found[code] = (seq, said if isinstance(said, int) else None)
    return found


def _masked_by(event, announced: dict[str, tuple[int, int | None]]) -> str | None:
    """The erasure that masked this event, if one announced later in the chain did."""
    marker = event.detail.get("masked_by_erasure") if isinstance(event.detail, dict) else None
    if (event.detail == {"masked_by_erasure": marker} and marker in announced
            and announced[marker][0] > event.seq and event.client_code is None
            and event.object_code == ""):
        return marker
    return None


def verify(model, checkpoint: tuple[int, str] | None = None, limit: int = 20) -> Report:
    """Walk the whole chain; report every break (at most `limit` of them).

    An event whose content changed is accepted only as an erasure's masking: marked with an
    erasure announced later in the chain, and no more events per erasure than it announced.
    """
    problems: list[str] = []
    announced = _announcements(model)
    masked: dict[str, int] = {}
    previous, expected_seq, count = GENESIS, 1, 0
    hashes_at_checkpoint = None
    unsealed = model.objects.filter(seq__isnull=True).count()
    if unsealed:
        problems.append(f"{unsealed} events have no place in the chain (inserted around it)")
    for event in model.objects.filter(seq__isnull=False).order_by("seq").iterator(chunk_size=2000):
        count += 1
        if event.seq != expected_seq:
            problems.append(f"events {expected_seq} to {event.seq - 1} are missing (deleted)")
        if row_hash(previous, event) != event.row_hash:
            problems.append(f"event {event.seq} (id {event.pk}) was changed, or one before it removed")
        elif content_digest(event) != event.content_digest:
            erasure = _masked_by(event, announced)
            if erasure is None:
                problems.append(f"event {event.seq} (id {event.pk}) was changed: its content differs")
            else:
                masked[erasure] = masked.get(erasure, 0) + 1
        if checkpoint and event.seq == checkpoint[0]:
            hashes_at_checkpoint = event.row_hash
        previous, expected_seq = event.row_hash, event.seq + 1
        if len(problems) >= limit:
            problems.append("(stopped after this many problems)")
            break
    problems += [f"{n} events carry the mark of erasure {code}, which announced {announced[code][1]} (event "
                 f"{announced[code][0]}): masked in its name by someone else"
                 for code, n in masked.items() if announced[code][1] not in (None, n)][:limit]
    if checkpoint is not None:
        seq, digest = checkpoint
        if hashes_at_checkpoint is None:
            problems.append(f"event {seq} of the checkpoint is gone: the trail was truncated")
        elif hashes_at_checkpoint != digest:
            problems.append(f"event {seq} no longer has the checkpoint's hash: the trail was rewritten")
    return Report(count, expected_seq - 1, previous, problems)
