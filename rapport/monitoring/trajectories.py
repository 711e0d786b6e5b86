"""Expected treatment response: the expected score by session from the intake score.

The model (Finch, Lambert & Schaalje 2001; the log-linear dose-effect curve of Howard et al.
1986), in "severity" units u (the score itself for lower-is-better instruments, its negative
otherwise, so that larger u is always worse):

    expected u(t) = u1 + log(t) * (slope + slope_by_intake * (u1 - centre))
    tolerance sd(t) = sqrt(var0 + var_log * log(t)^2)

where u1 is the intake score, t the session counted from intake (t = 1 at intake), and the
coefficients belong to the intake-severity band u1 falls in. The change model is fitted by least
squares within each band; the variance model by least squares on the squared residuals (the
first term is measurement error, the second the spread of clients' rates of change). A score
more than ETR_WARNING_Z tolerance SDs worse than expected is not on track (warning), more than
ETR_STRONG_Z SDs the stronger level. See thresholds.py for the numbers and why.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from rapport.monitoring import thresholds as th
from rapport.monitoring._arrays import F, Flat, first_of_group, flatten
from rapport.monitoring.records import AllianceSeries, EpisodeHistory, OutcomeSeries, Scale
from rapport.monitoring.variability import VariabilityPrior, fit_item_ratio, fit_prior


@dataclass(frozen=True, slots=True)
class Band:
    """One intake-severity band's curve. `lower` is the band's lowest intake, in u units."""

    lower: float
    centre: float
    slope: float
    slope_by_intake: float
    var0: float
    var_log: float
    episodes: int


@dataclass(frozen=True, slots=True)
class TrajectoryModel:
    """Expected scores and tolerance for one instrument; `fitted` False means the defaults."""

    instrument: str
    higher_is_better: bool
    bands: tuple[Band, ...]
    fitted: bool
    episodes: int = 0

    def _band_arrays(self, u1: F) -> tuple[Any, ...]:
        lowers = np.array([b.lower for b in self.bands[1:]])
        which = np.searchsorted(lowers, u1, side="right")
        pick = [np.array([getattr(b, name) for b in self.bands])[which] for name in
                ("centre", "slope", "slope_by_intake", "var0", "var_log")]
        return (which, *pick)

    def expected_u(self, u1: F, t: F) -> tuple[F, F, Any]:
        """Expected u and tolerance SD at sessions t (from intake) for intakes u1; band index."""
        which, centre, slope, by_intake, var0, var_log = self._band_arrays(u1)
        lt = np.log(t)
        expected = u1 + lt * (slope + by_intake * (u1 - centre))
        sd = np.sqrt(np.maximum(var0 + var_log * lt * lt, 1e-12))
        return expected, sd, which

    def expected(self, intake: float, session: int) -> tuple[float, float]:
        """Expected score and tolerance SD at `session` (1 = intake) for one intake score."""
        sign = -1.0 if self.higher_is_better else 1.0
        e, sd, _ = self.expected_u(np.array([sign * intake]), np.array([float(session)]))
        return float(sign * e[0]), float(sd[0])

    def to_dict(self) -> dict[str, Any]:
        sign = -1.0 if self.higher_is_better else 1.0
        return {
            "instrument": self.instrument,
            "fitted": self.fitted,
            "episodes": self.episodes,
            "bands": [
                {
                    "intake_from": None if math.isinf(b.lower) else sign * b.lower,
                    "centre": sign * b.centre,
                    "change_per_log_session": sign * b.slope,
                    "slope_by_intake": b.slope_by_intake,
                    "sd_at_session_2": math.sqrt(b.var0 + b.var_log * math.log(2) ** 2),
                    "sd_at_session_8": math.sqrt(b.var0 + b.var_log * math.log(8) ** 2),
                    "episodes": b.episodes,
                }
                for b in self.bands
            ],
        }


def default_model(instrument: str, scale: Scale) -> TrajectoryModel | None:
    """The documented default curve (thresholds.py); None without a reliable-change amount."""
    rc = scale.reliable_change
    if rc is None or not rc > 0:
        return None
    band = Band(
        lower=-math.inf,
        centre=0.0,
        slope=-rc / th.DEFAULT_LOG_IMPROVEMENT,
        slope_by_intake=0.0,
        var0=(rc / 1.96) ** 2,
        var_log=(rc * th.DEFAULT_SLOPE_SPREAD_PER_RC) ** 2,
        episodes=0,
    )
    return TrajectoryModel(instrument, scale.higher_is_better, (band,), fitted=False)


def _fit_band(u1: F, dt: F, du: F, lower: float, episodes: int) -> Band:
    lt = np.log(dt)
    centre = float(np.median(u1))
    x = np.column_stack([lt, lt * (u1 - centre)])
    coef, *_ = np.linalg.lstsq(x, du, rcond=None)
    resid = du - x @ coef
    z = np.column_stack([np.ones_like(lt), lt * lt])
    vcoef, *_ = np.linalg.lstsq(z, resid * resid, rcond=None)
    overall = float(np.mean(resid * resid))
    # Variance terms cannot be negative; keep at least a tenth of the pooled residual variance
    # at every session so that a band never becomes a knife edge.
    var0 = max(float(vcoef[0]), 0.01 * overall)
    var_log = max(float(vcoef[1]), 0.0)
    return Band(lower, centre, float(coef[0]), float(coef[1]), var0, var_log, episodes)


def fit_flat(
    instrument: str,
    flat: Flat,
    *,
    higher_is_better: bool,
    min_per_band: int = th.MIN_EPISODES_PER_BAND,
    max_bands: int = th.MAX_BANDS,
) -> TrajectoryModel | None:
    """Fit on series laid end to end (see `_arrays.flatten`); None when there are too few."""
    if len(flat.grp) == 0:
        return None
    sign = -1.0 if higher_is_better else 1.0
    u = sign * flat.value
    first = first_of_group(flat)
    dt = (flat.session - flat.session[first] + 1).astype(np.float64)
    later = dt > 1
    eligible_groups = np.unique(flat.grp[later])
    n = len(eligible_groups)
    k = min(max_bands, n // max(min_per_band, 1))
    if k < 1:
        return None
    intakes = u[flat.offsets[eligible_groups]]
    edges = np.quantile(intakes, np.linspace(0, 1, k + 1)[1:-1]) if k > 1 else np.array([])
    u1 = u[first][later]
    band_of_point = np.searchsorted(edges, u1, side="right")
    band_of_episode = np.searchsorted(edges, intakes, side="right")
    bands = []
    for b in range(k):
        m = band_of_point == b
        lower = -math.inf if b == 0 else float(edges[b - 1])
        count = int(np.sum(band_of_episode == b))
        bands.append(_fit_band(u1[m], dt[later][m], (u - u[first])[later][m], lower, count))
    return TrajectoryModel(instrument, higher_is_better, tuple(bands), fitted=True, episodes=n)


@dataclass(slots=True)
class ExpectedTrajectories:
    """Fitted curves by instrument; instruments without one fall back to the defaults."""

    models: dict[str, TrajectoryModel] = field(default_factory=dict)
    # Within-client alliance variability by client instrument (variability.py); instruments
    # without one use the documented constants (thresholds.py).
    alliance: dict[str, VariabilityPrior] = field(default_factory=dict)

    @classmethod
    def fit(
        cls,
        data: Iterable[EpisodeHistory | OutcomeSeries],
        *,
        min_per_band: int = th.MIN_EPISODES_PER_BAND,
        max_bands: int = th.MAX_BANDS,
    ) -> ExpectedTrajectories:
        """Fit each instrument's curve on a practice's episodes (or bare outcome series).

        An instrument gets a fitted model once it has `min_per_band` eligible episodes (an
        intake and at least one later score); up to `max_bands` intake-severity bands, split at
        the quantiles of the intake scores, with at least `min_per_band` episodes each.
        """
        by_instrument: dict[str, list[OutcomeSeries]] = {}
        alliance: dict[str, list[AllianceSeries]] = {}
        for item in data:
            series = item.outcomes if isinstance(item, EpisodeHistory) else (item,)
            for s in series:
                if len(s.sessions) >= 2:
                    by_instrument.setdefault(s.instrument, []).append(s)
            if isinstance(item, EpisodeHistory):
                for a in item.alliance:
                    if a.respondent == "client":
                        alliance.setdefault(a.instrument, []).append(a)
        models: dict[str, TrajectoryModel] = {}
        for instrument, series in by_instrument.items():
            flat = flatten([s.sessions for s in series], [s.scores for s in series])
            model = fit_flat(
                instrument,
                flat,
                higher_is_better=series[0].scale.higher_is_better,
                min_per_band=min_per_band,
                max_bands=max_bands,
            )
            if model is not None:
                models[instrument] = model
        priors: dict[str, VariabilityPrior] = {}
        for instrument, items in alliance.items():
            prior = fit_prior([a.totals for a in items], items[0].scale_max - items[0].scale_min)
            if prior is not None:
                priors[instrument] = replace(prior, item_ratio=fit_item_ratio(items))
        return cls(models, priors)

    def model_for(self, instrument: str, scale: Scale) -> TrajectoryModel | None:
        model = self.models.get(instrument)
        if model is not None and model.higher_is_better == scale.higher_is_better:
            return model
        return default_model(instrument, scale)
