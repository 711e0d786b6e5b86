"""Each app that stores data about a client says how to erase it.

An eraser is `fn(client, *, keep_scores: bool) -> dict[str, int]` (what it removed or scrubbed,
by kind). Apps register theirs in their AppConfig.ready(). Erasers run in registration order,
before the client's own rows (care) are handled, so rows that point at sessions, episodes or the
client go first.
"""

from __future__ import annotations

from collections.abc import Callable

Eraser = Callable[..., dict[str, int]]
_erasers: list[tuple[str, Eraser]] = []


def register(name: str, eraser: Eraser) -> None:
    if any(existing == name for existing, _ in _erasers):
        return
    _erasers.append((name, eraser))


def erasers() -> list[tuple[str, Eraser]]:
    return list(_erasers)
