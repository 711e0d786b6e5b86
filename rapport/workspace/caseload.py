"""The therapist's caseload: every active episode the user reaches, in a fixed number of queries.

`caseload(request)`: every active episode the user reaches, with its latest outcome and
relationship scores and their direction, open alerts, check-ins due or missed, and the next
session. Three queries whatever the caseload's size (plus the role look-ups of the access
helpers): the episodes with their counts as subqueries, the last two scores of each measure by a
window function, and nothing per row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.http import HttpRequest
from django.utils import timezone

from rapport.alerts.models import Alert, Severity, Status
from rapport.care import access, search
from rapport.care.models import Attendance, CareEpisode, EpisodeStatus, Session
from rapport.checkins.models import CheckIn, Respondent, Response
from rapport.checkins.models import When as CheckinWhen
from rapport.checkins.services.schedule import DUE_WINDOW
from rapport.workspace.measures import CLIENT_ALLIANCE, Trend, outcome_ids, trend_of

CANCELLED = (Attendance.CANCELLED_CLIENT, Attendance.CANCELLED_CLINIC)
# A client's "before" check-in can still be answered until an hour after the session starts
# (rapport.checkins.services.schedule.due_checkins); after that it counts as missed.
BEFORE_GRACE = 60  # minutes


# ---- the caseload -------------------------------------------------------------------------------


@dataclass
class CaseloadRow:
    episode: CareEpisode
    clinical: bool  # the user treats or supervises it: alerts are shown
    outcomes: list[Trend] = field(default_factory=list)
    relationship: Trend | None = None
    alerts_urgent: int = 0
    alerts_warning: int = 0
    alerts_other: int = 0
    top_alert: str | None = None  # the code of the most urgent open alert
    checkins_due: int = 0
    checkins_missed: int = 0
    next_session_at: datetime | None = None
    next_session: str | None = None  # its code
    last_session_at: datetime | None = None

    @property
    def alerts(self) -> int:
        return self.alerts_urgent + self.alerts_warning + self.alerts_other

    @property
    def rank(self) -> int:
        """0 urgent, 1 warning, 2 other open alerts, 3 none: the caseload's order."""
        if self.alerts_urgent:
            return 0
        if self.alerts_warning:
            return 1
        return 2 if self.alerts_other else 3


def _count(queryset) -> Coalesce:
    """A correlated COUNT over `queryset` (already filtered on episode=OuterRef("pk"))."""
    counted = queryset.order_by().values("episode").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _first(queryset, column: str) -> Subquery:
    return Subquery(queryset.values(column)[:1])


def _checkin_windows(now: datetime) -> tuple[Q, Q]:
    """(due, missed): the windows of rapport.checkins.services.schedule.due_checkins, due while a
    check-in can be answered, missed once it cannot any more."""
    due = (Q(session__isnull=True)
           | Q(when=CheckinWhen.BEFORE, session__scheduled_at__gt=now - timedelta(minutes=BEFORE_GRACE),
               session__scheduled_at__lte=now + DUE_WINDOW)
           | Q(when=CheckinWhen.AFTER, session__scheduled_at__lte=now,
               session__scheduled_at__gt=now - DUE_WINDOW))
    missed = (Q(when=CheckinWhen.BEFORE,
                session__scheduled_at__lte=now - timedelta(minutes=BEFORE_GRACE))
              | Q(when=CheckinWhen.AFTER, session__scheduled_at__lte=now - DUE_WINDOW))
    return due, missed


def caseload(request: HttpRequest, now: datetime | None = None) -> list[CaseloadRow]:
    """Active episodes the user reaches, most urgent first, then by client name."""
    now = now or timezone.now()
    episode = OuterRef("pk")
    unresolved = Alert.objects.filter(episode=episode).exclude(status=Status.RESOLVED)
    priority = Case(When(severity=Severity.URGENT, then=0), When(severity=Severity.WARNING, then=1),
                    default=2)
    client_open = CheckIn.objects.filter(
        episode=episode, respondent=Respondent.CLIENT, completed_at__isnull=True,
    ).exclude(session__attendance__in=CANCELLED)
    due, missed = _checkin_windows(now)
    upcoming = Session.objects.filter(episode=episode, scheduled_at__gt=now,
                                      attendance=Attendance.SCHEDULED).order_by("scheduled_at")
    past = Session.objects.filter(episode=episode, scheduled_at__lte=now).exclude(
        attendance__in=CANCELLED).order_by("-scheduled_at")
    episodes = list(
        access.episodes_for(request)
        .filter(status=EpisodeStatus.ACTIVE)
        .select_related("client", "therapist")
        .annotate(
            clinical=Exists(access.clinical_episodes_for(request).filter(pk=episode)),
            alerts_urgent=_count(unresolved.filter(severity=Severity.URGENT)),
            alerts_warning=_count(unresolved.filter(severity=Severity.WARNING)),
            alerts_other=_count(unresolved.exclude(severity__in=[Severity.URGENT, Severity.WARNING])),
            top_alert=_first(unresolved.alias(priority=priority).order_by("priority", "-opened_at"),
                             "code"),
            checkins_due=_count(client_open.filter(due)),
            checkins_missed=_count(client_open.filter(missed)),
            next_session_at=_first(upcoming, "scheduled_at"),
            next_session_code=_first(upcoming, "code"),
            last_session_at=_first(past, "scheduled_at"),
        )
    )
    latest = _latest_scores([e.pk for e in episodes])
    rows = []
    for e in episodes:
        scores = latest.get(e.pk, {})
        row = CaseloadRow(
            e, e.clinical,
            outcomes=[t for i in outcome_ids() if (t := trend_of(i, scores.get(i, [])))],
            relationship=trend_of(CLIENT_ALLIANCE, scores.get(CLIENT_ALLIANCE, [])),
            checkins_due=e.checkins_due, checkins_missed=e.checkins_missed,
            next_session_at=e.next_session_at,
            next_session=str(e.next_session_code) if e.next_session_code else None,
            last_session_at=e.last_session_at,
        )
        if e.clinical:  # alerts are clinical: an administrator alone does not see them
            row.alerts_urgent, row.alerts_warning = e.alerts_urgent, e.alerts_warning
            row.alerts_other, row.top_alert = e.alerts_other, e.top_alert
        rows.append(row)
    rows.sort(key=lambda r: (r.rank, *search.name_key(r.episode.client), r.episode.pk))
    return rows


def _latest_scores(episode_ids: list[int]) -> dict[int, dict[str, list[float]]]:
    """{episode id: {instrument: [latest total, previous total]}} in one query.

    Client responses only (the therapist's reflection is not the relationship's score), and
    corrections replace what they supersede.
    """
    if not episode_ids:
        return {}
    rows = (
        Response.objects.filter(
            episode_id__in=episode_ids,
            instrument_id__in=[*outcome_ids(), CLIENT_ALLIANCE],
            respondent=Respondent.CLIENT,
            total__isnull=False,
            superseded_by__isnull=True,
        )
        .annotate(rank=Window(
            RowNumber(),
            partition_by=[F("episode_id"), F("instrument_id")],
            order_by=[F("submitted_at").desc(), F("id").desc()],
        ))
        .filter(rank__lte=2)
        .order_by()
        .values_list("episode_id", "instrument_id", "rank", "total")
    )
    out: dict[int, dict[str, list[float]]] = {}
    for episode_id, instrument_id, _rank, total in sorted(rows, key=lambda r: (r[0], r[1], r[2])):
        out.setdefault(episode_id, {}).setdefault(instrument_id, []).append(total)
    return out

