"""Goal services: propose, agree, revise, close, revisit; the staff access helper; the portal side.

Every write is atomic and audited in the same transaction; every read of goal text through these
functions is audited too. The rules (also in README.md):

- Either side proposes a goal; proposing counts as the proposer's agreement. The goal becomes
  active when the other side agrees as well, and both agreements (who, when) are kept and shown.
- Revising the wording (staff, with the client) keeps the old and new wording in the history and
  needs the client's agreement again: the reviser's agreement is renewed, the other side's is
  cleared. An agreed goal waits as "revised" (still rated); a proposal stays "proposed".
- Closing needs a reason (optional when the goal was achieved) and ends the goal's rating.
- Only the treating therapist writes on the staff side; their supervisors read. Administrators
  without a clinical role reach no goal at all (404).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from django.db import transaction
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rapport.audit.services import record
from rapport.care import access
from rapport.care.models import CareEpisode, Client, EpisodeStatus, Session
from rapport.goals.models import OPEN_STATUSES, EventKind, Goal, GoalEvent, GoalStatus, Side

TITLE_MAX = 200
DESCRIPTION_MAX = 2000
REASON_MAX = 2000


class GoalNotFound(Http404):
    """No such goal (or episode) for this person: it does not exist or is not theirs."""


class GoalError(ValueError):
    """The action does not apply to the goal as it is now; the message says why."""


def _label(side: str, client: Client | None) -> str | None:
    return f"client:{client.code}" if side == Side.CLIENT and client is not None else None


def _clean(title: str, description: str) -> tuple[str, str]:
    title, description = (title or "").strip(), (description or "").strip()
    if not title:
        raise GoalError(_("Please give the goal a short title."))
    if len(title) > TITLE_MAX:
        raise GoalError(_("Please keep the title to %(n)s characters.") % {"n": TITLE_MAX})
    if len(description) > DESCRIPTION_MAX:
        raise GoalError(_("Please keep the description to %(n)s characters.") % {"n": DESCRIPTION_MAX})
    return title, description


def _event(goal: Goal | None, episode: CareEpisode, kind: str, *, side: str = "", user=None,
           at: datetime, **extra) -> GoalEvent:
    return GoalEvent.objects.create(
        organisation_id=episode.organisation_id, episode=episode, goal=goal, kind=kind,
        side=side, user=user, at=at, **extra,
    )


def _wording(goal: Goal) -> str:
    return json.dumps({"title": goal.title, "description": goal.description}, ensure_ascii=False)


# -- the writes --------------------------------------------------------------------------------


def propose_goal(episode: CareEpisode, title: str, description: str = "", *, side: str,
                 user=None, request: HttpRequest | None = None, at: datetime | None = None) -> Goal:
    """A new goal proposed by `side` (the proposer's agreement included). Raises GoalError."""
    title, description = _clean(title, description)
    if episode.status != EpisodeStatus.ACTIVE:
        raise GoalError(_("Goals can be proposed only while therapy is under way."))
    at = at or timezone.now()
    with transaction.atomic():
        goal = Goal.objects.create(
            organisation_id=episode.organisation_id, episode=episode, title=title,
            description=description, proposed_by=side,
            proposed_by_user=user if side == Side.THERAPIST else None,
            status=GoalStatus.PROPOSED, created_at=at, updated_at=at,
            client_agreed_at=at if side == Side.CLIENT else None,
            therapist_agreed_at=at if side == Side.THERAPIST else None,
            therapist_agreed_by=user if side == Side.THERAPIST else None,
        )
        _event(goal, episode, EventKind.PROPOSED, side=side, user=user, at=at)
        _event(goal, episode, EventKind.AGREED, side=side, user=user, at=at)
        record(request, "goals.goal.proposed", goal, client=episode.client,
               organisation=episode.organisation, actor_label=_label(side, episode.client),
               detail={"side": side})
    return goal


def agree_goal(goal: Goal, *, side: str, user=None, request: HttpRequest | None = None,
               at: datetime | None = None) -> Goal:
    """`side` agrees to the goal's current wording; with both agreed it becomes active.

    Agreeing twice changes nothing. Raises GoalError for a goal that is closed.
    """
    at = at or timezone.now()
    with transaction.atomic():
        goal = Goal.objects.select_for_update(no_key=True).select_related("episode", "episode__client").get(pk=goal.pk)
        if not goal.is_open:
            raise GoalError(_("This goal is closed; it cannot be agreed any more."))
        if goal.agreed_by(side):
            return goal
        episode = goal.episode
        if side == Side.CLIENT:
            goal.client_agreed_at = at
        else:
            goal.therapist_agreed_at, goal.therapist_agreed_by = at, user
        _event(goal, episode, EventKind.AGREED, side=side, user=user, at=at)
        activated = goal.client_agreed_at is not None and goal.therapist_agreed_at is not None
        if activated:
            goal.status = GoalStatus.ACTIVE
            _event(goal, episode, EventKind.ACTIVATED, at=at)
        goal.updated_at = at
        goal.save(update_fields=["client_agreed_at", "therapist_agreed_at", "therapist_agreed_by",
                                 "status", "updated_at"])
        record(request, "goals.goal.agreed", goal, client=episode.client,
               organisation=episode.organisation, actor_label=_label(side, episode.client),
               detail={"side": side, "active": activated})
    return goal


def revise_goal(goal: Goal, title: str, description: str = "", *, side: str = Side.THERAPIST,
                user=None, request: HttpRequest | None = None, at: datetime | None = None) -> Goal:
    """New wording for an open goal; the other side must agree to it again (see module doc)."""
    title, description = _clean(title, description)
    at = at or timezone.now()
    with transaction.atomic():
        goal = Goal.objects.select_for_update(no_key=True).select_related("episode", "episode__client").get(pk=goal.pk)
        if not goal.is_open:
            raise GoalError(_("This goal is closed; it cannot be revised."))
        if (title, description) == (goal.title, goal.description):
            raise GoalError(_("The wording is unchanged."))
        before = _wording(goal)
        goal.title, goal.description = title, description
        if side == Side.CLIENT:
            goal.client_agreed_at = at
            goal.therapist_agreed_at, goal.therapist_agreed_by = None, None
        else:
            goal.therapist_agreed_at, goal.therapist_agreed_by = at, user
            goal.client_agreed_at = None
        if goal.status in (GoalStatus.ACTIVE, GoalStatus.REVISED):
            goal.status = GoalStatus.REVISED
        goal.updated_at = at
        goal.save()
        _event(goal, goal.episode, EventKind.REVISED, side=side, user=user, at=at,
               text_before=before, text_after=_wording(goal))
        record(request, "goals.goal.revised", goal, client=goal.episode.client,
               organisation=goal.episode.organisation, actor_label=_label(side, goal.episode.client),
               detail={"side": side, "status": goal.status})
    return goal


def close_goal(goal: Goal, *, achieved: bool, reason: str = "", user=None,
               request: HttpRequest | None = None, at: datetime | None = None) -> Goal:
    """Close an open goal as achieved or not, with a reason (required unless achieved)."""
    reason = (reason or "").strip()
    if not achieved and not reason:
        raise GoalError(_("Please give a reason for closing the goal."))
    if len(reason) > REASON_MAX:
        raise GoalError(_("Please keep the reason to %(n)s characters.") % {"n": REASON_MAX})
    at = at or timezone.now()
    with transaction.atomic():
        goal = Goal.objects.select_for_update(no_key=True).select_related("episode", "episode__client").get(pk=goal.pk)
        if not goal.is_open:
            raise GoalError(_("This goal is already closed."))
        goal.status = GoalStatus.ACHIEVED if achieved else GoalStatus.CLOSED
        goal.closed_at, goal.closed_reason, goal.updated_at = at, reason, at
        goal.save(update_fields=["status", "closed_at", "closed_reason", "updated_at"])
        _event(goal, goal.episode, EventKind.ACHIEVED if achieved else EventKind.CLOSED,
               side=Side.THERAPIST, user=user, at=at, text_after=reason)
        record(request, "goals.goal.closed", goal, client=goal.episode.client,
               organisation=goal.episode.organisation, detail={"outcome": goal.status})
    return goal


def mark_revisited(episode: CareEpisode, *, user=None, session: Session | None = None,
                   request: HttpRequest | None = None, at: datetime | None = None) -> GoalEvent:
    """The therapist and client went through the goals together (resets the revisit prompt)."""
    at = at or timezone.now()
    with transaction.atomic():
        event = _event(None, episode, EventKind.REVISITED, side=Side.THERAPIST, user=user,
                       session=session, at=at)
        record(request, "goals.goals.revisited", episode, client=episode.client)
    return event


def acknowledge_milestone(event: GoalEvent, *, user=None, request: HttpRequest | None = None,
                          at: datetime | None = None) -> GoalEvent:
    """The therapist acknowledged a noticed milestone with the client (once per milestone)."""
    if event.kind != EventKind.MILESTONE or event.goal_id is None:
        raise GoalError(_("Only a noticed milestone can be acknowledged."))
    at = at or timezone.now()
    with transaction.atomic():
        existing = GoalEvent.objects.filter(
            goal_id=event.goal_id, kind=EventKind.MILESTONE_ACKNOWLEDGED, key=event.key
        ).first()
        if existing is not None:
            return existing
        ack = _event(event.goal, event.episode, EventKind.MILESTONE_ACKNOWLEDGED,
                     side=Side.THERAPIST, user=user, key=event.key, at=at)
        record(request, "goals.milestone.acknowledged", event.goal, client=event.episode.client,
               organisation=event.episode.organisation, detail={"key": event.key})
    return ack


# -- staff access ------------------------------------------------------------------------------


def get_clinical_episode_for(request: HttpRequest, code: UUID | str) -> CareEpisode:
    """An episode whose goal and note text the user may read: treating therapist, supervisors."""
    try:
        return (access.clinical_episodes_for(request).select_related("client", "therapist")
                .get(code=access.parse_code(code)))
    except CareEpisode.DoesNotExist as exc:
        raise Http404("No such episode") from exc


def get_goal_for(request: HttpRequest, code: UUID | str) -> Goal:
    """A goal of an episode the user treats or supervises; 404 for everyone else."""
    try:
        return (Goal.objects.filter(episode__in=access.clinical_episodes_for(request))
                .select_related("episode", "episode__client", "episode__therapist")
                .get(code=access.parse_code(code)))
    except Goal.DoesNotExist as exc:
        raise Http404("No such goal") from exc


# -- the portal side ---------------------------------------------------------------------------


def _client_episode(client: Client, episode: CareEpisode | UUID | str) -> CareEpisode:
    code = episode.code if isinstance(episode, CareEpisode) else episode
    try:
        return CareEpisode.objects.select_related("client").get(
            client=client, code=access.parse_code(code)
        )
    except (CareEpisode.DoesNotExist, Http404) as exc:
        raise GoalNotFound("No such episode for this client") from exc


def _client_goal(client: Client, goal_code: UUID | str) -> Goal:
    try:
        return Goal.objects.select_related("episode", "episode__client").get(
            episode__client=client, code=access.parse_code(goal_code)
        )
    except (Goal.DoesNotExist, Http404) as exc:
        raise GoalNotFound("No such goal for this client") from exc


@dataclass
class ClientGoal:
    """What the client sees of one goal in the portal."""

    code: UUID
    episode_code: UUID
    title: str
    description: str
    status: str
    status_label: str
    proposed_by: str
    client_agreed_at: datetime | None
    therapist_agreed_at: datetime | None
    waiting_for_client: bool
    closed_at: datetime | None
    progress: list[tuple[datetime, float]] = field(default_factory=list)
    milestones: list[tuple[datetime, str]] = field(default_factory=list)
    # Revisions: (when, old title, new title); the client sees how the wording changed.
    revisions: list[tuple[datetime, str, str]] = field(default_factory=list)


def goals_for_client(client: Client, request: HttpRequest | None = None) -> list[ClientGoal]:
    """The client's goals over all their episodes, open ones first, with progress and milestones.

    Closing reasons are written by staff for the record and are not shown here.
    """
    from rapport.goals.progress import goal_progress

    goals = list(Goal.objects.filter(episode__client=client).select_related("episode")
                 .order_by("created_at", "id"))
    progress: dict[str, list] = {}
    for episode in {g.episode for g in goals}:
        progress.update(goal_progress(episode))
    events: dict[int, list[GoalEvent]] = {}
    for event in GoalEvent.objects.filter(
        goal__in=goals, kind__in=(EventKind.MILESTONE, EventKind.REVISED)
    ).order_by("at", "id"):
        events.setdefault(event.goal_id, []).append(event)
    result = []
    for g in goals:
        revisions = []
        for e in events.get(g.pk, []):
            if e.kind == EventKind.REVISED:
                revisions.append((e.at, json.loads(e.text_before)["title"],
                                  json.loads(e.text_after)["title"]))
        result.append(ClientGoal(
            code=g.code, episode_code=g.episode.code, title=g.title, description=g.description,
            status=g.status, status_label=_CLIENT_STATUS[g.status], proposed_by=g.proposed_by,
            client_agreed_at=g.client_agreed_at, therapist_agreed_at=g.therapist_agreed_at,
            waiting_for_client=g.is_open and g.client_agreed_at is None,
            closed_at=g.closed_at,
            progress=[(p.at, p.rating) for p in progress.get(g.link_id, [])],
            milestones=[(e.at, e.text_after) for e in events.get(g.pk, [])
                        if e.kind == EventKind.MILESTONE],
            revisions=revisions,
        ))
    result.sort(key=lambda c: c.status not in OPEN_STATUSES)  # open goals first, stable
    record(request, "goals.client_goals.viewed", client, client=client,
           organisation=client.organisation, actor_label=f"client:{client.code}",
           detail={"goals": len(result)})
    return result


_CLIENT_STATUS = {
    GoalStatus.PROPOSED: gettext_lazy("Proposed: waiting for agreement"),
    GoalStatus.ACTIVE: gettext_lazy("Agreed: we are working on it"),
    GoalStatus.REVISED: gettext_lazy("New wording: waiting for agreement"),
    GoalStatus.ACHIEVED: gettext_lazy("Achieved"),
    GoalStatus.CLOSED: gettext_lazy("Closed"),
}


def propose_goal_as_client(client: Client, episode: CareEpisode | UUID | str, title: str,
                           description: str = "", request: HttpRequest | None = None) -> Goal:
    """The client proposes a goal in one of their own episodes (GoalNotFound otherwise)."""
    return propose_goal(_client_episode(client, episode), title, description, side=Side.CLIENT,
                        request=request)


def agree_goal_as_client(client: Client, goal_code: UUID | str,
                         request: HttpRequest | None = None) -> Goal:
    """The client agrees to one of their own goals (GoalNotFound for anyone else's)."""
    return agree_goal(_client_goal(client, goal_code), side=Side.CLIENT, request=request)


def client_episodes_for_goals(client: Client):
    """The client's episodes in which they can propose a goal now (therapy under way)."""
    return CareEpisode.objects.filter(client=client, status=EpisodeStatus.ACTIVE).select_related(
        "therapist"
    )
