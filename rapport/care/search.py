"""Finding and sorting clients whose names and contact details are encrypted at rest.

SQL cannot compare encrypted columns, so:

- e-mail and phone are matched exactly through their keyed blind indexes (rapport.core.blind_index:
  case and spaces in an address, and everything but the digits of a number, do not matter);
- names are matched and sorted in Python after decryption, always within one practice (a few
  hundred to a few thousand rows; nothing crosses practices): every word of the query must start
  one of the client's names, case and accents aside ("jo al" finds "José Álvarez").

`for_user(request, query)` is what the search page calls (the clients the user may reach);
`find_clients(practice, query, within=...)` is the same search for code without a request.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from django.db.models import QuerySet
from django.http import HttpRequest

from rapport.care import access
from rapport.care.models import Client
from rapport.core import blind_index

# A query made only of these characters, with enough digits, is read as a phone number.
_PHONE = re.compile(r"[\d\s()+\-./]+")
MIN_PHONE_DIGITS = 6
MAX_QUERY = 100  # characters: a longer "name" is not a name
MAX_RESULTS = 50


def fold(text: str) -> str:
    """Lower case without accents, so "jose" finds "José" and "ZOE" finds "Zoë"."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def name_key(client: Client) -> tuple[str, str, int]:
    """Sort key: the name the client goes by, case and accents aside, then the full name."""
    return fold(client.display_name), fold(client.name), client.pk or 0


def by_name(clients: Iterable[Client]) -> list[Client]:
    """The clients sorted by name (decrypted), case and accents aside ("Álvaro" beside "adam")."""
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


def _names_match(words: list[str], *names: str) -> bool:
    parts = fold(" ".join(names)).split()
    return all(any(p.startswith(w) for p in parts) for w in words)


def find_clients(practice, query: str, *, within: QuerySet[Client] | None = None) -> list[Client]:
    """The practice's clients matching `query`, sorted by name.

    An e-mail address (contains "@") or a phone number matches exactly, through the blind index;
    any other text matches when each of its words starts the name or the preferred name. An
    empty query finds nobody. `within` (a Client queryset) narrows the search, e.g. to the
    clients the user may reach; the practice is applied in any case, so another practice's
    clients never appear.
    """
    query = query[:MAX_QUERY].strip()
    if not query:
        return []
    clients = (Client.objects.all() if within is None else within).filter(organisation=practice)
    if "@" in query:
        return by_name(with_email(clients, query))
    found = set(with_phone(clients, query).values_list("pk", flat=True)) \
        if looks_like_phone(query) else set()
    words = fold(query).split()
    # Decrypt only the two names of each client (each value costs a decryption), then load the
    # matches whole.
    for pk, name, preferred in clients.values_list("pk", "name", "preferred_name"):
        if _names_match(words, name, preferred):
            found.add(pk)
    return by_name(clients.filter(pk__in=found)) if found else []


def for_user(request: HttpRequest, query: str) -> list[Client]:
    """The search page's answer: the user's clients matching `query`, by name; at most MAX_RESULTS."""
    return find_clients(request.organisation, query, within=access.clients_for(request))[:MAX_RESULTS]
