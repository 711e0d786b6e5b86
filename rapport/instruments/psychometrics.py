"""Reliable change, caseness and the classification of change from intake to now.

Pure functions with no state, used by the instruments (each definition carries its published
numbers, see `Psychometrics`) and by the monitoring layer.

Sources:
- Jacobson, N. S. & Truax, P. (1991). Clinical significance: a statistical approach to defining
  meaningful change in psychotherapy research. J Consult Clin Psychol 59(1), 12-19.
- NHS Talking Therapies for anxiety and depression manual (NHS England), definitions of reliable
  improvement, recovery, reliable recovery and reliable deterioration.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

Z_95 = 1.96

RELIABLE_DETERIORATION = "reliable_deterioration"
RELIABLE_RECOVERY = "reliable_recovery"
RECOVERY = "recovery"
RELIABLE_IMPROVEMENT = "reliable_improvement"
NO_RELIABLE_CHANGE = "no_reliable_change"

# The order in which classify_change() tests the outcomes: the first that holds wins.
PRECEDENCE = (
    RELIABLE_DETERIORATION,
    RELIABLE_RECOVERY,
    RECOVERY,
    RELIABLE_IMPROVEMENT,
    NO_RELIABLE_CHANGE,
)


def _check_sd_reliability(sd: float, reliability: float) -> None:
    if not sd > 0:
        raise ValueError(f"sd must be > 0, not {sd!r}")
    if not 0 <= reliability < 1:
        raise ValueError(f"reliability must be in [0, 1), not {reliability!r}")


def reliable_change_amount(sd: float, reliability: float) -> float:
    """The smallest change that is reliable at p < .05: 1.96 * sqrt(2) * SD * sqrt(1 - r).

    Jacobson & Truax (1991): SD of the reference (pre-treatment) sample, r its reliability
    (test-retest or internal consistency, as the source reports).
    """
    _check_sd_reliability(sd, reliability)
    return Z_95 * math.sqrt(2) * sd * math.sqrt(1 - reliability)


def rci(first: float, last: float, *, sd: float, reliability: float) -> float:
    """Jacobson & Truax (1991) reliable change index: (x2 - x1) / (sqrt(2) * SD * sqrt(1 - r)).

    The change is reliable when abs(rci) > 1.96.
    """
    _check_sd_reliability(sd, reliability)
    return (last - first) / (math.sqrt(2) * sd * math.sqrt(1 - reliability))


def is_case(score: float, cutoff: float, *, higher_is_better: bool = False) -> bool:
    """Caseness: for lower-is-better measures a case when score >= cutoff, otherwise score < cutoff."""
    return score < cutoff if higher_is_better else score >= cutoff


def classify_change(
    first: float,
    last: float,
    *,
    reliable_change: float,
    cutoff: float | None,
    higher_is_better: bool = False,
) -> str:
    """Classify the change from `first` (intake) to `last` (now), NHS Talking Therapies style.

    - reliable improvement: improved by at least `reliable_change` points;
    - reliable deterioration: worsened by at least `reliable_change` points;
    - recovery: a case at first and not a case at last (needs a cutoff);
    - reliable recovery: recovery and reliable improvement together.

    "At least" follows the NHS Talking Therapies wording (e.g. PHQ-9: a fall of 6 or more).
    Precedence, first match wins: reliable_deterioration, reliable_recovery, recovery,
    reliable_improvement, no_reliable_change. A client who moves below the cutoff by less than
    the reliable-change amount is therefore "recovery", not "reliable_recovery".
    """
    if not reliable_change > 0:
        raise ValueError(f"reliable_change must be > 0, not {reliable_change!r}")
    improvement = (last - first) if higher_is_better else (first - last)
    if improvement <= -reliable_change:
        return RELIABLE_DETERIORATION
    reliable = improvement >= reliable_change
    recovered = (
        cutoff is not None
        and is_case(first, cutoff, higher_is_better=higher_is_better)
        and not is_case(last, cutoff, higher_is_better=higher_is_better)
    )
    if recovered:
        return RELIABLE_RECOVERY if reliable else RECOVERY
    return RELIABLE_IMPROVEMENT if reliable else NO_RELIABLE_CHANGE


def is_response(first: float, last: float, *, fraction: float) -> bool:
    """Response: a fall of at least `fraction` of the intake score (PHQ-9: 50%, fraction 0.5).

    Defined here for lower-is-better scales anchored at zero only, which is where the published
    definitions exist; a definition file cannot set it for a higher-is-better instrument.
    """
    return first > 0 and last <= first * (1 - fraction)


def is_remission(last: float, *, below: float) -> bool:
    """Remission: the latest score is below the published threshold (PHQ-9: < 5).

    Lower-is-better scales only, like `is_response`.
    """
    return last < below


@dataclass(frozen=True, slots=True)
class Psychometrics:
    """An instrument's published change and caseness numbers, each with its source.

    `source` maps a field name ("reliable_change", "cutoff", "response_fraction",
    "remission_below", "direction") to the citation for that number. Fields without a published
    value are None.
    """

    higher_is_better: bool = False
    reliable_change: float | None = None
    cutoff: float | None = None
    response_fraction: float | None = None
    remission_below: float | None = None
    sd: float | None = None
    reliability: float | None = None
    source: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def is_case(self, score: float) -> bool | None:
        if self.cutoff is None:
            return None
        return is_case(score, self.cutoff, higher_is_better=self.higher_is_better)

    def classify(self, first: float, last: float) -> str | None:
        """`classify_change` with this instrument's numbers; None without a reliable-change amount."""
        if self.reliable_change is None:
            return None
        return classify_change(
            first,
            last,
            reliable_change=self.reliable_change,
            cutoff=self.cutoff,
            higher_is_better=self.higher_is_better,
        )

    def response(self, first: float, last: float) -> bool | None:
        """Whether `last` is a treatment response relative to `first`; None where undefined."""
        if self.response_fraction is None:
            return None
        return is_response(first, last, fraction=self.response_fraction)

    def remission(self, last: float) -> bool | None:
        """Whether `last` is in remission; None where undefined."""
        if self.remission_below is None:
            return None
        return is_remission(last, below=self.remission_below)

    def to_json(self) -> dict[str, object]:
        return {**asdict(self), "notes": list(self.notes)}


# -- NHS Talking Therapies paired outcomes ----------------------------------------------------

RELIABLE_CHANGE_BOTH_DIRECTIONS = "reliable_change_both_directions"


@dataclass(frozen=True, slots=True)
class Measure:
    """One measure of a pair: its first and last scores and its published numbers."""

    first: float
    last: float
    reliable_change: float
    cutoff: float  # caseness: score >= cutoff (lower-is-better measures)

    def change(self) -> int:
        """+1 reliable improvement, -1 reliable deterioration, 0 neither (a fall or rise of at
        least the reliable-change amount; "at least", as `classify_change`)."""
        if self.first - self.last >= self.reliable_change:
            return 1
        if self.last - self.first >= self.reliable_change:
            return -1
        return 0


@dataclass(frozen=True, slots=True)
class PairedOutcome:
    caseness_at_start: bool
    caseness_at_end: bool
    recovery: bool | None  # None: not a case at the start, so recovery does not apply
    reliable_improvement: bool
    reliable_deterioration: bool
    reliable_recovery: bool | None
    classification: str


def classify_paired(depression: Measure, anxiety: Measure) -> PairedOutcome:
    """NHS Talking Therapies outcomes judged on the PAIR of measures, not on each alone.

    Source: NHS Talking Therapies for anxiety and depression manual (NHS England), its outcome
    definitions, and the NHS Talking Therapies data set definitions (NHS Data Dictionary),
    which define, for a referral with a depression measure (PHQ-9) and an anxiety
    measure (GAD-7 or the anxiety-disorder-specific measure) at the first and last contact:
    - caseness: at or above the clinical cutoff on EITHER measure (PHQ-9 >= 10, GAD-7 >= 8);
    - recovery: a case at the start and a case on NEITHER measure at the end (only referrals
      at caseness at the start are counted);
    - reliable improvement: a reliable fall on at least one measure and no reliable rise on
      the other; reliable deterioration: the mirror image;
    - a reliable fall on one measure with a reliable rise on the other is neither (reported
      here as "reliable_change_both_directions");
    - reliable recovery: recovery and reliable improvement together.
    Precedence of the single label, first that holds: reliable_change_both_directions,
    reliable_deterioration, reliable_recovery, recovery, reliable_improvement,
    no_reliable_change. The flags keep every part of the judgement.
    """
    d, a = depression.change(), anxiety.change()
    improved = (d == 1 or a == 1) and -1 not in (d, a)
    deteriorated = (d == -1 or a == -1) and 1 not in (d, a)
    both = {d, a} == {1, -1}
    case_start = depression.first >= depression.cutoff or anxiety.first >= anxiety.cutoff
    case_end = depression.last >= depression.cutoff or anxiety.last >= anxiety.cutoff
    recovery = (not case_end) if case_start else None
    reliable_recovery = (bool(recovery) and improved) if case_start else None
    if both:
        label = RELIABLE_CHANGE_BOTH_DIRECTIONS
    elif deteriorated:
        label = RELIABLE_DETERIORATION
    elif reliable_recovery:
        label = RELIABLE_RECOVERY
    elif recovery:
        label = RECOVERY
    elif improved:
        label = RELIABLE_IMPROVEMENT
    else:
        label = NO_RELIABLE_CHANGE
    return PairedOutcome(case_start, case_end, recovery, improved, deteriorated,
                         reliable_recovery, label)
