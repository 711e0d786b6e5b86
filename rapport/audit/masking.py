"""Masking an erased client in the audit trail, the one change the trail allows.

An erasure first announces itself in the trail (`privacy.client.erased`, appended under the
chain's lock, so it is the newest event), naming the erasure and carrying digests of the
client's code and of the ids of the events it is about to mask, and their number; then it masks
exactly those events. On PostgreSQL the application's role may not UPDATE the trail: the
masking runs in `audit_mask_events`, a SECURITY DEFINER function owned by the migrations' role,
which refuses unless the erasure's announcement is the chain's newest event and its digests
match what it is asked to mask. So an old erasure cannot be reused for another client or other
events, and an erasure that masks anything is always visible in the trail. `chain.verify`
accepts a masked event only when an announcement later in the chain masked it, and only as many
events as the announcement says.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

from django.db import connection
from django.db.models import Case, F, Q, Value, When

from rapport.audit import chain
from rapport.audit.models import AuditEvent

ANNOUNCEMENT = chain.ANNOUNCEMENT
MARKER = "masked_by_erasure"


def digest(values: Iterable) -> str:
    return hashlib.sha256(",".join(str(v) for v in values).encode()).hexdigest()


def events_naming(client_code, object_codes: set[str]) -> list[int]:
    """Ids of the events that name the client (its code, an actor label "client:<code>", the
    code anywhere in the detail, e.g. an audit search by client) or are about one of
    `object_codes`, in order."""
    named = (Q(client_code=client_code) | Q(actor_label=f"client:{client_code}")
             | Q(detail__icontains=str(client_code)))
    codes = sorted(object_codes)
    # In batches: a long episode has thousands of codes, more than one query should carry.
    about = [Q(object_code__in=codes[start:start + 500]) for start in range(0, len(codes), 500)]
    ids: set[int] = set()
    for condition in (named, *about):
        ids.update(AuditEvent.objects.filter(condition).values_list("pk", flat=True))
    return sorted(ids)


def mask_client(client_code, object_codes: set[str],
                announce: Callable[[dict], AuditEvent]) -> int:
    """Announce, then mask the client's events; returns how many were masked. `announce(detail)`
    records the erasure's announcement with `detail` added (call in the erasure's transaction)."""
    chain.lock()  # no event can be appended between the listing and the masking
    ids = events_naming(client_code, object_codes)
    event = announce({"client": digest([client_code]), "events": digest(ids), "events_masked": len(ids)})
    if not ids:
        return 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT audit_mask_events(%s::uuid, %s::uuid, %s::bigint[])",
                           [event.object_code, str(client_code), ids])
            return cursor.fetchone()[0]
    label = f"client:{client_code}"
    masked = 0
    for start in range(0, len(ids), 500):
        # QuerySet.update bypasses AuditEvent.save(), which refuses changes.
        masked += AuditEvent.objects.filter(pk__in=ids[start:start + 500]).update(
            client_code=None, object_code="",
            actor_label=Case(When(actor_label=label, then=Value("client:erased")), default=F("actor_label")),
            detail={MARKER: event.object_code},
        )
    return masked
