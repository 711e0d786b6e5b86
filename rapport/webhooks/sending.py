"""One delivery attempt: the stored message, signed per the Standard Webhooks specification
(`standardwebhooks`), sent by rapport.webhooks.outgoing, and logged."""

from __future__ import annotations

import json

from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled
from standardwebhooks import Webhook

from rapport.webhooks import outgoing
from rapport.webhooks.models import Delivery, DeliveryStatus, Endpoint


def _sign(endpoint: Endpoint, delivery: Delivery, body: str) -> dict[str, str]:
    timestamp = timezone.now()
    keys = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_until and (
            timestamp < endpoint.previous_secret_until):
        keys.append(endpoint.previous_secret)
    return {
        "Content-Type": "application/json",
        "User-Agent": "Rapport-Webhooks/1",
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        # Space-separated signatures, one per secret in use (the specification's rotation).
        "webhook-signature": " ".join(Webhook(secret).sign(delivery.message_id, timestamp, body)
                                      for secret in keys),
    }


def attempt(delivery_id: int, *, attempts: int) -> tuple[str, int]:
    """Send the delivery once (the same message id and body each time, signed afresh) and log
    the attempt; returns its status and how many attempts it has had. A failure is final at the
    `attempts`-th attempt, and at once for an address we refuse (trying again changes nothing)."""
    with scopes_disabled(), transaction.atomic():
        delivery = Delivery.objects.select_for_update(no_key=True).select_related("endpoint").get(
            pk=delivery_id)
        if delivery.status in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED):
            return delivery.status, delivery.attempts  # a message handed out twice: sent once
        endpoint = delivery.endpoint
        body = json.dumps(delivery.payload, separators=(",", ":"))
        final = delivery.attempts + 1 >= attempts
        if not endpoint.active:
            outcome, final = outgoing.Outcome(None, "The endpoint is switched off."), True
        else:
            try:
                outcome = outgoing.post(endpoint.url, body.encode(),
                                        _sign(endpoint, delivery, body))
            except outgoing.Refused as e:
                outcome, final = outgoing.Outcome(None, str(e)), True
        now = timezone.now()
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.last_status_code = outcome.status
        delivery.last_error = outcome.error[:200]
        if outcome.delivered:
            delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
        else:
            delivery.status = DeliveryStatus.FAILED if final else DeliveryStatus.RETRYING
        delivery.save()
        return delivery.status, delivery.attempts
