"""Drop-out risk: a probability with the reasons behind it, and goal stagnation.

Drop-out risk is a logistic score: the base rate's log odds plus one term per reason present
(thresholds.py gives each weight and its source, or says that it is ours). It is meant to rank
and explain, not to predict precisely: the weights that are ours have not been fitted on
drop-out data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rapport.monitoring import thresholds as th
from rapport.monitoring.records import EpisodeHistory, Finding, GoalRating


@dataclass(frozen=True, slots=True)
class DropoutReason:
    code: str  # no_show, late_cancellation, missed_checkins, low_early_alliance, unrepaired_rupture
    log_odds: float
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "odds_ratio": round(math.exp(self.log_odds), 2), **self.evidence}


@dataclass(frozen=True, slots=True)
class DropoutRisk:
    probability: float
    reasons: tuple[DropoutReason, ...]
    session: int

    @property
    def warning(self) -> bool:
        return self.probability >= th.DROPOUT_WARNING - 1e-12

    def to_dict(self) -> dict[str, Any]:
        return {
            "probability": round(self.probability, 3),
            "base_rate": th.DROPOUT_BASE_RATE,
            "warning_at": th.DROPOUT_WARNING,
            "reasons": [r.to_dict() for r in self.reasons],
        }


def primary_client_alliance(episode: EpisodeHistory) -> Any:
    """The client's `relationship-checkin` series, else their first alliance series, else None."""
    client = [a for a in episode.alliance if a.respondent == "client" and a.totals]
    for a in client:
        if a.instrument == "relationship-checkin":
            return a
    return client[0] if client else None


def alliance_low_cutoff(scale_min: float, scale_max: float, own: float | None) -> float:
    if own is not None:
        return own
    return scale_min + th.ALLIANCE_LOW_FRACTION * (scale_max - scale_min)


def dropout_risk(
    episode: EpisodeHistory, *, open_ruptures: Sequence[Finding] = ()
) -> DropoutRisk:
    """The episode's drop-out risk as of its latest data.

    `open_ruptures`: the episode's rupture findings that are still ongoing (not repaired), as
    `analyze_episode` computes them; it passes them in so that the alliance is analysed once.
    """
    reasons: list[DropoutReason] = []
    no_shows = sum(1 for a in episode.attendance if a.status == "no_show")
    if no_shows:
        counted = min(no_shows, th.MAX_COUNTED_EVENTS)
        reasons.append(DropoutReason("no_show", counted * th.LOG_OR_NO_SHOW, {"count": no_shows}))
    late = sum(1 for a in episode.attendance if a.status == "cancelled_client" and a.late)
    if late:
        counted = min(late, th.MAX_COUNTED_EVENTS)
        reasons.append(
            DropoutReason("late_cancellation", counted * th.LOG_OR_LATE_CANCEL, {"count": late})
        )
    recent = sorted(episode.checkins, key=lambda c: c.session)[-4:]
    missed = sum(1 for c in recent if not c.completed)
    if len(recent) >= 2 and missed / len(recent) >= th.MISSED_CHECKINS_FRACTION:
        reasons.append(
            DropoutReason(
                "missed_checkins", th.LOG_OR_MISSED_CHECKINS, {"missed": missed, "due": len(recent)}
            )
        )
    series = primary_client_alliance(episode)
    if series is not None:
        early = series.totals[: th.EARLY_SESSIONS]
        mean = sum(early) / len(early)
        cutoff = alliance_low_cutoff(series.scale_min, series.scale_max, series.low_cutoff)
        if mean <= cutoff + 1e-9:
            reasons.append(
                DropoutReason(
                    "low_early_alliance",
                    th.LOG_OR_LOW_EARLY_ALLIANCE,
                    {"instrument": series.instrument, "mean": round(mean, 2),
                     "sessions": list(series.sessions[: th.EARLY_SESSIONS]), "cutoff": cutoff},
                )
            )
    if open_ruptures:
        first = min(open_ruptures, key=lambda f: f.session)
        reasons.append(
            DropoutReason(
                "unrepaired_rupture",
                th.LOG_OR_UNREPAIRED_RUPTURE,
                {"instrument": first.subject, "since_session": first.session},
            )
        )
    base = math.log(th.DROPOUT_BASE_RATE / (1 - th.DROPOUT_BASE_RATE))
    logit = base + sum(r.log_odds for r in reasons)
    return DropoutRisk(1 / (1 + math.exp(-logit)), tuple(reasons), episode.last_session)


def dropout_findings(episode: EpisodeHistory, open_ruptures: Sequence[Finding]) -> list[Finding]:
    risk = dropout_risk(episode, open_ruptures=open_ruptures)
    if not risk.warning:
        return []
    return [
        Finding(
            "dropout_risk",
            "warning",
            risk.session,
            "",
            risk.to_dict(),
            episode.episode,
            risk.session,
            True,
        )
    ]


def goal_findings(episode_id: str, ratings: Sequence[GoalRating]) -> list[Finding]:
    """Goal stagnation: no progress over GOAL_WINDOW ratings of one goal (see thresholds.py)."""
    by_goal: dict[str, list[GoalRating]] = {}
    for r in ratings:
        by_goal.setdefault(r.goal, []).append(r)
    out: list[Finding] = []
    w = th.GOAL_WINDOW
    for goal, rows in by_goal.items():
        merged = {r.session: r for r in rows}
        rs = [merged[s] for s in sorted(merged)]
        run_start: int | None = None
        last_true = -1
        for i in range(w - 1, len(rs)):
            window = rs[i - w + 1 : i + 1]
            top = window[-1].scale_max
            gain = max(r.rating for r in window[1:]) - window[0].rating
            stuck = (
                window[-1].session - window[0].session >= th.GOAL_MIN_SPAN
                and gain < th.GOAL_MIN_PROGRESS * top - 1e-9
                and window[-1].rating < th.GOAL_ACHIEVED * top - 1e-9
            )
            if stuck and run_start is None:
                run_start = i
            if stuck:
                last_true = i
            if (not stuck or i == len(rs) - 1) and run_start is not None:
                window0 = rs[run_start - w + 1 : run_start + 1]
                out.append(
                    Finding(
                        "goal_stagnation",
                        "info",
                        rs[run_start].session,
                        goal,
                        {
                            "goal": goal,
                            "sessions": [r.session for r in window0],
                            "ratings": [r.rating for r in window0],
                            "best_gain": max(r.rating for r in window0[1:]) - window0[0].rating,
                            "scale_max": window0[-1].scale_max,
                        },
                        episode_id,
                        rs[last_true].session,
                        stuck and i == len(rs) - 1,
                    )
                )
                run_start = None
    return out
