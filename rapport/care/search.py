"""Finding and sorting clients whose names and contact details are encrypted at rest.

SQL cannot compare encrypted columns, so:

- e-mail and phone are matched exactly through their keyed blind indexes (rapport.core.blind_index:
  case and spaces in an address, and everything but the digits of a number, do not matter);
- names are matched and sorted in Python after decryption, always within one practice (a few
  hundred to a few thousand rows; nothing crosses practices).

`find_clients(practice, query, within=...)` is what a search page calls; `within` narrows the
practice's clients to those the user may reach (rapport.care.access.clients_for(request)).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from django.db.models import QuerySet

from rapport.care.models import Client
from rapport.core import blind_index

# A query made only of these characters, with enough digits, is read as a phone number.
_PHONE = re.compile(r"[\d\s()+\-./]+")
MIN_PHONE_DIGITS = 6


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())


def name_key(client: Client) -> tuple[str, str, int]:
    """Sort key: the name the client goes by, case-insensitively, then the full name."""
    return _fold(client.display_name), _fold(client.name), client.pk or 0


def by_name(clients: Iterable[Client]) -> list[Client]:
    """The clients sorted by name (decrypted), case-insensitively."""
    return sorted(clients, key=name_key)


def with_email(clients: QuerySet[Client], email: str) -> QuerySet[Client]:
    """The clients whose address is `email` (trimmed, any case)."""
    return clients.filter(email_index__in=blind_index.candidates("email", email))


def with_phone(clients: QuerySet[Client], phone: str) -> QuerySet[Client]:
    """The clients whose number has the same digits as `phone`."""
    return clients.filter(phone_index__in=blind_index.candidates("phone", phone))


def same_email(a: str, b: str) -> bool:
    return bool(blind_index.normalise("email", a)) and (
        blind_index.normalise("email", a) == blind_index.normalise("email", b))


def same_phone(a: str, b: str) -> bool:
    return bool(blind_index.normalise("phone", a)) and (
        blind_index.normalise("phone", a) == blind_index.normalise("phone", b))


def looks_like_phone(query: str) -> bool:
    return bool(_PHONE.fullmatch(query.strip())) and len(
        blind_index.normalise("phone", query)) >= MIN_PHONE_DIGITS


def find_clients(practice, query: str, *, within: QuerySet[Client] | None = None) -> list[Client]:
    """The practice's clients matching `query`, sorted by name.

    An e-mail address (contains "@") or a phone number matches exactly, through the blind index;
    any other text matches a case-insensitive part of the name or the preferred name. An empty
    query finds nobody. `within` (a Client queryset) narrows the search, e.g. to the clients the
    user may reach; the practice is applied in any case, so another practice's clients never
    appear.
    """
    query = query.strip()
    if not query:
        return []
    clients = (Client.objects.all() if within is None else within).filter(organisation=practice)
    if "@" in query:
        return by_name(with_email(clients, query))
    found = set(with_phone(clients, query).values_list("pk", flat=True)) \
        if looks_like_phone(query) else set()
    needle = _fold(query)
    # Decrypt only the two names of each client (each value costs a decryption), then load the
    # matches whole.
    for pk, name, preferred in clients.values_list("pk", "name", "preferred_name"):
        if needle in _fold(name) or needle in _fold(preferred):
            found.add(pk)
    return by_name(clients.filter(pk__in=found)) if found else []
