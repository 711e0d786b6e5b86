"""How each instrument's total reads on the therapist's pages, and a score's direction.

Nothing here scores anything: `measure` reads the instrument library's definitions, `Trend`
compares two stored totals.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rapport import instruments

CLIENT_ALLIANCE = "relationship-checkin"
THERAPIST_ALLIANCE = "therapist-reflection"
GOAL_PROGRESS = "goal-progress"


# ---- measures: what each instrument's total is ---------------------------------------------------


@dataclass(frozen=True)
class Measure:
    id: str
    label: str  # short, e.g. "PHQ-9"
    kind: str  # "outcome", "alliance" or "other"
    higher_is_better: bool
    low: float
    high: float
    reliable_change: float | None = None
    cutoff: float | None = None
    title: str = ""


@lru_cache(maxsize=64)
def measure(instrument_id: str) -> Measure | None:
    """How an instrument's total reads (None: it has no total, or is unknown)."""
    try:
        instrument = instruments.load(instrument_id)
    except (instruments.UnknownInstrument, instruments.DefinitionError):
        return None
    total = instrument.scoring.total
    if total is None or instrument_id == GOAL_PROGRESS:
        return None
    psy = instrument.psychometrics
    low, high = instrument.score_range() or (0.0, 100.0)
    label = total.label.removesuffix(" total")
    if instrument.alliance:
        return Measure(instrument_id, "Relationship", "alliance", True, low, high,
                       title=instrument.title)
    if psy is None:
        return Measure(instrument_id, label, "other", True, low, high, title=instrument.title)
    return Measure(instrument_id, label, "outcome", bool(psy.higher_is_better), low, high,
                   psy.reliable_change, psy.cutoff, instrument.title)


@lru_cache(maxsize=1)
def outcome_ids() -> tuple[str, ...]:
    """The outcome measures of the instrument library, the common pair (PHQ-9, GAD-7) first."""
    ids = [i for i in instruments.instrument_ids() if (m := measure(i)) and m.kind == "outcome"]
    return tuple(instruments.display_order(ids))


def fmt(value: float | None) -> str:
    if value is None or value != value:
        return "—"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


# ---- directions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trend:
    """The latest score of a measure and its direction since the previous one."""

    measure: Measure
    value: float
    previous: float | None = None

    @property
    def change(self) -> float | None:
        return None if self.previous is None else self.value - self.previous

    @property
    def direction(self) -> str:
        """"up", "down", "same", or "first" (no earlier score)."""
        if self.change is None:
            return "first"
        return "up" if self.change > 0 else "down" if self.change < 0 else "same"

    @property
    def arrow(self) -> str:
        return {"up": "↑", "down": "↓", "same": "→"}.get(self.direction, "")

    @property
    def verdict(self) -> str:
        """"better", "worse" or "same" by the measure's own direction ("" for a first score)."""
        if self.direction in ("first", "same"):
            return "" if self.direction == "first" else "same"
        up_is_good = self.measure.higher_is_better
        return "better" if (self.direction == "up") == up_is_good else "worse"

    @property
    def reliable(self) -> bool:
        """A change of at least the measure's reliable-change amount (Jacobson & Truax 1991)."""
        rc = self.measure.reliable_change
        return rc is not None and self.change is not None and abs(self.change) >= rc

    @property
    def text(self) -> str:
        """The direction in words, for screen readers and the printed page."""
        if self.direction == "first":
            return "first score"
        if self.direction == "same":
            return f"no change since {fmt(self.previous)}"
        good = "higher is better" if self.measure.higher_is_better else "lower is better"
        reliable = ", a reliable change" if self.reliable else ""
        return (f"{self.direction} {fmt(abs(self.change))} from {fmt(self.previous)}: "
                f"{self.verdict} ({good}){reliable}")


def trend_of(instrument_id: str, values: list[float]) -> Trend | None:
    """Trend from scores newest first."""
    m = measure(instrument_id)
    if m is None or not values:
        return None
    return Trend(m, values[0], values[1] if len(values) > 1 else None)

