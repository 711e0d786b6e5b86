"""Outcome classification per episode and instrument: intake to the latest score.

The classification itself (reliable improvement, recovery, reliable recovery, no reliable change,
reliable deterioration; Jacobson & Truax 1991 with the NHS Talking Therapies definitions), and
response and remission, are the instruments library's rules; this module applies them to a
series of scores, with the instrument's numbers passed in as plain values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rapport.instruments.psychometrics import classify_change, is_remission, is_response
from rapport.monitoring.records import OutcomeSeries, Scale


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
        return {
            "instrument": self.instrument,
            "first_session": self.first_session,
            "last_session": self.last_session,
            "first": self.first,
            "last": self.last,
            "change": round(self.change, 2),
            "classification": self.classification,
            "response": self.response,
            "remission": self.remission,
        }


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
