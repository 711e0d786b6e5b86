"""How much a practice's clients usually vary from session to session: an empirical-Bayes prior.

A client's "usual level" is judged against their own SD, but with 3-6 earlier ratings a raw SD
is too noisy, so it is shrunk towards a prior: `sd` with the weight of `weight` earlier sessions.
Before this module the prior was a constant (6.5 points with the weight of 4 sessions, floored at
5 points), right for clients who vary by 5-8 points and wrong for ceiling-heavy practices where
most clients rate 90-100 with an SD of 0.5-3: there the constant turned a drop from a steady 96
to 88 into a "dip". The prior is now estimated from the practice's own episodes:

- each client's sample variance `s_i^2` on `d_i = n_i - 1` degrees of freedom (at least
  MIN_RATINGS ratings), never below the rounding variance `resolution^2 / 12` (Sheppard's
  correction: a rating rounded to steps of `resolution` carries that much variance even when the
  client never moves);
- the prior variance `s0^2` and its weight `d0` by the method of moments on log variances of
  Smyth (2004), "Linear models and empirical Bayes methods for assessing differential
  expression", Stat Appl Genet Mol Biol 3:3, section 6.2: with `e_i = log s_i^2 - digamma(d_i/2)
  + log(d_i/2)`, `mean(e) = log s0^2 - digamma(d0/2) + log(d0/2)` and `var(e) - mean(trigamma(
  d_i/2)) = trigamma(d0/2)`. Clients who all vary alike give a large `d0` (strong shrinkage);
  a practice of steady and restless clients a small one (each client's own SD dominates sooner).

The posterior SD of a client with `n` earlier sessions and sum of squares `SS` is then
`sqrt((SS + d0 s0^2) / (n - 1 + d0))`, the same formula as before with fitted numbers.

`resolution` is the smallest step between two different totals in the practice's data (1.43
points for the check-in: seven 0-10 items, total = mean x 10). It sets the smallest drop that
means anything (thresholds.MIN_DROP_STEPS steps) and the SD floor (`resolution / sqrt(12)`).

`item_ratio` (`fit_item_ratio`): how much session-to-session variance of the total goes with
each unit of the items' within-session dispersion in this practice. A session's seven item
ratings say how restless the client is with 6 degrees of freedom (the two-way residual: each
item's deviation from the session's mean and from the item's own mean), the total with 1; the
rules (alliance.py, rupture_tracker.py) add that evidence to the client's SD, scaled by this
ratio. It is fitted, not assumed, because the link between item dispersion and total variance is
the practice's: the pooled total variance over the pooled residual variance (less the items'
rounding variance 1/12, Sheppard), both over the same clients' complete sessions. 0: not fitted
(no component data, or a prior from before the ratio existed): the rules then ignore the items.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from rapport.monitoring import thresholds as th
from rapport.monitoring.records import AllianceSeries


@dataclass(frozen=True, slots=True)
class VariabilityPrior:
    """Prior for one instrument's within-client SD, in the total's points."""

    sd: float
    weight: float  # pseudo-sessions (prior degrees of freedom)
    resolution: float  # smallest step between two totals
    episodes: int  # clients it was estimated from (0: the documented defaults)
    item_ratio: float = 0.0  # total variance per unit of item residual variance (0: none)

    @property
    def fitted(self) -> bool:
        return self.episodes > 0

    @property
    def sd_floor(self) -> float:
        return self.resolution / math.sqrt(12.0)

    @property
    def min_drop(self) -> float:
        return th.MIN_DROP_STEPS * self.resolution

    def to_dict(self) -> dict[str, float | int | bool]:
        return {"sd": round(self.sd, 2), "weight": round(self.weight, 1),
                "resolution": round(self.resolution, 3), "episodes": self.episodes,
                "fitted": self.fitted, "item_ratio": round(self.item_ratio, 3)}


def resolution_of(values: np.ndarray, span: float) -> float:
    """The smallest step between two different totals (rounded to 1e-9 of the span)."""
    unique = np.unique(np.round(values[np.isfinite(values)] / span, 9)) * span
    steps = np.diff(unique)
    steps = steps[steps > span * 1e-6]
    return float(steps.min()) if len(steps) else span / 100


def _trigamma_inverse(y: float) -> float:
    """x with trigamma(x) = y (trigamma is decreasing from +inf to 0 on (0, inf))."""
    return float(optimize.brentq(lambda x: special.polygamma(1, x) - y, 1e-6, 1e7))


def fit_prior(series: Sequence[Sequence[float]], span: float) -> VariabilityPrior | None:
    """Fit on the totals of many clients' series (one instrument); None when too few clients."""
    usable = [s for s in series
              if len(s) >= th.MIN_RATINGS_FOR_PRIOR and all(map(math.isfinite, s))]
    if len(usable) < th.MIN_EPISODES_FOR_PRIOR:
        return None
    # Every client's sample variance in one pass: the series laid end to end.
    lengths = np.fromiter((len(s) for s in usable), dtype=np.int64, count=len(usable))
    values = np.fromiter((x for s in usable for x in s), dtype=np.float64, count=int(lengths.sum()))
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    means = np.add.reduceat(values, starts) / lengths
    squares = np.add.reduceat((values - np.repeat(means, lengths)) ** 2, starts)
    resolution = resolution_of(values, span)
    d = (lengths - 1).astype(np.float64)
    var = np.maximum(squares / d, resolution**2 / 12.0)
    e = np.log(var) - special.digamma(d / 2) + np.log(d / 2)
    excess = float(np.var(e, ddof=1) - np.mean(special.polygamma(1, d / 2)))
    if excess > special.polygamma(1, th.MAX_PRIOR_WEIGHT / 2):
        d0 = 2 * _trigamma_inverse(excess)
    else:  # the clients vary no more than sampling explains: the strongest shrinkage allowed
        d0 = th.MAX_PRIOR_WEIGHT
    s0_sq = math.exp(float(np.mean(e)) + special.digamma(d0 / 2) - math.log(d0 / 2))
    return VariabilityPrior(math.sqrt(s0_sq), float(d0), resolution, len(usable))


def item_residual_variance(squares: np.ndarray, session_squares: np.ndarray, cols: np.ndarray,
                           m: np.ndarray) -> np.ndarray:
    """Per series, the items' two-way residual variance over its m complete sessions of k items
    (k = cols' width), less the items' rounding variance; 0 where it cannot be told.
    `squares`: the sum of every rating squared; `session_squares`: the sum over sessions of the
    square of the session's item sum; `cols`: each item's sum over the sessions."""
    k = cols.shape[1]
    mm = np.maximum(m, 1)
    rss = (squares - session_squares / k - (cols * cols).sum(axis=1) / mm
           + cols.sum(axis=1) ** 2 / (mm * k))
    v = np.maximum(rss, 0.0) / np.maximum((m - 1) * (k - 1), 1) - th.ITEM_ROUNDING_VARIANCE
    return np.maximum(v, 0.0)


def fit_item_ratio(series: Sequence[AllianceSeries]) -> float:
    """The practice's total variance per unit of the items' within-session residual variance
    (in the total's points squared per component point squared, so the scale factor between the
    two is in it); 0 when fewer than MIN_EPISODES_FOR_PRIOR clients have MIN_RATINGS_FOR_PRIOR
    sessions with every item answered, or the items never vary. Each client's residual is the
    two-way one over their complete sessions (each rating's deviation from its session's mean
    and its item's mean, on (m - 1)(k - 1) degrees of freedom); computed for all clients with the
    same number of items at once."""
    by_k: dict[int, tuple[list[tuple[float, ...]], list[float], list[int]]] = {}
    for a in series:
        names = sorted(a.components)
        if len(names) >= 2:
            rows, totals, lengths = by_k.setdefault(len(names), ([], [], []))
            rows.extend(zip(*(a.components[name] for name in names), strict=True))
            totals.extend(a.totals)
            lengths.append(len(a.totals))
    total_ss = resid = 0.0
    clients = 0
    for k, (rows, totals, lengths) in by_k.items():
        x, t = np.array(rows, dtype=np.float64), np.array(totals, dtype=np.float64)
        owner = np.repeat(np.arange(len(lengths)), lengths)
        keep = ~np.isnan(x).any(axis=1)
        x, t, owner = x[keep], t[keep], owner[keep]

        def per_client(values: np.ndarray, o: np.ndarray = owner, c: int = len(lengths)) -> np.ndarray:
            return np.bincount(o, values, minlength=c)

        m = per_client(np.ones(len(t)))
        cols = np.stack([per_client(x[:, j]) for j in range(k)], axis=1)
        v = item_residual_variance(per_client((x * x).sum(axis=1)),
                                   per_client(x.sum(axis=1) ** 2), cols, m)
        t_ss = np.maximum(per_client(t * t) - per_client(t) ** 2 / np.maximum(m, 1), 0.0)
        ok = m >= th.MIN_RATINGS_FOR_PRIOR
        total_ss += float(t_ss[ok].sum())
        resid += float((v * (m - 1))[ok].sum())
        clients += int(ok.sum())
    if clients < th.MIN_EPISODES_FOR_PRIOR or resid <= 0:
        return 0.0
    return total_ss / resid
