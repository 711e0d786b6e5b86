"""Subscribing, rotating secrets, and queueing an event for every subscribed endpoint of its
practice (rapport.webhooks.sending sends it)."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django.utils import timezone
from django_scopes import scopes_disabled

from rapport.audit.services import record
from rapport.core.tasks import enqueue_on_commit
from rapport.webhooks.models import Delivery, Endpoint
from rapport.webhooks.tasks import deliver


def new_secret() -> str:
    """A signing secret as the Standard Webhooks libraries read it: "whsec_" + base64 of 32
    random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def create_endpoint(organisation, *, url: str, events: list[str],
                    request: HttpRequest | None = None) -> tuple[Endpoint, str]:
    """A new endpoint and its secret (shown once: afterwards it is only ever stored encrypted)."""
    secret = new_secret()
    endpoint = Endpoint.objects.create(
        organisation=organisation, url=url, events=list(events), secret=secret,
        created_by=getattr(request, "user", None) if request and request.user.is_authenticated
        else None)
    record(request, "webhooks.endpoint.created", endpoint, organisation=organisation,
           detail={"events": list(events)})
    return endpoint, secret


# How long the old secret still signs after a rotation that keeps it working.
OVERLAP = timedelta(hours=24)


def rotate_secret(endpoint: Endpoint, request: HttpRequest | None = None, *,
                  keep_old: bool = False) -> str:
    """A new secret for the endpoint, used from the next attempt on. With `keep_old`, messages
    carry a signature with the old one too for OVERLAP (the receiver switches over in its own
    time); otherwise (a secret that leaked) the old one stops at once."""
    secret = new_secret()
    now = timezone.now()
    if keep_old:
        endpoint.previous_secret, endpoint.previous_secret_until = endpoint.secret, now + OVERLAP
    else:
        endpoint.previous_secret, endpoint.previous_secret_until = "", None
    endpoint.secret = secret
    endpoint.secret_rotated_at = now
    endpoint.save(update_fields=["secret", "secret_rotated_at", "previous_secret",
                                 "previous_secret_until"])
    record(request, "webhooks.endpoint.secret_rotated", endpoint,
           organisation=endpoint.organisation, detail={"old_kept": keep_old})
    return secret


def emit(organisation, event: str, data: Callable[[], dict]) -> list[Delivery]:
    """Queue `event` for each active endpoint of the practice subscribed to it (never another
    practice's). Called inside the transaction that made the change: the deliveries are stored
    with it, and queued once it commits. `data` builds the payload's data, only when needed.

    `organisation`: the practice's id, or the practice itself when it is at hand: then a
    practice without any endpoint (`has_webhook_endpoints`, kept by the receivers of
    rapport.webhooks.receivers) costs no look-up. An endpoint created after that row was read
    gets the events of changes made after it was created, as with the look-up (an endpoint
    committed while the change's transaction is open is not seen by it either).
    """
    if not isinstance(organisation, int) and not organisation.has_webhook_endpoints:
        return []
    organisation_id = getattr(organisation, "pk", organisation)
    with scopes_disabled():
        endpoints = [e for e in Endpoint.objects.filter(organisation_id=organisation_id,
                                                         active=True).only("id", "events")
                     if event in e.events]
    if not endpoints:
        return []
    payload = {"type": event, "timestamp": timezone.now().isoformat(), "data": data()}
    deliveries = []
    for endpoint in endpoints:
        delivery = Delivery.objects.create(
            organisation_id=organisation_id, endpoint_id=endpoint.pk,
            message_id=f"msg_{uuid.uuid4().hex}", event=event, payload=payload)
        enqueue_on_commit(deliver, delivery.pk)
        deliveries.append(delivery)
    return deliveries


def mark_practice(organisation_id: int) -> None:
    """Record whether the practice has any endpoint (after one was created or deleted)."""
    from rapport.accounts.models import Organisation

    with scopes_disabled():
        Organisation.objects.filter(pk=organisation_id).update(has_webhook_endpoints=Exists(
            Endpoint.objects.filter(organisation_id=OuterRef("pk"))))
