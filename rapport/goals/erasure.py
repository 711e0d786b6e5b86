"""Erasing a client's goals (see rapport.privacy.registry for the contract).

keep_scores=False: every goal and goal event of the client's episodes is deleted.

keep_scores=True: goals stay without their wording (title, description, reason for closing) and
events without their text (old and new wording, reasons, milestone sentences): the kept
`goal-progress` responses name goals by code, and a goal's status, agreement and history are what
give those ratings meaning. Goal events are append-only (save() and delete() refuse): this
QuerySet.update() is the one sanctioned change to them, as masking is to the audit trail; the
QuerySet.delete() below (keep_scores=False) removes them without their delete().
"""

from __future__ import annotations

from rapport.goals.models import Goal, GoalEvent
from rapport.privacy.registry import Erased


def erase(client, *, keep_scores: bool) -> Erased:
    done = Erased()
    goals = Goal.objects.filter(episode__client=client)
    events = GoalEvent.objects.filter(episode__client=client)
    goal_codes = list(goals.values_list("code", flat=True))
    event_codes = list(events.values_list("code", flat=True))
    if keep_scores:
        done.add("goals_scrubbed", goals.update(title="", description="", closed_reason=""), goal_codes)
        done.add("events_scrubbed", events.update(text_before="", text_after=""), event_codes)
        return done
    done.add("events", events.delete()[0], event_codes)
    done.add("goals", goals.delete()[0], goal_codes)
    return done
