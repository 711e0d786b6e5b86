"""What a higher app provides to check-ins, registered in its AppConfig.ready().

Check-ins sit below goals in the layer order (README, "Layers"), so they never import the goals
app. goal-progress needs to know which goals the client rates now: the goals app registers that
look-up here (`provide_rated_goals(rated_goals)`). Without one, there is no goal to rate and
goal-progress is skipped, as for an episode without goals.

The reactions to a stored response are not here: they are `response_stored` receivers
(rapport.checkins.signals). Importing goal ratings creates their goals through the goals app's
`GoalImporter` (`provide_goal_importer`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

RatedGoals = Callable[..., dict[str, str]]  # fn(episode) -> {linkId: the goal's wording}
_rated_goals: list[RatedGoals] = []


def provide_rated_goals(fn: RatedGoals) -> None:
    """Register the look-up of an episode's goals to rate (once; a second call replaces it)."""
    _rated_goals[:] = [fn]


def rated_goals(episode) -> dict[str, str]:
    """{linkId: wording} of the episode's goals the client rates now ({} without a provider)."""
    return _rated_goals[0](episode) if _rated_goals else {}


class GoalImporter(Protocol):
    """What the goals app offers an import of goal ratings (rapport.checkins.import_goals)."""

    def check(self, title: str) -> str | None:
        """Why `title` cannot be a goal's title, or None."""

    def existing(self, organisation, codes: set[str]) -> set[str]:
        """Those of the goal `codes` the practice already has (imported before)."""

    def create(self, episode, code: str, title: str, *, at: datetime, actor_label: str) -> str:
        """Create the agreed goal with `code` in the episode (audited); returns its linkId."""


_goal_importer: list[GoalImporter] = []


def provide_goal_importer(importer: GoalImporter) -> None:
    """Register the goals app's importer (once; a second call replaces it)."""
    _goal_importer[:] = [importer]


def goal_importer() -> GoalImporter | None:
    return _goal_importer[0] if _goal_importer else None
