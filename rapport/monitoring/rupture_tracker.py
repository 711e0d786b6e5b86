"""The rupture rules for one client, one session at a time: the readable reference.

`alliance.py` runs the same rules vectorised across thousands of episodes (a practice's nightly
refresh and `bench/bench_analyze.py` need that: about 0.15 ms an episode in a batch). This
module is the same state machine written for a person to follow: `RuptureTracker.step(...)`
takes the next rated session and says what happened. `tests/monitoring/test_rupture_tracker.py`
checks with Hypothesis that both give the same ruptures, repairs and notices.

The rules (numbers in thresholds.py, prior in variability.py):
1. The client's usual level is the mean of earlier sessions outside ruptures; its spread is
   their SD shrunk towards the practice's prior, floored, and (with a fitted prior) widened by
   sqrt(1 + 1/n) because the mean itself comes from n sessions. With a practice prior that
   has an item ratio, the items' within-session dispersion over those sessions is more
   evidence of the spread (ITEM_SPREAD_WEIGHT sessions' worth a session), and the
   components' SD prior follows the client's spread.
2. A session at least 1 SD (and at least the smallest meaningful drop) below the usual level
   is a notice; 2 SD (and that drop) below, or 1 SD with several components down at once
   (drop distance >= COMPONENT_DISTANCE), is a rupture.
3. A rupture stays open until the client is back: two sessions in a row within 1 SD of the
   pre-rupture level, or one at or above it with every component back too.
4. After RUPTURE_SETTLE sessions unrepaired, the lower level becomes the usual one; a further
   drop from it is a new rupture that supersedes the open one. So does a new drop right after
   one session back (a return not yet confirmed).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from rapport.monitoring import thresholds as th
from rapport.monitoring._arrays import EPS
from rapport.monitoring.variability import VariabilityPrior


@dataclass(slots=True)
class _Running:
    """Count, sum and sum of squares of one score over the sessions that count."""

    n: float = 0.0
    s1: float = 0.0
    s2: float = 0.0

    def add(self, x: float) -> None:
        self.n += 1
        self.s1 += x
        self.s2 += x * x

    def mean(self) -> float:
        return self.s1 / max(self.n, 1)

    def ss(self) -> float:
        """Sum of squared deviations from the mean."""
        return max(self.s2 - self.s1 * self.mean(), 0.0)

    def shrunk_sd(self, prior_sd: float, weight: float, floor: float) -> tuple[float, float]:
        """(SD shrunk towards the prior, floored; the same before the floor)."""
        raw = math.sqrt((self.ss() + weight * prior_sd**2) / max(self.n - 1 + weight, 1))
        return max(raw, floor), raw


@dataclass(slots=True)
class _Items:
    """Sessions with every component answered: how many, and the sum of the squares of their
    component sums (with each component's running sums, the items' two-way residual)."""

    m: float = 0.0
    q: float = 0.0

    def add(self, components: list[float]) -> None:
        if len(components) >= 2 and not any(math.isnan(x) for x in components):
            self.m += 1
            self.q += sum(components) ** 2


@dataclass(slots=True)
class Step:
    """What one session did: `event` is "rupture", "repair", "notice" or None."""

    session: int
    event: str | None
    usual: float
    sd: float
    supersedes: int | None = None  # a rupture replaced by this one (its start session)
    repaired: int | None = None  # the rupture this session repaired (its start session)
    back_since: int | None = None
    rule: str | None = None


@dataclass(slots=True)
class _Open:
    """The open rupture: where it started and the level a repair must reach."""

    start: int
    level: list[float]
    sds: list[float]
    inside: list[_Running]  # sessions inside it, for settling
    inside_items: _Items
    settled: bool = False
    back_since: int | None = None  # first session of a return not yet confirmed


@dataclass(slots=True)
class RuptureTracker:
    """One client's alliance series, session by session (see the module's rules)."""

    components: Sequence[str]
    span: float = 100.0  # the total's range
    component_span: float = 10.0
    prior: VariabilityPrior | None = None
    usual: list[_Running] = field(default_factory=list)
    items: _Items = field(default_factory=_Items)
    open: _Open | None = None

    def __post_init__(self) -> None:
        self.usual = [_Running() for _ in range(1 + len(self.components))]

    # -- the thresholds for this practice ---------------------------------------------------
    def _total_rules(self) -> tuple[float, float, float, float, int]:
        """(prior SD, its weight, SD floor, smallest meaningful drop, earlier sessions needed)"""
        p = self.prior
        if p is None:
            return (th.SD_PRIOR_FRACTION * self.span, th.SD_PRIOR_WEIGHT,
                    th.SD_FLOOR_FRACTION * self.span, 0.0, th.MIN_PRIOR_SESSIONS)
        return p.sd, p.weight, p.sd_floor, p.min_drop, th.MIN_PRIOR_SESSIONS_FITTED

    def _item_evidence(self) -> tuple[float, float]:
        """(sessions' worth of evidence, the total's variance it shows) from the items'
        within-session dispersion over the baseline (thresholds.py, ITEM_SPREAD_WEIGHT)."""
        m, k = self.items.m, len(self.components)
        if m < 2 or any(r.n != m for r in self.usual[1:]):
            return 0.0, 0.0
        s1 = [r.s1 for r in self.usual[1:]]
        rss = (sum(r.s2 for r in self.usual[1:]) - self.items.q / k
               - sum(x * x for x in s1) / m + sum(s1) ** 2 / (m * k))
        v = max(max(rss, 0.0) / max((m - 1) * (k - 1), 1) - th.ITEM_ROUNDING_VARIANCE, 0.0)
        assert self.prior is not None
        return th.ITEM_SPREAD_WEIGHT * (m - 1), v * self.prior.item_ratio

    def _spreads(self) -> list[float]:
        prior_sd, weight, floor, _, _ = self._total_rules()
        c_prior = th.COMPONENT_SD_PRIOR_FRACTION * self.component_span
        if self.prior is not None and self.prior.item_ratio > 0 and len(self.components) >= 2:
            # The items' dispersion as more evidence of the total's spread; the components'
            # prior follows that spread (1.2 points for a total SD of 6.5).
            w_items, v = self._item_evidence()
            total = self.usual[0]
            raw = math.sqrt((total.ss() + weight * prior_sd**2 + w_items * v)
                            / max(total.n - 1 + weight + w_items, 1))
            sds = [max(raw, floor)]
            c_prior *= raw / (th.SD_PRIOR_FRACTION * self.span)
        else:
            sds = [self.usual[0].shrunk_sd(prior_sd, weight, floor)[0]]
        c_floor = th.SD_FLOOR_FRACTION * self.component_span
        sds += [r.shrunk_sd(c_prior, th.SD_PRIOR_WEIGHT, c_floor)[0] for r in self.usual[1:]]
        return sds

    def step(self, session: int, total: float, components: Mapping[str, float]) -> Step:
        """Take the next rated session; return what it did."""
        values = [total] + [components.get(name, math.nan) for name in self.components]
        _, _, _, min_drop, min_prior = self._total_rules()
        min_dip = min_drop * th.MIN_DIP_STEPS / th.MIN_DROP_STEPS
        levels = [r.mean() for r in self.usual]
        sds = self._spreads()
        n = self.usual[0].n
        usual, sd = levels[0], sds[0]
        if self.prior is not None and self.prior.fitted:
            sd *= math.sqrt(1.0 + 1.0 / max(n, 1.0))
        low = total <= usual - max(th.DIP_SD * sd, min_dip) + EPS
        far_low = total <= usual - max(th.RUPTURE_SD * sd, min_drop) + EPS
        distance = self._drop_distance(values, levels, sds)
        step = Step(session, None, usual, sd)

        op = self.open
        back, repaired, two_back = self._back(values, min_drop)
        # Rule 2 (and 4: which rupture states allow a new one).
        may_open = n >= min_prior and not repaired and (
            op is None or op.settled or op.back_since is not None
        )
        rupture = may_open and low and (far_low or distance >= th.COMPONENT_DISTANCE - EPS)
        notice = n >= min_prior and not repaired and low and not rupture and (
            op is None or op.settled)

        if repaired and op is not None:
            step.event, step.repaired = "repair", op.start
            step.back_since = op.back_since if two_back else session
            step.rule = "two_sessions_back" if two_back else "one_session_recovered"
        elif op is not None and not rupture:
            op.back_since = (op.back_since or session) if back else None
        if rupture:
            step.event = "rupture"
            step.supersedes = op.start if op is not None else None
        elif notice:
            step.event = "notice"

        # Which sessions count towards the usual level, and settling (rule 4).
        was_settled = op is not None and op.settled and not repaired and not rupture
        if rupture:
            self.open = _Open(session, levels, sds, [_Running() for _ in values], _Items())
        elif repaired:
            self.open = None
        self._count(values, was_settled)
        return step

    def _count(self, values: list[float], was_settled: bool) -> None:
        """Add this session to the usual level or to the open rupture's own, and settle."""
        op = self.open
        # Sessions outside a rupture, or inside one that has settled, are the usual level.
        if op is None or was_settled:
            for r, x in zip(self.usual, values, strict=True):
                if not math.isnan(x):
                    r.add(x)
            self.items.add(values[1:])
        # Sessions inside a rupture count towards its own level until it settles.
        if op is not None and not op.settled:
            for r, x in zip(op.inside, values, strict=True):
                if not math.isnan(x):
                    r.add(x)
            op.inside_items.add(values[1:])
            if op.inside[0].n >= th.RUPTURE_SETTLE:
                self.usual = [_Running(r.n, r.s1, r.s2) for r in op.inside]
                self.items = _Items(op.inside_items.m, op.inside_items.q)
                op.settled = True

    def _back(self, values: list[float], min_drop: float) -> tuple[bool, bool, bool]:
        """Rule 3 for the open rupture: (back within 1 SD of the pre-rupture level, repaired,
        repaired because this is the second session back in a row)."""
        op = self.open
        if op is None:
            return False, False, False
        total = values[0]
        back = total >= op.level[0] - max(th.REPAIR_SD * op.sds[0], min_drop) - EPS
        components_back = all(
            math.isnan(x) or math.isnan(op.level[k])
            or x >= op.level[k] - th.REPAIR_SD * op.sds[k] - EPS
            for k, x in enumerate(values[1:], 1)
        )
        fully_back = back and total >= op.level[0] - EPS and components_back
        two_back = back and op.back_since is not None
        return back, fully_back or two_back, two_back

    def _drop_distance(self, values: list[float], levels: list[float], sds: list[float]) -> float:
        """Length of the vector of component drops, each in its own SDs (rises count 0)."""
        total = 0.0
        for k in range(1, len(values)):
            x = values[k]
            if math.isnan(x) or self.usual[k].n < th.MIN_PRIOR_SESSIONS:
                continue
            z = min((x - levels[k]) / sds[k], 0.0)
            total += z * z
        return math.sqrt(total)
