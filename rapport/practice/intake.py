"""Adding a client: duplicates caught first (same email or phone), then the client and an episode.

A possible duplicate is shown to the person adding, who chooses: open the existing client, or add
a different person. Nothing is ever merged. Someone who cannot reach the existing client (another
therapist's) learns only that a match exists, not who it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.http import HttpRequest

from rapport.accounts.models import User
from rapport.audit.services import record
from rapport.care import access, search
from rapport.care.models import CareEpisode, Client


@dataclass
class Match:
    client: Client
    reachable: bool  # the person adding may open this client
    by: str  # "email", "phone" or "email and phone"


def possible_duplicates(request: HttpRequest, email: str, phone: str) -> list[Match]:
    """Clients of the practice with the same address or number, found through the blind indexes
    (contact details are encrypted at rest; rapport.care.search)."""
    found: dict[int, Client] = {}
    for lookup, value in ((search.with_email, email), (search.with_phone, phone)):
        found |= {c.pk: c for c in lookup(Client.objects.all(), value)}
    candidates = search.by_name(found.values())
    reachable = set(access.clients_for(request).filter(pk__in=list(found))
                    .values_list("pk", flat=True))
    matches = []
    for c in candidates:
        by = [k for k, hit in (("email", search.same_email(email, c.email)),
                               ("phone", search.same_phone(phone, c.phone))) if hit]
        matches.append(Match(c, c.pk in reachable, " and ".join(by)))
    return matches


@transaction.atomic
def add_client(request: HttpRequest, data: dict, therapist: User) -> CareEpisode:
    client = Client.objects.create(
        organisation=request.organisation,
        **{k: data[k] for k in ("name", "preferred_name", "pronouns", "phone", "language",
                                "preferred_channel", "emergency_contact")},
        email=data["email"].strip().lower(),
    )
    episode = CareEpisode.objects.create(organisation=request.organisation, client=client,
                                         therapist=therapist)
    record(request, "practice.client.added", client, client=client,
           detail={"despite_possible_duplicate": bool(data.get("different_person"))})
    record(request, "practice.episode.opened", episode, client=client,
           detail={"therapist": therapist.email})
    return episode
