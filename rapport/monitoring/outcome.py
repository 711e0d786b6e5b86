"""Outcome classification per episode and instrument: intake to the latest score.

The classification itself (reliable improvement, recovery, reliable recovery, no reliable change,
reliable deterioration; Jacobson & Truax 1991 with the NHS Talking Therapies definitions), and
response and remission, are the instruments library's rules; this module applies them to a
series of scores, with the instrument's numbers passed in as plain values.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from rapport.instruments.psychometrics import (
    Measure,
    PairedOutcome,
    classify_change,
    classify_paired,
    is_remission,
    is_response,
)
from rapport.monitoring.records import EpisodeHistory, OutcomeSeries, Scale

# NHS Talking Therapies pairs the PHQ-9 with the GAD-7 or an anxiety-disorder-specific measure
# (psychometrics.classify_paired); the first of these the client has is used.
PAIR_DEPRESSION = "phq9"
PAIR_ANXIETY = ("gad7", "pcl5")


@dataclass(frozen=True, slots=True)
class OutcomeSummary:
    instrument: str
    first_session: int
    last_session: int
    first: float
    last: float
    change: float  # last - first, in score points
    classification: str | None  # None without a reliable-change amount
    response: bool | None  # None where the instrument defines no response
    remission: bool | None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "change": round(self.change, 2)}


def classify(first: float, last: float, scale: Scale) -> str | None:
    """The change's classification, or None when the scale has no reliable-change amount."""
    if scale.reliable_change is None:
        return None
    return classify_change(
        first,
        last,
        reliable_change=scale.reliable_change,
        cutoff=scale.cutoff,
        higher_is_better=scale.higher_is_better,
    )


def summarize(series: OutcomeSeries) -> OutcomeSummary | None:
    """Intake (the first score) to the latest score; None for an empty series."""
    if not series.scores:
        return None
    first, last = series.scores[0], series.scores[-1]
    scale = series.scale
    # Response and remission are published for lower-is-better scales only (see the library).
    lower = not scale.higher_is_better
    response = (
        is_response(first, last, fraction=scale.response_fraction)
        if lower and scale.response_fraction is not None
        else None
    )
    remission = (
        is_remission(last, below=scale.remission_below)
        if lower and scale.remission_below is not None
        else None
    )
    return OutcomeSummary(
        series.instrument,
        series.sessions[0],
        series.sessions[-1],
        first,
        last,
        last - first,
        classify(first, last, scale),
        response,
        remission,
    )


@dataclass(frozen=True, slots=True)
class PairedSummary:
    """The NHS Talking Therapies paired outcome of one episode (see `paired`)."""

    depression: str
    anxiety: str
    first_session: int | None
    last_session: int | None
    outcome: PairedOutcome | None  # None: not classifiable (`reason` says why)
    reason: str | None = None

    @property
    def key(self) -> str:
        return f"{self.depression}+{self.anxiety}"


def paired(episode: EpisodeHistory) -> PairedSummary | None:
    """PHQ-9 with GAD-7 (or, without GAD-7, the PCL-5), from the first to the last session where
    both were scored; None when the episode lacks either measure or their published numbers."""
    by = {s.instrument: s for s in episode.outcomes}
    dep = by.get(PAIR_DEPRESSION)
    anx = next((by[i] for i in PAIR_ANXIETY if i in by), None)
    if dep is None or anx is None:
        return None
    if any(s.scale.reliable_change is None or s.scale.cutoff is None for s in (dep, anx)):
        return None
    d_at = dict(zip(dep.sessions, dep.scores, strict=True))
    a_at = dict(zip(anx.sessions, anx.scores, strict=True))
    both = sorted(set(d_at) & set(a_at))
    if len(both) < 2:
        return PairedSummary(dep.instrument, anx.instrument, None, None, None,
                             "fewer than two sessions with both measures")
    first, last = both[0], both[-1]
    measures = [
        Measure(at[first], at[last], float(s.scale.reliable_change or 0), float(s.scale.cutoff or 0))
        for s, at in ((dep, d_at), (anx, a_at))
    ]
    return PairedSummary(dep.instrument, anx.instrument, first, last, classify_paired(*measures))
