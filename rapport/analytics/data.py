"""The query layer: one practice's episodes in a period, as `EpisodeFacts` (a fixed number of
queries whatever the caseload: episodes, sessions, responses, check-ins, plus the cached
expected-treatment-response curves).

"As of the end of the period": sessions and responses after it are left out, so a past period
reads the same later on (except where a response was corrected since). Session numbers and
outcome series come from the alerts app's history builder, ruptures from the monitoring core,
so nothing here re-implements scoring or detection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from rapport import monitoring as mon
from rapport.alerts.findings import RESPONSE_FIELDS, history_from_rows, trajectories_for
from rapport.analytics.stats import EpisodeFacts, OutcomeFacts, intake_sd, outcome_facts
from rapport.care.models import Attendance, CareEpisode, EpisodeStatus, Session
from rapport.checkins.models import CheckIn, Respondent, Response

RELATIONSHIP = "relationship-checkin"
CANCELLED = (Attendance.CANCELLED_CLIENT, Attendance.CANCELLED_CLINIC)


@dataclass(frozen=True)
class Period:
    """Calendar days, both ends included, in the practice's time zone."""

    date_from: date
    date_to: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.date_from, time.min, tzinfo=timezone.get_current_timezone())

    @property
    def end(self) -> datetime:
        """The first moment after the period."""
        return datetime.combine(self.date_to + timedelta(days=1), time.min,
                                tzinfo=timezone.get_current_timezone())

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass
class PracticeData:
    facts: dict[int, EpisodeFacts]  # episode id -> facts, every episode of the period
    therapists: dict[int, str]  # therapist id -> name (staff names only, no clients)


def _episodes_in(organisation: Any, period: Period):
    """Episodes in progress at some time in the period (an ended one without an end date is
    left out: we cannot tell when it ended)."""
    return CareEpisode.objects.filter(organisation=organisation, started_on__lte=period.date_to).filter(
        Q(ended_on__gte=period.date_from) | Q(ended_on__isnull=True, status=EpisodeStatus.ACTIVE)
    )


def load(organisation: Any, period: Period) -> PracticeData:
    """Every episode of the organisation in the period, as facts (5 queries, 7 on a cache miss)."""
    episodes = _episodes_in(organisation, period)
    rows = list(episodes.values("id", "therapist_id", "therapist__name", "therapist__email",
                                "status", "ended_on"))
    end = period.end
    now = timezone.now()
    facts: dict[int, EpisodeFacts] = {}
    therapists: dict[int, str] = {}
    for r in rows:
        ended = r["status"] != EpisodeStatus.ACTIVE and r["ended_on"] is not None and (
            period.date_from <= r["ended_on"] <= period.date_to)
        facts[r["id"]] = EpisodeFacts(
            therapist_id=r["therapist_id"], active=not ended, ended=ended,
            dropped_out=ended and r["status"] == EpisodeStatus.DROPPED_OUT,
        )
        therapists[r["therapist_id"]] = r["therapist__name"] or r["therapist__email"]

    sessions: dict[int, list[Session]] = {}
    for s in (Session.objects.filter(episode__in=episodes, scheduled_at__lt=end)
              .order_by("scheduled_at", "id")
              .only("id", "episode_id", "scheduled_at", "attendance", "cancelled_at")):
        sessions.setdefault(s.episode_id, []).append(s)
        if s.attendance == Attendance.ATTENDED and period.contains(s.scheduled_at):
            facts[s.episode_id].sessions_attended += 1

    responses: dict[int, list[dict]] = {}
    for r in (Response.objects.filter(episode__in=episodes, submitted_at__lt=end, total__isnull=False)
              .order_by("submitted_at", "id").values(*RESPONSE_FIELDS, "submitted_at")):
        responses.setdefault(r["episode_id"], []).append(r)

    # Check-ins due at the period's sessions that have taken place (a cancelled session's
    # check-ins were never due). The client's only: the therapist's reflection is not the
    # client's engagement.
    for c in (CheckIn.objects.filter(
                episode__in=episodes, respondent=Respondent.CLIENT,
                session__scheduled_at__gte=period.start, session__scheduled_at__lt=min(end, now))
              .exclude(session__attendance__in=CANCELLED)
              .values("episode_id")
              .annotate(due=Count("id"), done=Count("id", filter=Q(completed_at__isnull=False)))):
        facts[c["episode_id"]].checkins_due = c["due"]
        facts[c["episode_id"]].checkins_done = c["done"]

    histories: list[tuple[int, mon.EpisodeHistory, dict[int, Session]]] = []
    for episode_id, episode_responses in responses.items():
        current = _current_ids(episode_responses)
        ratings = [r["total"] for r in episode_responses
                   if r["id"] in current and r["instrument_id"] == RELATIONSHIP
                   and r["respondent"] == Respondent.CLIENT and period.contains(r["submitted_at"])]
        if ratings:
            facts[episode_id].relationship = sum(ratings) / len(ratings)
        history, by_number = history_from_rows(str(episode_id), sessions.get(episode_id, []), episode_responses)
        histories.append((episode_id, history, by_number))

    trajectories = trajectories_for(organisation)
    _outcomes(facts, histories, trajectories, period)
    _ruptures(facts, histories, trajectories, period)
    return PracticeData(facts, therapists)


def _current_ids(responses: list[dict]) -> set[int]:
    superseded = {r["supersedes_id"] for r in responses if r["supersedes_id"]}
    return {r["id"] for r in responses if r["id"] not in superseded}


def _outcomes(facts, histories, trajectories, period: Period) -> None:
    """Intake to latest score for each outcome instrument measured in the period."""
    measured: list[tuple[int, mon.OutcomeSeries]] = []
    for episode_id, history, by_number in histories:
        for series in history.outcomes:
            last = by_number.get(series.sessions[-1])
            if len(series.scores) >= 2 and last is not None and period.contains(last.scheduled_at):
                measured.append((episode_id, series))
    # The SD of intake scores across the practice's episodes measured in the period (one SD per
    # instrument, the same for a therapist, a team and the practice, so they compare).
    by_instrument: dict[str, list[mon.OutcomeSeries]] = {}
    for _, series in measured:
        by_instrument.setdefault(series.instrument, []).append(series)
    sds = {i: intake_sd(s) for i, s in by_instrument.items()}
    for episode_id, series in measured:
        model = trajectories.model_for(series.instrument, series.scale)
        result = outcome_facts(series, model, sds[series.instrument])
        if result is not None and result.classification is not None:
            facts[episode_id].outcomes[series.instrument] = result
    # NHS Talking Therapies judges the pair (PHQ-9 with GAD-7 or PCL-5), shown beside the
    # per-measure figures, for pairs whose last paired session is in the period.
    for episode_id, history, by_number in histories:
        pair = mon.paired(history)
        if pair is None or pair.outcome is None or pair.last_session is None:
            continue
        last = by_number.get(pair.last_session)
        if last is not None and period.contains(last.scheduled_at):
            facts[episode_id].outcomes[pair.key] = OutcomeFacts(
                pair.outcome.classification, pair.outcome.caseness_at_start, None)


def _ruptures(facts, histories, trajectories, period: Period) -> None:
    """Ruptures the monitoring core finds starting in the period, and whether each was repaired
    by the end of it (an open rupture counts as not repaired)."""
    if not histories:
        return
    found = mon.analyze_many([h for _, h, _ in histories], trajectories=trajectories)
    for (episode_id, _, by_number), findings in zip(histories, found, strict=True):
        for f in findings:
            if f.kind != "rupture":
                continue
            session = by_number.get(f.session)
            if session is None or not period.contains(session.scheduled_at):
                continue
            facts[episode_id].ruptures += 1
            facts[episode_id].repaired += f.evidence.get("repaired_session") is not None
            e = f.evidence
            if all(isinstance(e.get(k), int | float) for k in ("usual", "sd", "drop")):
                facts[episode_id].rupture_basis.append((e["usual"], e["sd"], e["drop"]))
