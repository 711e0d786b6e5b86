"""The plain records that go into the monitoring core, and the findings that come out.

Everything here is a frozen dataclass of numbers, strings and tuples: no ORM, no instrument
lookups. The app (or the CLI) builds one `EpisodeHistory` per care episode from its stored
responses and passes it to `analyze_episode`; the instrument's published numbers travel with each
outcome series as a `Scale`, so the core never needs the instruments library.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

Severity = Literal["info", "warning", "urgent"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "urgent": 2}

AttendanceStatus = Literal["attended", "no_show", "cancelled_client", "cancelled_clinic"]
Respondent = Literal["client", "therapist"]


@dataclass(frozen=True, slots=True)
class Scale:
    """An outcome instrument's published numbers (see `rapport.instruments.Psychometrics`).

    `reliable_change` is in score points; `cutoff` is the caseness threshold (for lower-is-better
    scales a case when total >= cutoff). None where nothing is published.
    """

    higher_is_better: bool = False
    reliable_change: float | None = None
    cutoff: float | None = None
    response_fraction: float | None = None
    remission_below: float | None = None

    @classmethod
    def of(cls, psychometrics: Any) -> Scale:
        """From any object with the `Psychometrics` attributes (duck-typed, no import)."""
        return cls(
            higher_is_better=bool(getattr(psychometrics, "higher_is_better", False)),
            reliable_change=getattr(psychometrics, "reliable_change", None),
            cutoff=getattr(psychometrics, "cutoff", None),
            response_fraction=getattr(psychometrics, "response_fraction", None),
            remission_below=getattr(psychometrics, "remission_below", None),
        )


def _sorted_pairs(points: Mapping[int, float] | Iterable[tuple[int, float]]) -> tuple[
    tuple[int, ...], tuple[float, ...]
]:
    items = points.items() if isinstance(points, Mapping) else points
    # A later entry for the same session wins: responses are append-only and a correction
    # supersedes the earlier one, so callers pass them in the order they were stored.
    merged = {int(s): float(v) for s, v in items}
    sessions = tuple(sorted(merged))
    return sessions, tuple(merged[s] for s in sessions)


@dataclass(frozen=True, slots=True)
class OutcomeSeries:
    """One outcome instrument's totals over an episode, sessions ascending and unique."""

    instrument: str
    sessions: tuple[int, ...]
    scores: tuple[float, ...]
    scale: Scale = Scale()

    @classmethod
    def of(
        cls,
        instrument: str,
        points: Mapping[int, float] | Iterable[tuple[int, float]],
        scale: Scale = Scale(),
    ) -> OutcomeSeries:
        sessions, scores = _sorted_pairs(points)
        return cls(instrument, sessions, scores, scale)


@dataclass(frozen=True, slots=True)
class AllianceSeries:
    """An alliance-type instrument's totals (and, for clients, component scores) by session.

    `components` maps a component name (trust, empathy, genuineness, respect, listening, safety,
    goals for `relationship-checkin`) to its scores aligned with `sessions`, NaN where missing,
    on the scale `component_min`..`component_max` (None: the total's scale; the check-in's
    components are its 0-10 items, so pass component_max=10 or the items times 10). `respondent` is "client" or "therapist": rupture rules read
    client series only; a therapist series is compared with the client's for the discrepancy.
    `low_cutoff` overrides the default absolute-low threshold (see thresholds.py).
    """

    instrument: str
    sessions: tuple[int, ...]
    totals: tuple[float, ...]
    components: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    respondent: Respondent = "client"
    scale_min: float = 0.0
    scale_max: float = 100.0
    low_cutoff: float | None = None
    component_min: float | None = None
    component_max: float | None = None

    @classmethod
    def of(
        cls,
        instrument: str,
        points: Mapping[int, float] | Iterable[tuple[int, float]],
        *,
        components: Mapping[int, Mapping[str, float]] | None = None,
        respondent: Respondent = "client",
        scale_min: float = 0.0,
        scale_max: float = 100.0,
        low_cutoff: float | None = None,
        component_min: float | None = None,
        component_max: float | None = None,
    ) -> AllianceSeries:
        """Build from {session: total} and optionally {session: {component: score}}."""
        sessions, totals = _sorted_pairs(points)
        comps: dict[str, tuple[float, ...]] = {}
        if components:
            names = sorted({name for per in components.values() for name in per})
            for name in names:
                comps[name] = tuple(
                    float(components.get(s, {}).get(name, math.nan)) for s in sessions
                )
        return cls(
            instrument, sessions, totals, comps, respondent, scale_min, scale_max, low_cutoff,
            component_min, component_max,
        )


@dataclass(frozen=True, slots=True)
class Attendance:
    """One scheduled appointment and what became of it.

    `late` matters for client cancellations only (cancelled at short notice, by the practice's
    own rule, e.g. under 24 hours).
    """

    on: date
    status: AttendanceStatus
    late: bool = False
    session: int | None = None


@dataclass(frozen=True, slots=True)
class CheckIn:
    """A check-in that was due at a session, and whether the client completed it."""

    session: int
    completed: bool


@dataclass(frozen=True, slots=True)
class RiskFlag:
    """A risk flag raised by a scored response (e.g. "risk:phq9-9")."""

    session: int
    instrument: str
    flag: str


@dataclass(frozen=True, slots=True)
class GoalRating:
    """A rating of progress on one shared goal at one session (0 = none, scale_max = achieved)."""

    goal: str
    session: int
    rating: float
    scale_max: float = 10.0


@dataclass(frozen=True, slots=True)
class EpisodeHistory:
    """Everything the monitoring core reads about one care episode.

    - `outcomes`: one series per outcome instrument (PHQ-9, GAD-7, ...), with its `Scale`;
    - `alliance`: alliance-type series, client (`relationship-checkin`, any alliance instrument a
      practice adds) and therapist (`therapist-reflection`);
    - `risk_flags`, `attendance`, `checkins`, `goals`: as their record types say.

    Sessions are numbered from 1 within the episode. Build it with the `.of` constructors, which
    sort by session and let a later value for the same session supersede an earlier one.
    """

    episode: str
    outcomes: tuple[OutcomeSeries, ...] = ()
    alliance: tuple[AllianceSeries, ...] = ()
    risk_flags: tuple[RiskFlag, ...] = ()
    attendance: tuple[Attendance, ...] = ()
    checkins: tuple[CheckIn, ...] = ()
    goals: tuple[GoalRating, ...] = ()

    @property
    def last_session(self) -> int:
        """The latest session with any data (0 when there is none)."""
        candidates = [s.sessions[-1] for s in (*self.outcomes, *self.alliance) if s.sessions]
        candidates += [r.session for r in self.risk_flags]
        candidates += [c.session for c in self.checkins]
        candidates += [a.session for a in self.attendance if a.session is not None]
        candidates += [g.session for g in self.goals]
        return max(candidates, default=0)


# Kinds whose condition is a state of the whole episode rather than an event that starts at a
# session: at most one is open per episode, so their key leaves the session out.
STATE_KINDS = frozenset({"dropout_risk"})


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return round(value, 2)
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the therapist should know, as data.

    - `kind`: rupture, rupture_repaired, alliance_dip, alliance_low, component_drop,
      discrepancy, not_on_track, reliable_deterioration, risk, dropout_risk, goal_stagnation;
    - `severity`: info, warning or urgent;
    - `session`: the session where the condition started (was first seen);
    - `subject`: the instrument id, or the goal id for goal findings ("" for the episode);
    - `evidence`: the numbers behind it, JSON-ready (floats rounded to 2 places);
    - `through`: the latest session still showing the condition;
    - `ongoing`: the condition still holds at the latest data for its subject (the app can
      resolve an open alert whose finding is no longer ongoing).

    `key` identifies the finding across recomputations (kind, subject, starting session), so the
    app can update an alert instead of duplicating it; `topic` (kind and subject) is what at
    most one open alert should exist for.
    """

    kind: str
    severity: Severity
    session: int
    subject: str
    evidence: Mapping[str, Any]
    episode: str = ""
    through: int | None = None
    ongoing: bool = False

    @property
    def topic(self) -> str:
        return f"{self.kind}:{self.subject}"

    @property
    def key(self) -> str:
        if self.kind in STATE_KINDS:
            return self.topic
        return f"{self.kind}:{self.subject}:{self.session}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "episode": self.episode,
            "session": self.session,
            "kind": self.kind,
            "severity": self.severity,
            "subject": self.subject,
            "through": self.through,
            "ongoing": self.ongoing,
            "key": self.key,
            "evidence": _clean(dict(self.evidence)),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=False)
