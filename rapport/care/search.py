"""Finding a client by name among those the user may see.

Names may be encrypted at rest, so no name is ever filtered in SQL: the clients the user
reaches (rapport.care.access.clients_for) are matched in Python. This is the one function the
search page calls; a blind-index search can replace it without touching the page.
"""

from __future__ import annotations

import unicodedata

from django.http import HttpRequest

from rapport.care import access
from rapport.care.models import Client

MAX_QUERY = 100  # characters: a longer "name" is not a name
MAX_RESULTS = 50


def fold(text: str) -> str:
    """Lower case without accents, so "jose" finds "José" and "ZOE" finds "Zoë"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def find_clients(request: HttpRequest, query: str) -> list[Client]:
    """The user's clients whose full or preferred name has every word of the query at the start
    of one of its words ("ann sm" finds "Anna Smith"), by name; at most MAX_RESULTS."""
    words = fold(query[:MAX_QUERY]).split()
    if not words:
        return []
    found = []
    for client in access.clients_for(request).order_by("pk"):
        names = fold(f"{client.name} {client.preferred_name}").split()
        if all(any(n.startswith(w) for n in names) for w in words):
            found.append(client)
    found.sort(key=lambda c: (fold(c.display_name), c.pk))
    return found[:MAX_RESULTS]
