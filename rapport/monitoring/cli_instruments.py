"""What `rapport analyze` needs to know about an instrument, from the instruments library: its
kind (alliance or outcome), outcome scale, the total's possible range, and whether totals are
whole numbers (or prorated from fewer answered items), to refuse impossible totals."""

from __future__ import annotations

from dataclasses import dataclass

from rapport.monitoring.analyze import THERAPIST_PAIRS
from rapport.monitoring.records import Scale

# Alliance-type instruments recognised even when the instruments library lacks them.
KNOWN_ALLIANCE = frozenset({"relationship-checkin", *THERAPIST_PAIRS, *THERAPIST_PAIRS.values()})


@dataclass(frozen=True, slots=True)
class Meta:
    """What the CLI needs to know about an instrument, from the library."""

    alliance: bool
    scale: Scale | None  # outcome scale; None for alliance instruments
    scale_min: float = 0.0
    scale_max: float = 100.0
    low_cutoff: float | None = None
    total_range: tuple[float, float] | None = None  # None: the library gives no range
    integer: bool = False  # totals are whole numbers (sums of whole-number items)
    # (items, most missing) when a total may be prorated from fewer answered items (not rounded,
    # e.g. PHQ-9 with 7 of 9 answered: 12 x 9 / 7 = 15.43): such totals are accepted too.
    prorated: tuple[int, int] | None = None


def _is_integer(instrument: object) -> bool:
    """Whether every total is a whole number: a plain sum of whole-number items."""
    try:
        total = instrument.scoring.total  # type: ignore[attr-defined]
        ranges = [instrument.item(i).value_range for i in total.items]  # type: ignore[attr-defined]
        return (total.method == "sum" and total.multiplier == 1
                and all(float(v).is_integer() for r in ranges for v in r))
    except (AttributeError, KeyError, TypeError, ValueError):
        return False


def _prorated(instrument: object) -> tuple[int, int] | None:
    """(items, most missing) when an unrounded prorated total is possible."""
    total = getattr(getattr(instrument, "scoring", None), "total", None)
    missing = getattr(total, "max_missing", 0)
    if total is None or not missing or getattr(total, "round_prorated", False):
        return None
    return len(total.items), min(missing, len(total.items) - 1)


def _whole_or_prorated(meta: Meta, score: float) -> bool:
    """Whether `score` is a whole number or a prorated total (whole sum of `a` answered items
    times items / a, written with at least two decimals)."""
    if float(score).is_integer():
        return True
    if meta.prorated is None:
        return False
    n, most = meta.prorated
    for answered in range(n - most, n):
        value = round(score * answered / n) * n / answered  # the nearest prorated total
        # A whole prorated total is written whole (0.004 is no way of writing 0).
        if not value.is_integer() and abs(score - value) <= 0.005 + 1e-9:
            return True
    return False


def _total_range(instrument: object) -> tuple[float, float] | None:
    """The total's possible range from the item ranges, when the definition makes it plain."""
    try:
        total = instrument.scoring.total  # type: ignore[attr-defined]
        if total is None:
            return None
        ranges = [instrument.item(i).value_range for i in total.items]  # type: ignore[attr-defined]
        if any(r is None for r in ranges):
            return None
        lows = [float(r[0]) for r in ranges]
        highs = [float(r[1]) for r in ranges]
        if total.method == "mean":
            lo, hi = min(lows), max(highs)
        else:
            lo, hi = sum(lows), sum(highs)
        return lo * total.multiplier, hi * total.multiplier
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def lookup(instrument_id: str) -> Meta | None:
    """The instrument's metadata, or None when the library does not know it."""
    try:
        from rapport.instruments import load

        instrument = load(instrument_id)
    except (ImportError, KeyError, ValueError):  # ValueError: a broken definition file
        if instrument_id in KNOWN_ALLIANCE:
            return Meta(alliance=True, scale=None)
        return None
    psy = getattr(instrument, "psychometrics", None)
    if getattr(instrument, "alliance", False) or instrument_id in KNOWN_ALLIANCE:
        lo, hi = _total_range(instrument) or (0.0, 100.0)
        cutoff = None
        if psy is not None and psy.cutoff is not None and psy.higher_is_better:
            cutoff = float(psy.cutoff)
        return Meta(alliance=True, scale=None, scale_min=lo, scale_max=hi, low_cutoff=cutoff,
                    total_range=(lo, hi))
    return Meta(alliance=False, scale=Scale.of(psy) if psy is not None else Scale(),
                total_range=_total_range(instrument), integer=_is_integer(instrument),
                prorated=_prorated(instrument))


def score_problem(meta: Meta, instrument: str, score: float) -> str | None:
    """Why a total is impossible for its instrument, or None."""
    if meta.total_range is not None:
        lo, hi = meta.total_range
        if not lo <= score <= hi:
            return f"{instrument} score must be from {lo:g} to {hi:g}, not {score:g}"
    if meta.integer and not _whole_or_prorated(meta, score):
        if meta.prorated is not None:
            n, most = meta.prorated
            return (f"{instrument} score must be a whole number or a total prorated from "
                    f"{n - most} to {n - 1} answered items, not {score:g}")
        return f"{instrument} score must be a whole number, not {score:g}"
