"""Each app that stores data about a client says how to erase it.

An eraser is `fn(client, *, keep_scores: bool) -> Erased`. Apps register theirs in their
AppConfig.ready() (`register("checkins", erase)`). `erase_client` runs them in registration order,
inside its one transaction, before the client's own rows (care: client, episodes, sessions) are
handled; any exception rolls the whole erasure back.

What an eraser does:

- keep_scores=False: delete every row of its app about the client. Care's foreign keys are
  PROTECT, so nothing may still point at the client, their episodes or sessions afterwards.
- keep_scores=True (the practice keeps de-identified scores): keep what the statistics need,
  with all free text emptied, and delete what is free text or identifying by nature.

What it returns (`Erased`):

- `counts`: what it deleted or scrubbed, by kind ("responses", "responses_scrubbed", ...);
  stored on the `Erasure` record as "<name>.<kind>".
- `codes`: the `code` (as a string) of every row of the client it deleted, scrubbed or kept.
  `erase_client` masks the audit trail by these codes as well as by the client's, episodes' and
  sessions' codes: an event about a response, goal or alert no longer says which one, so the
  trail cannot be joined back to the client through a kept or remembered row. Collect the codes
  before deleting (a deleted row's code is gone with it).

Order: the apps' rows point only at care rows and at rows of their own app, so the erasers do not
depend on each other and run in INSTALLED_APPS order. An app whose rows come to point at another
app's rows must pass `before=` with the other app's eraser name, so it runs first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Erased:
    """What one eraser did: counts by kind, and the object codes of the client's rows it handled."""

    counts: dict[str, int] = field(default_factory=dict)
    codes: set[str] = field(default_factory=set)

    def add(self, kind: str, n: int, codes=()) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + n
        self.codes.update(str(code) for code in codes)


Eraser = Callable[..., Erased]
_erasers: list[tuple[str, Eraser]] = []


def register(name: str, eraser: Eraser, *, before: str | None = None) -> None:
    """Add an eraser (once per name); `before`: run it ahead of that registered eraser."""
    if any(existing == name for existing, _ in _erasers):
        return
    names = [existing for existing, _ in _erasers]
    position = names.index(before) if before in names else len(_erasers)
    _erasers.insert(position, (name, eraser))


def erasers() -> list[tuple[str, Eraser]]:
    return list(_erasers)
