"""Recording audit events. Call `record` inside the same transaction as the change it describes."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from rapport.audit.models import AuditEvent
from rapport.core.proxies import client_ip

__all__ = ["client_ip", "record"]


def record(
    request: HttpRequest | None,
    action: str,
    obj: Any = None,
    *,
    client: Any = None,
    organisation: Any = None,
    actor_label: str | None = None,
    detail: dict | None = None,
    head=None,
) -> AuditEvent:
    """Append one event: who (from the request), what (action and object), about which client.

    `head`: the chain's head, read under its lock in this transaction with the caller's own
    statement (`chain.HEAD_FUNCTION`)."""
    user = getattr(request, "user", None)
    actor = user if user is not None and user.is_authenticated else None
    if actor_label is None:
        # A client in their portal session acts as themselves, not as an anonymous visitor.
        portal_client = getattr(request, "portal_client", None)
        if actor is not None:
            actor_label = f"user:{actor.email}"
            token = getattr(request, "api_token", None)
            if token is not None:  # acting through an API token (rapport.api): which one
                actor_label += f" token:{token.prefix}"
        elif portal_client is not None:
            actor_label = f"client:{portal_client.code}"
        else:
            actor_label = "anonymous"
    if organisation is None:
        organisation = getattr(obj, "organisation", None) or getattr(client, "organisation", None)
    if client is None:
        client = getattr(obj, "client", None)
    event = AuditEvent(
        organisation=organisation,
        actor=actor,
        actor_label=actor_label,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_code=str(getattr(obj, "code", "")) if obj is not None else "",
        client_code=getattr(client, "code", None),
        ip_address=client_ip(request),
        detail=detail or {},
    )
    event.save(head=head)
    return event
