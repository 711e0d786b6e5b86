"""An episode's story on one page: the charts and tables of the episode page.

Nothing here scores or detects anything: scores are the stored responses' totals (scored by
`rapport.instruments`), ruptures and repairs are the monitoring core's findings, expected
trajectories come from `rapport.alerts.findings.trajectories_for` and the core's
`TrajectoryModel.expected`. This module only gathers them, in a fixed number of queries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from rapport import monitoring as mon
from rapport.alerts.models import Alert
from rapport.alerts.suggestions import COMPONENT_LABELS, COMPONENT_SHORT, COMPONENTS
from rapport.alerts.wording import why_sentence
from rapport.care.models import Attendance, CareEpisode, Session
from rapport.core.charts import Band, HeatRow, Line, Mark, heat_strips, pair, session_chart
from rapport.monitoring import thresholds as th
from rapport.workspace.measures import (
    CLIENT_ALLIANCE,
    Measure,
    Trend,
    fmt,
    measure,
    outcome_ids,
    trend_of,
)

# ---- the episode's story ------------------------------------------------------------------------


@dataclass
class OutcomeRow:
    session: int
    at: datetime | None
    score: float
    expected: float | None
    low: float | None
    high: float | None

    @property
    def position(self) -> str:
        if self.low is None or self.high is None:
            return ""
        if self.low <= self.score <= self.high:
            return "within"
        return "above" if self.score > self.high else "below"


@dataclass
class OutcomeStory:
    measure: Measure
    chart: str
    rows: list[OutcomeRow]
    trend: Trend | None
    band_note: str
    chart_id: str

    def position_text(self, row: OutcomeRow) -> str:
        if not row.position:
            return "—"
        if row.position == "within":
            return "within range"
        worse = (row.position == "above") != self.measure.higher_is_better
        return "worse" if worse else "better"

    @property
    def table(self) -> list[tuple[OutcomeRow, str, str]]:
        return [(r, f"{fmt(r.low)}–{fmt(r.high)}" if r.low is not None else "—",
                 self.position_text(r)) for r in self.rows]


@dataclass
class RelationshipRow:
    session: int
    at: datetime | None
    client: float | None
    therapist: float | None
    components: list[float | None]
    events: list[str]

    @property
    def difference(self) -> float | None:
        if self.client is None or self.therapist is None:
            return None
        return self.therapist - self.client


@dataclass
class RelationshipStory:
    total_chart: str
    components_chart: str
    rows: list[RelationshipRow]
    component_labels: list[str]
    trend: Trend | None
    therapist_trend: Trend | None
    ruptures: int
    repairs: int


@dataclass
class SessionRow:
    session: Session
    number: int | None
    relationship: float | None
    reflection: float | None


@dataclass
class GoalRow:
    goal: Any
    ratings: list[tuple[int | None, float]]  # (session number, rating)

    @property
    def latest(self) -> float | None:
        return self.ratings[-1][1] if self.ratings else None

    @property
    def first(self) -> float | None:
        return self.ratings[0][1] if self.ratings else None

    @property
    def trend(self) -> str:
        return " → ".join(fmt(r) for _, r in self.ratings)


@dataclass
class EpisodeStory:
    outcomes: list[OutcomeStory]
    relationship: RelationshipStory | None
    sessions: list[SessionRow]
    next_session: Session | None
    alerts: list[Alert] | None  # None: not shown to this user
    goals: list[GoalRow] | None  # None: not shown to this user
    marks: list[Mark]


NARROW = 360  # a phone's width in CSS pixels, so the chart's text keeps its size there


def responsive(lines: list[Line], *, chart_id: str, wide: int = 560, height: int = 260,
               legend_columns: int = 2, **kwargs: Any) -> SafeString:
    """The chart drawn twice, for wide and for narrow screens (the stylesheet shows one): an
    SVG scales as a whole, so one drawing would have unreadably small text on a phone."""
    large = session_chart(lines, chart_id=chart_id, width=wide, height=height,
                          legend_columns=legend_columns, **kwargs)
    crowded = legend_columns > 2  # many long names: one per row on a phone
    small = session_chart(lines, chart_id=f"{chart_id}-sm", width=NARROW,
                          height=height + 110 * crowded, legend_columns=1 if crowded else 2,
                          **kwargs)
    return pair(large, small)


def _band_for(model: mon.TrajectoryModel | None, series: mon.OutcomeSeries, horizon: int,
              m: Measure) -> tuple[list[tuple[int, float, float, float]], str]:
    """[(session, expected, low, high)] from the intake to `horizon`, and how it was made.

    The band is the expected score ± the not-on-track tolerance (ETR_WARNING_Z tolerance SDs,
    rapport.monitoring.thresholds; Finch, Lambert & Schaalje 2001): a score beyond its worse
    edge is what the core flags as not on track.
    """
    if model is None or not series.sessions:
        return [], "No expected trajectory: this measure has no reliable-change amount."
    intake_session, intake = series.sessions[0], series.scores[0]
    band = []
    for s in range(intake_session, horizon + 1):
        expected, sd = model.expected(intake, s - intake_session + 1)
        tol = th.ETR_WARNING_Z * sd
        band.append((s, expected, max(expected - tol, m.low), min(expected + tol, m.high)))
    if model.fitted:
        note = (f"Expected range fitted on {model.episodes} episodes of this practice "
                "(Finch, Lambert & Schaalje 2001).")
    else:
        note = ("Expected range from the default curve (one reliable change of improvement by "
                "session 8) until the practice has enough episodes to fit its own.")
    return band, note


def _y_step(low: float, high: float) -> float:
    span = high - low
    for step in (1, 2, 3, 5, 10, 20, 25, 50):
        if span / step <= 10:
            return step
    return span / 10


def _outcome_stories(history: mon.EpisodeHistory, sessions: dict[int, Session],
                     trajectories: mon.ExpectedTrajectories, horizon: int) -> list[OutcomeStory]:
    stories = []
    for series in history.outcomes:
        m = measure(series.instrument)
        if m is None or not series.sessions:
            continue
        model = trajectories.model_for(series.instrument, series.scale)
        band, note = _band_for(model, series, max(horizon, series.sessions[-1]), m)
        by_session = {s: (e, lo, hi) for s, e, lo, hi in band}
        rows = []
        for s, score in zip(series.sessions, series.scores, strict=True):
            e, lo, hi = by_session.get(s, (None, None, None))
            rows.append(OutcomeRow(s, getattr(sessions.get(s), "scheduled_at", None), score, e, lo, hi))
        chart_id = f"chart-{m.id}"
        good = "higher is better" if m.higher_is_better else "lower is better"
        chart = responsive(
            [Line(f"{m.label} score", list(zip(series.sessions, series.scores, strict=True)))],
            title=f"{m.label} by session ({good})",
            description=(f"{m.label} scores by session with the expected range shaded; "
                         "the same figures are in the table beside it."),
            chart_id=chart_id, y_min=m.low, y_max=m.high, y_step=_y_step(m.low, m.high),
            band=Band("Expected range", [(s, lo, hi) for s, _, lo, hi in band]) if band else None,
        )
        values = list(reversed(series.scores[-2:]))
        stories.append(OutcomeStory(m, chart, rows, trend_of(m.id, values), note, chart_id))
    order = {i: n for n, i in enumerate(outcome_ids())}
    stories.sort(key=lambda s: order.get(s.measure.id, 99))
    return stories


def rupture_marks(history: mon.EpisodeHistory,
                  trajectories: mon.ExpectedTrajectories) -> list[Mark]:
    """Ruptures and confirmed repairs in the client's ratings, from the monitoring core."""
    marks = []
    for f in mon.analyze_episode(history, trajectories=trajectories):
        if f.kind == "rupture":
            marks.append(Mark(f.session, "Rupture", "rupture"))
        elif f.kind == "rupture_repaired":
            marks.append(Mark(f.session, "Repaired", "repair"))
    return marks


def _relationship_story(history: mon.EpisodeHistory, sessions: dict[int, Session],
                        marks: list[Mark]) -> RelationshipStory | None:
    client = next((a for a in history.alliance if a.respondent == "client"
                   and a.instrument == CLIENT_ALLIANCE), None)
    client = client or next((a for a in history.alliance if a.respondent == "client"), None)
    therapist = next((a for a in history.alliance if a.respondent == "therapist"), None)
    if client is None and therapist is None:
        return None
    numbers = sorted(set(client.sessions if client else ()) | set(therapist.sessions if therapist else ()))
    c_total = dict(zip(client.sessions, client.totals, strict=True)) if client else {}
    t_total = dict(zip(therapist.sessions, therapist.totals, strict=True)) if therapist else {}
    comps = {name: dict(zip(client.sessions, values, strict=True))
             for name, values in (client.components.items() if client else ())}
    names = [c for c in COMPONENTS if c in comps]
    events: dict[int, list[str]] = {}
    for m in marks:
        events.setdefault(m.session, []).append(m.label)
    rows = []
    for n in numbers:
        values = [comps[c].get(n) for c in names]
        rows.append(RelationshipRow(
            n, getattr(sessions.get(n), "scheduled_at", None), c_total.get(n), t_total.get(n),
            [None if v is None or math.isnan(v) else v for v in values], events.get(n, []),
        ))
    lines = []
    if client:
        lines.append(Line("Client’s rating", list(zip(client.sessions, client.totals, strict=True))))
    if therapist:
        lines.append(Line("Therapist’s rating", list(zip(therapist.sessions, therapist.totals, strict=True))))
    total_chart = responsive(
        lines, title="The relationship by session: the client’s and the therapist’s ratings (0 to 100)",
        description=("Relationship totals by session, the client's and the therapist's, with "
                     "ruptures and repairs marked; the same figures are in the table beside it."),
        chart_id="chart-relationship", y_min=0, y_max=100, y_step=20, marks=marks,
        sessions=(numbers[0], numbers[-1]),
    )
    components_chart = heat_strips(
        [HeatRow(COMPONENT_SHORT[c], [comps[c].get(n) for n in numbers]) for c in names],
        [str(n) for n in numbers], title=_("The seven parts of the relationship by session (0 to 10)"),
        description=_("The client's rating of each part of the relationship (rows) at each "
                      "session (columns), 0 red to 10 blue, each cell with its number; the same "
                      "figures are in the table below it."),
        chart_id="chart-components", label_width=100, column_title=_("Session"),
        region_label=_("The seven parts by session (scrolls sideways)"),
    ) if names else ""
    def trend(series):
        return trend_of(series.instrument, list(reversed(series.totals[-2:]))) if series else None
    return RelationshipStory(
        total_chart, components_chart, rows, [COMPONENT_LABELS[c].capitalize() for c in names],
        trend(client), trend(therapist),
        sum(m.kind == "rupture" for m in marks), sum(m.kind == "repair" for m in marks),
    )


def episode_story(request: HttpRequest, episode: CareEpisode, *, clinical: bool) -> EpisodeStory:
    """Everything the episode page shows; alerts, goals and ruptures only when `clinical`."""
    from rapport.alerts.findings import build_history, trajectories_for

    data = build_history(episode)
    trajectories = trajectories_for(episode.organisation)
    all_sessions = list(Session.objects.filter(episode=episode).order_by("scheduled_at", "id"))
    number_of = {s.pk: n for n, s in data.sessions.items()}
    now = timezone.now()
    next_session = next((s for s in all_sessions if s.scheduled_at > now
                         and s.attendance == Attendance.SCHEDULED), None)
    horizon = number_of.get(next_session.pk, 0) if next_session else 0
    marks = rupture_marks(data.history, trajectories) if clinical else []
    relationship = _relationship_story(data.history, data.sessions, marks)
    by_number = {r.session: r for r in relationship.rows} if relationship else {}
    sessions = []
    for s in all_sessions:
        n = number_of.get(s.pk)
        rel = by_number.get(n)
        sessions.append(SessionRow(s, n, rel.client if rel else None, rel.therapist if rel else None))
    alerts = goals = None
    if clinical:
        alerts = list(Alert.objects.filter(episode=episode).unresolved()
                      .select_related("session").by_priority())
        for a in alerts:  # "Not on track: GAD-7" tells two such alerts apart
            m = measure(a.subject) if a.subject else None
            a.subject_label = m.label if m and m.kind == "outcome" else ""
            a.why = why_sentence(a.kind, a.evidence)  # in the client's own numbers
        goals = _goals(episode, number_of)
    return EpisodeStory(
        _outcome_stories(data.history, data.sessions, trajectories, horizon),
        relationship, sessions, next_session, alerts, goals, marks,
    )


def _goals(episode: CareEpisode, number_of: dict[int, int]) -> list[GoalRow]:
    from rapport.goals.models import Goal, GoalStatus
    from rapport.goals.progress import goal_progress

    progress = goal_progress(episode)
    goals = list(Goal.objects.filter(episode=episode))
    ended = (GoalStatus.ACHIEVED, GoalStatus.CLOSED)
    goals.sort(key=lambda g: (g.status in ended, g.created_at))
    return [
        GoalRow(g, [(number_of.get(p.session.pk) if p.session else None, p.rating)
                    for p in progress.get(g.link_id, [])])
        for g in goals
    ]
