"""Erasing a client from the delivery log (see rapport.privacy.registry): the deliveries whose
payload names the client are deleted, whatever keep_scores says (they hold no scores)."""

from __future__ import annotations

from rapport.privacy.registry import Erased
from rapport.webhooks.models import Delivery


def erase(client, *, keep_scores: bool) -> Erased:
    done = Erased()
    done.add("deliveries", Delivery.objects.filter(
        organisation_id=client.organisation_id, payload__data__client=str(client.code)).delete()[0])
    return done
