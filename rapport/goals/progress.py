"""Progress on goals: ratings read from check-ins, milestones, and when to revisit the goals.

Ratings are the client's stored `goal-progress` responses (rapport.checkins.models.Response):
each answer's linkId is a goal's code (`Goal.link_id`), its value the 0-10 rating. A response
that has been superseded by a correction is ignored.

The milestone and revisit rules below are Rapport's own product choices, not published
thresholds: the `goal-progress` instrument is not validated and has no published cutoffs or
reliable-change amounts (see its definition), so these rules only decide when to say something
encouraging or to suggest a conversation; they never feed an alert or a clinical judgement.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.http import HttpRequest

from rapport.audit.services import record
from rapport.care.models import Attendance, CareEpisode, Session
from rapport.goals.models import EventKind, Goal, GoalEvent

GOAL_PROGRESS = "goal-progress"

# Product choice: a first rating of 7 or more out of 10 is worth telling the client about.
MILESTONE_HIGH = 7
# Product choice: a rise of 3 points or more above the goal's first rating (about a third of
# the scale) is worth telling the client about.
MILESTONE_RISE = 3
# Product choice: suggest revisiting the goals together after this many attended sessions
# since they were last revisited (agreed, revised, closed or marked as revisited) ...
REVISIT_EVERY_SESSIONS = 4
# ... or when an agreed goal's last this-many ratings since then show no rise at all.
REVISIT_STALL_RATINGS = 3

# Events that count as the goals having been talked through together.
REVISIT_KINDS = (
    EventKind.REVISITED, EventKind.ACTIVATED, EventKind.REVISED, EventKind.ACHIEVED,
    EventKind.CLOSED,
)


class ProgressPoint(NamedTuple):
    """One rating of one goal: the session it belongs to (if any), when it was given, 0-10."""

    session: Session | None
    at: datetime
    rating: float


def goal_progress(episode: CareEpisode) -> dict[str, list[ProgressPoint]]:
    """{goal code (str): [ProgressPoint, ...] oldest first} for the episode's goals.

    Every goal of the episode has an entry (an empty list when it has not been rated yet).
    """
    from rapport.checkins.models import Response

    goals = {g.link_id for g in Goal.objects.filter(episode=episode)}
    progress: dict[str, list[ProgressPoint]] = {code: [] for code in goals}
    responses = (
        Response.objects.filter(episode=episode, instrument_id=GOAL_PROGRESS,
                                superseded_by__isnull=True)
        .select_related("session")
        .order_by("submitted_at", "id")
    )
    for response in responses:
        for link_id, value in (response.answers or {}).items():
            if link_id in progress and isinstance(value, int | float) and not isinstance(value, bool):
                progress[link_id].append(ProgressPoint(response.session, response.submitted_at, value))
    return progress


def _fmt(value: float) -> str:
    return f"{value:g}"


def milestones_reached(title: str, points: list[ProgressPoint]) -> list[tuple[str, str, ProgressPoint]]:
    """[(key, sentence for the client, the rating that reached it)] for these ratings.

    Pure: the caller records the ones not yet recorded. Keys: "first-high" (the first rating of
    MILESTONE_HIGH or more) and "rise" (a rating MILESTONE_RISE or more above the first one).
    """
    if not points:
        return []
    reached = []
    first = points[0].rating
    high = next((p for p in points if p.rating >= MILESTONE_HIGH), None)
    if high is not None and first < MILESTONE_HIGH:
        reached.append((
            "first-high",
            f"You rated your progress on “{title}” at {_fmt(high.rating)} out of 10, the first "
            f"time it has reached {MILESTONE_HIGH} or more. That is a real step forward.",
            high,
        ))
    rise = next((p for p in points if p.rating - first >= MILESTONE_RISE), None)
    if rise is not None:
        reached.append((
            "rise",
            f"Your rating for “{title}” has gone up from {_fmt(first)} to {_fmt(rise.rating)} "
            "since you first rated it. The work you are putting in is showing.",
            rise,
        ))
    return reached


def notice_milestones(episode: CareEpisode, request: HttpRequest | None = None) -> list[GoalEvent]:
    """Record each milestone the episode's rated goals have reached and not yet recorded."""
    progress = goal_progress(episode)
    created = []
    for goal in Goal.objects.filter(episode=episode).rated():
        points = progress.get(goal.link_id, [])
        known = set(goal.events.filter(kind=EventKind.MILESTONE).values_list("key", flat=True))
        for key, sentence, point in milestones_reached(goal.title, points):
            if key in known:
                continue
            try:
                with transaction.atomic():
                    event = GoalEvent.objects.create(
                        organisation_id=goal.organisation_id, episode=episode, goal=goal,
                        kind=EventKind.MILESTONE, key=key, text_after=sentence, session=point.session,
                        detail={"rating": point.rating, "first": points[0].rating},
                    )
                    record(request, "goals.milestone.noticed", goal, client=episode.client,
                           organisation=episode.organisation, actor_label="system",
                           detail={"key": key})
            except IntegrityError:  # noticed by a concurrent request: it stands
                continue
            created.append(event)
    return created


def last_revisit(episode: CareEpisode) -> datetime | None:
    """When the goals were last talked through: agreed, revised, closed or marked revisited."""
    event = (
        GoalEvent.objects.filter(episode=episode, kind__in=REVISIT_KINDS).order_by("-at").first()
    )
    return event.at if event else None


def revisit_due(episode: CareEpisode) -> list[str]:
    """Why it is time to revisit the goals together (an empty list: it is not).

    Due when REVISIT_EVERY_SESSIONS sessions have been attended since the last revisit, or when
    an agreed goal's last REVISIT_STALL_RATINGS ratings since then show no rise (neither later
    rating is above the first of them). Product choices, see the module docstring.
    """
    from rapport.care.models import EpisodeStatus

    if episode.status != EpisodeStatus.ACTIVE:
        return []
    goals = list(Goal.objects.filter(episode=episode).rated())
    if not goals:
        return []
    since = last_revisit(episode)
    reasons = []
    attended = Session.objects.filter(episode=episode, attendance=Attendance.ATTENDED)
    if since is not None:
        attended = attended.filter(scheduled_at__gt=since)
    count = attended.count()
    if count >= REVISIT_EVERY_SESSIONS:
        reasons.append(f"{count} sessions attended since the goals were last revisited.")
    progress = goal_progress(episode)
    for goal in goals:
        points = [p for p in progress.get(goal.link_id, []) if since is None or p.at > since]
        last = [p.rating for p in points[-REVISIT_STALL_RATINGS:]]
        if len(last) == REVISIT_STALL_RATINGS and max(last[1:]) <= last[0]:
            reasons.append(
                f"“{goal.title}” has not risen over its last {REVISIT_STALL_RATINGS} ratings "
                f"({', '.join(_fmt(r) for r in last)})."
            )
    return reasons


def rated_goals(episode: CareEpisode) -> dict[str, str]:
    """{linkId: title} of the goals the client rates now, for `instruments.goal_progress(...)`."""
    return {g.link_id: g.title for g in Goal.objects.filter(episode=episode).rated()}


__all__ = [
    "GOAL_PROGRESS", "MILESTONE_HIGH", "MILESTONE_RISE", "REVISIT_EVERY_SESSIONS",
    "REVISIT_STALL_RATINGS", "ProgressPoint", "goal_progress", "last_revisit",
    "milestones_reached", "notice_milestones", "rated_goals", "revisit_due",
]
