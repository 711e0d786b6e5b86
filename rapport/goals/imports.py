"""Goals created by an import of goal ratings (rapport.checkins.import_goals): a client's goals
from another system, in their own words, as agreed, active goals of their episode here.

The goal's code is given by the import (derived from where it came from), so a second import of
the same file finds it instead of creating it again. Its history says it was imported: a
proposal by the client and its activation at the first rating's time, and the audit event
`goals.goal.imported` names the import.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from rapport.audit.services import record
from rapport.goals.models import EventKind, Goal, GoalStatus, Side
from rapport.goals.services import GoalError, _clean, _event


class Importer:
    def check(self, title: str) -> str | None:
        try:
            _clean(title, "")
        except GoalError as e:
            return str(e)
        return None

    def existing(self, organisation, codes: set[str]) -> set[str]:
        found = Goal.objects.filter(organisation=organisation, code__in=codes)
        return {str(code) for code in found.values_list("code", flat=True)}

    def create(self, episode, code: str, title: str, *, at: datetime, actor_label: str) -> str:
        title, _description = _clean(title, "")
        goal = Goal.objects.create(
            organisation_id=episode.organisation_id, code=code, episode=episode, title=title,
            description="", proposed_by=Side.CLIENT, status=GoalStatus.ACTIVE,
            client_agreed_at=at, therapist_agreed_at=at, created_at=at, updated_at=timezone.now(),
        )
        _event(goal, episode, EventKind.PROPOSED, side=Side.CLIENT, at=at)
        _event(goal, episode, EventKind.ACTIVATED, at=at)
        record(None, "goals.goal.imported", goal, client=episode.client,
               organisation=episode.organisation, actor_label=actor_label)
        return goal.link_id
