"""Alerts (the findings the monitoring core raised, with their evidence) and goals, through the
alerts' and goals' own access helpers and services."""

from uuid import UUID

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from rapport.alerts.access import alerts_for, get_alert_for
from rapport.alerts.models import Status as AlertStatus
from rapport.alerts.services import TransitionError, transition
from rapport.api.auth import need
from rapport.api.rest import audit_list, narrowed
from rapport.api.schemas import AlertOut, GoalIn, GoalOut, Problem
from rapport.audit.services import record
from rapport.care import access
from rapport.goals import services as goals
from rapport.goals.models import Goal, Side

router = Router(tags=["alerts and goals"])


@router.get("/alerts", response=list[AlertOut], url_name="alerts")
@paginate(LimitOffsetPagination)
def list_alerts(request: HttpRequest, status: AlertStatus | None = None, episode: UUID | None = None):
    """The alerts of the episodes the token's staff member treats or supervises."""
    need(request, "alerts:read")
    alerts = narrowed(alerts_for(request).select_related("episode", "episode__client")
                      .order_by("-opened_at", "pk"), status=status, episode__code=episode)
    audit_list(request, "alerts", alerts.count(), status=status, episode=episode)
    return alerts


@router.get("/alerts/{code}", response=AlertOut, url_name="alert")
def get_alert(request: HttpRequest, code: UUID):
    need(request, "alerts:read")
    alert = get_alert_for(request, code)
    record(request, "api.alert.viewed", alert, client=alert.episode.client)
    return alert


@router.post("/alerts/{code}/acknowledge", response={200: AlertOut, 409: Problem}, url_name="alert-acknowledge")
def acknowledge_alert(request: HttpRequest, code: UUID):
    """Open -> acknowledged, recorded as the token's staff member (409 if it is further on)."""
    need(request, "alerts:write")
    alert = get_alert_for(request, code)
    try:
        transition(alert, AlertStatus.ACKNOWLEDGED, request=request)
    except TransitionError as exc:
        return Status(409, {"detail": str(exc)})
    return Status(200, alert)


@router.get("/episodes/{code}/goals", response=list[GoalOut], url_name="episode-goals")
def list_goals(request: HttpRequest, code: UUID):
    """An episode's goals: for its therapist and their supervisors (goal text is clinical)."""
    need(request, "goals:read")
    episode = goals.get_clinical_episode_for(request, code)
    record(request, "api.goals.viewed", episode, client=episode.client)
    return list(Goal.objects.filter(episode=episode).select_related("episode").order_by("created_at", "pk"))


@router.post("/episodes/{code}/goals", response={201: GoalOut, 400: Problem}, url_name="episode-goals-propose")
def propose_goal(request: HttpRequest, code: UUID, payload: GoalIn):
    """The therapist proposes a goal; it becomes active when the client agrees."""
    need(request, "goals:write")
    episode = goals.get_clinical_episode_for(request, code)
    if not access.may_write(request, episode):
        raise HttpError(403, _("Only the client's own therapist may propose a goal."))
    try:
        goal = goals.propose_goal(episode, payload.title, payload.description, side=Side.THERAPIST,
                                  user=request.user, request=request)
    except goals.GoalError as exc:
        return Status(400, {"detail": str(exc)})
    return Status(201, goal)
