"""The analytics figures, as pure computations on plain records (no ORM, no Django).

`data.py` turns stored rows into one `EpisodeFacts` per care episode; `summarise(facts)` turns
any group of them (one therapist, a team, the practice) into `Figures`. Every figure carries its
n and, where it is an estimate, a 95% interval; below MIN_N it is "too few to say".

Definitions and sources (see README.md for the full list of our own choices):

- Outcome classes: the instruments library's `classify_change` (Jacobson & Truax 1991; NHS
  Talking Therapies definitions), applied by the monitoring core's `summarize` from the intake
  (first) score to the latest score. Reliable improvement counts reliable improvement and
  reliable recovery (both improved by at least the reliable-change amount); recovery counts
  recovery and reliable recovery among clients who were a case at intake (the NHS Talking
  Therapies denominator); reliable deterioration is its own class.
- Severity-adjusted effect size: for each episode, (expected latest score - actual latest
  score) / SD, oriented so that a positive value means more improvement than the expected-
  treatment-response model predicts for that intake score at that session (Finch, Lambert &
  Schaalje 2001). SD: the practice's SD of intake scores on the instrument, the denominator of
  the pre-post effect sizes that benchmarking studies use (Minami et al. 2008, J Consult Clin
  Psychol 76(1):116-124); residualising on the intake score follows the "severity adjusted
  effect size" of ACORN (Brown, Simon, Cameron & Minami 2015, Psychotherapy 52(4):412-421).
  Our own choices: the residual is taken against our expected-treatment-response curve (the
  practice's fitted one, else the monitoring core's documented default), and no benchmark mean
  is added back, so 0 means "as expected by our model", not a published benchmark.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from statistics import fmean, stdev

from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

from rapport.instruments.psychometrics import (
    RECOVERY,
    RELIABLE_DETERIORATION,
    RELIABLE_IMPROVEMENT,
    RELIABLE_RECOVERY,
    is_case,
)
from rapport.monitoring import OutcomeSeries, TrajectoryModel, summarize

# Ours: below 5 a share or a mean says more about one or two clients than about the work (a
# Wilson interval for 2 of 4 runs from 15% to 85%), and showing it invites over-reading and
# can point at an individual client. 5 is the smallest group many health-statistics
# disclosure rules also use; it is not a published threshold for this purpose.
MIN_N = 5
CONFIDENCE = 0.95

IMPROVED = frozenset({RELIABLE_IMPROVEMENT, RELIABLE_RECOVERY})
RECOVERED = frozenset({RECOVERY, RELIABLE_RECOVERY})


@dataclass(frozen=True, slots=True)
class Figure:
    """One number with its n. kind: count, proportion (value 0-1), mean or effect."""

    kind: str
    n: int
    value: float | None = None
    low: float | None = None
    high: float | None = None
    count: int | None = None  # a proportion's numerator

    @property
    def enough(self) -> bool:
        return self.kind == "count" or self.n >= MIN_N

    @property
    def shown(self) -> float | None:
        """The value to show, or None when there are too few to say."""
        return self.value if self.enough else None


def count(n: int) -> Figure:
    return Figure("count", n, float(n))


def proportion(k: int, n: int) -> Figure:
    """k of n with a Wilson score interval (Wilson 1927; statsmodels' implementation)."""
    if n <= 0:
        return Figure("proportion", 0, count=k)
    low, high = proportion_confint(k, n, alpha=1 - CONFIDENCE, method="wilson")
    return Figure("proportion", n, k / n, float(low), float(high), count=k)


def mean(values: Iterable[float], kind: str = "mean") -> Figure:
    """The mean with a t-interval (Student's t on n - 1 degrees of freedom)."""
    xs = [float(v) for v in values if v is not None and math.isfinite(v)]
    n = len(xs)
    if n == 0:
        return Figure(kind, 0)
    m = fmean(xs)
    if n < 2:
        return Figure(kind, n, m)
    sem = stdev(xs) / math.sqrt(n)
    if sem == 0:
        return Figure(kind, n, m, m, m)
    low, high = sps.t.interval(CONFIDENCE, n - 1, loc=m, scale=sem)
    return Figure(kind, n, m, float(low), float(high))


# ---- per episode -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutcomeFacts:
    """One episode's change on one outcome instrument, intake to the latest score."""

    classification: str | None
    case_at_intake: bool | None  # None: the instrument has no cutoff
    effect: float | None  # severity-adjusted, in intake SDs; positive = better than expected


def intake_sd(series: Iterable[OutcomeSeries]) -> float | None:
    """The SD of the intake (first) scores; None with fewer than two or no spread."""
    firsts = [s.scores[0] for s in series if s.scores]
    if len(firsts) < 2:
        return None
    sd = stdev(firsts)
    return sd if sd > 0 else None


def outcome_facts(
    series: OutcomeSeries, model: TrajectoryModel | None, sd: float | None
) -> OutcomeFacts | None:
    """Classify intake -> latest and the effect against the expected score; None if < 2 scores."""
    if len(series.scores) < 2:
        return None
    summary = summarize(series)
    if summary is None:  # pragma: no cover - an empty series is excluded above
        return None
    scale = series.scale
    case = (
        is_case(summary.first, scale.cutoff, higher_is_better=scale.higher_is_better)
        if scale.cutoff is not None else None
    )
    effect = None
    if model is not None and sd is not None:
        # The model counts sessions from intake (1 = the intake score's session).
        t = summary.last_session - summary.first_session + 1
        expected, _tolerance = model.expected(summary.first, t)
        better = (expected - summary.last) if not scale.higher_is_better else (summary.last - expected)
        effect = better / sd
    return OutcomeFacts(summary.classification, case, effect)


@dataclass(slots=True)
class EpisodeFacts:
    """What one episode contributes to the figures of a period (built by data.py)."""

    therapist_id: int
    active: bool = False  # in progress at some time in the period and not ended within it
    ended: bool = False  # ended within the period
    dropped_out: bool = False  # ended within the period as a drop-out
    sessions_attended: int = 0
    relationship: float | None = None  # mean client relationship total in the period
    outcomes: dict[str, OutcomeFacts] = field(default_factory=dict)
    ruptures: int = 0  # ruptures that started in the period
    repaired: int = 0  # of those, repaired (as of the end of the period)
    # Why each of those ruptures fired, in the client's own numbers (the finding's evidence):
    # the usual level, the client's spread (SD) and the drop from the usual level that session.
    rupture_basis: list[tuple[float, float, float]] = field(default_factory=list)
    checkins_due: int = 0
    checkins_done: int = 0


# ---- per group ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutcomeFigures:
    instrument: str
    improved: Figure
    recovered: Figure
    deteriorated: Figure
    effect: Figure


@dataclass(frozen=True, slots=True)
class Figures:
    episodes_active: Figure
    episodes_ended: Figure
    sessions_attended: Figure
    dropout: Figure
    relationship: Figure
    ruptures: Figure
    repaired: Figure
    rupture_usual: Figure
    rupture_spread: Figure
    rupture_drop: Figure
    checkins: Figure
    outcomes: dict[str, OutcomeFigures]

    def outcome(self, instrument: str) -> OutcomeFigures:
        return self.outcomes.get(instrument) or outcome_figures(instrument, [])


def outcome_figures(instrument: str, facts: list[OutcomeFacts]) -> OutcomeFigures:
    classified = [f for f in facts if f.classification is not None]
    cases = [f for f in classified if f.case_at_intake]
    return OutcomeFigures(
        instrument,
        improved=proportion(sum(f.classification in IMPROVED for f in classified), len(classified)),
        recovered=proportion(sum(f.classification in RECOVERED for f in cases), len(cases)),
        deteriorated=proportion(
            sum(f.classification == RELIABLE_DETERIORATION for f in classified), len(classified)
        ),
        effect=mean((f.effect for f in facts if f.effect is not None), kind="effect"),
    )


def summarise(facts: Iterable[EpisodeFacts]) -> Figures:
    """The figures for a group of episodes, in one pass over them."""
    active = ended = dropped = attended = ruptures = repaired = due = done = 0
    relationship: list[float] = []
    basis: list[tuple[float, float, float]] = []
    outcomes: dict[str, list[OutcomeFacts]] = {}
    for f in facts:
        basis.extend(f.rupture_basis)
        active += f.active
        ended += f.ended
        dropped += f.dropped_out
        attended += f.sessions_attended
        ruptures += f.ruptures
        repaired += f.repaired
        due += f.checkins_due
        done += f.checkins_done
        if f.relationship is not None:
            relationship.append(f.relationship)
        for instrument, o in f.outcomes.items():
            outcomes.setdefault(instrument, []).append(o)
    return Figures(
        episodes_active=count(active),
        episodes_ended=count(ended),
        sessions_attended=count(attended),
        dropout=proportion(dropped, ended),
        relationship=mean(relationship),
        ruptures=count(ruptures),
        repaired=proportion(repaired, ruptures),
        rupture_usual=mean(b[0] for b in basis),
        rupture_spread=mean(b[1] for b in basis),
        rupture_drop=mean(b[2] for b in basis),
        checkins=proportion(done, due),
        outcomes={i: outcome_figures(i, fs) for i, fs in sorted(outcomes.items())},
    )
