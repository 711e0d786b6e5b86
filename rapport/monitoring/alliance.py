"""The alliance rules, vectorised across episodes: ruptures, repairs, dips, lows, component drops.

`rupture_tracker.py` is the same rupture state machine for one client, one session at a time,
written for a person to follow; `tests/monitoring/test_rupture_tracker.py` checks with Hypothesis
that both give the same ruptures, repairs and notices. This module runs it over many series at
once (one session column at a time across all series), which a practice's nightly refresh and
`bench/bench_analyze.py` need.

A rupture stays open until the client is back at the usual level from before it (repair, see
thresholds.py: two consecutive sessions within REPAIR_SD of it, or one session at or above it
with every component recovered). Once it has lasted RUPTURE_SETTLE sessions unrepaired, the lower
level becomes the baseline for new ruptures (a further drop from there is a new rupture, which
supersedes the open one); a return to the old level still marks the open one repaired. The usual
level of the total and of each component is built from the same sessions: those outside ruptures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from rapport.monitoring import thresholds as th
from rapport.monitoring._arrays import EPS, Flat, flatten, pad
from rapport.monitoring.alliance_findings import Emit
from rapport.monitoring.alliance_state import AllianceGroup, Scan
from rapport.monitoring.records import AllianceSeries, EpisodeHistory, Finding
from rapport.monitoring.variability import VariabilityPrior, item_residual_variance


def alliance_rules(
    episodes: Sequence[EpisodeHistory], out: list[list[Finding]],
    priors: dict[str, VariabilityPrior],
) -> dict[int, list[Finding]]:
    """Append every client-alliance finding to `out`; return the open ruptures by episode."""
    groups: dict[tuple[Any, ...], list[tuple[int, AllianceSeries]]] = {}
    for i, ep in enumerate(episodes):
        for a in ep.alliance:
            if a.respondent == "client" and a.sessions:
                c_lo = a.scale_min if a.component_min is None else a.component_min
                c_hi = a.scale_max if a.component_max is None else a.component_max
                key = (a.instrument, a.scale_min, a.scale_max, a.low_cutoff, c_hi - c_lo)
                groups.setdefault(key, []).append((i, a))
    open_ruptures: dict[int, list[Finding]] = {}
    for (instrument, lo, hi, own_low, c_span), items in groups.items():
        g = _group(instrument, lo, hi, own_low, c_span, items, priors.get(instrument))
        scan = _scan(g)
        emit = Emit(g, scan, episodes, out)
        emit.ruptures(open_ruptures)
        emit.dips()
        emit.lows()
        emit.component_drops()
    return open_ruptures


# -- one instrument's series, laid out as matrices --------------------------------------------


def _group(instrument: str, lo: float, hi: float, own_low: float | None, c_span: float,
           items: list[tuple[int, AllianceSeries]], prior: VariabilityPrior | None) -> AllianceGroup:
    span = hi - lo
    if prior is None:
        # A new practice: the documented constants (thresholds.py).
        prior = VariabilityPrior(th.SD_PRIOR_FRACTION * span, th.SD_PRIOR_WEIGHT, 0.0, 0)
        floor, min_drop, min_prior = th.SD_FLOOR_FRACTION * span, 0.0, th.MIN_PRIOR_SESSIONS
    else:
        floor, min_drop, min_prior = prior.sd_floor, prior.min_drop, th.MIN_PRIOR_SESSIONS_FITTED
    flat = flatten([a.sessions for _, a in items], [a.totals for _, a in items])
    names = sorted({name for _, a in items for name in a.components})
    comp, comp_prior, comp_drop = _components(items, flat, names, c_span)
    return AllianceGroup(instrument, lo, hi, own_low, c_span, prior, floor, min_drop, min_prior, flat,
                  [i for i, _ in items], pad(flat),
                  pad(flat, flat.session.astype(np.float64), fill=-1), names, comp, comp_prior,
                  comp_drop)


def _components(items: list[tuple[int, AllianceSeries]], flat: Flat, names: list[str],
                c_span: float) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Components as (series, session column, component), each one's mean over its earlier
    sessions (MIN_PRIOR_SESSIONS or more), and where it dropped by COMPONENT_DROP_FRACTION."""
    if not names:
        return None, None, None
    rows, width = pad(flat).shape
    comp = np.full((rows, width, len(names)), np.nan)
    for k, name in enumerate(names):
        vals = [a.components.get(name) or (math.nan,) * len(a.sessions) for _, a in items]
        comp[:, :, k] = pad(flat, np.fromiter(
            (v for tup in vals for v in tup), dtype=np.float64, count=len(flat.value)
        ))
    valid_c = ~np.isnan(comp)
    filled = np.where(valid_c, comp, 0.0)
    prior_n = np.cumsum(valid_c, axis=1) - valid_c
    prior_sum = np.cumsum(filled, axis=1) - filled
    with np.errstate(invalid="ignore", divide="ignore"):
        comp_prior = np.where(
            prior_n >= th.MIN_PRIOR_SESSIONS, prior_sum / np.maximum(prior_n, 1), np.nan
        )
    comp_drop = comp_prior - comp >= th.COMPONENT_DROP_FRACTION * c_span - EPS  # NaN: False
    return comp, comp_prior, comp_drop


# -- the rupture state machine, one session column at a time across all series ---------------


def _scan(g: AllianceGroup) -> Scan:
    st = Scan.start(g)
    for c in range(g.x_mat.shape[1]):
        _column(g, st, c)
    return st


def _usual(g: AllianceGroup, st: Scan, c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The usual level and spread of every series before column `c`: (levels, SDs of the total
    and components, the total's SD to judge this session by). Records them for the evidence."""
    n = st.s_n[:, 0]
    lvl = st.s_1 / np.maximum(st.s_n, 1)
    # Each SD shrunk towards a typical within-client SD (the prior's weight in pseudo-sessions):
    # with 3-5 earlier sessions a raw SD is too noisy to judge 2 SD by; floored.
    ss = np.maximum(st.s_2 - st.s_1 * lvl, 0.0) + st.w * st.prior_v
    dof = st.s_n - 1 + st.w
    if g.prior.item_ratio > 0 and len(g.names) >= 2:
        # The items' within-session dispersion as more evidence of the total's spread, and the
        # components' prior following that spread (thresholds.py, ITEM_SPREAD_WEIGHT).
        w_items = _item_weight(st)
        ss[:, 0] += _item_spread(g, st) * w_items
        dof[:, 0] += w_items
        total_sd = np.sqrt(ss[:, 0] / np.maximum(dof[:, 0], 1))
        scale = (total_sd / (th.SD_PRIOR_FRACTION * (g.hi - g.lo))) ** 2
        ss[:, 1:] += (scale[:, None] - 1.0) * st.w[1:] * st.prior_v[1:]
    raw = np.sqrt(ss / np.maximum(dof, 1))
    sds = np.maximum(raw, st.floor_v)
    sd = sds[:, 0]
    if g.prior.fitted:
        # The usual level is itself estimated from n sessions: judge the new session against
        # the predictive spread sd * sqrt(1 + 1/n), not sd alone.
        sd = sd * np.sqrt(1.0 + 1.0 / np.maximum(n, 1.0))
    st.mean_m[:, c], st.sd_m[:, c], st.raw_sd_m[:, c], st.n_m[:, c] = lvl[:, 0], sd, raw[:, 0], n
    return lvl, sds, sd


def _item_weight(st: Scan) -> np.ndarray:
    """Sessions' worth of evidence from the items: ITEM_SPREAD_WEIGHT per degree of freedom
    of the residual's sessions, where every baseline session had every component (2 or more)."""
    m = st.s_m
    usable = (m >= 2) & np.all(st.s_n[:, 1:] == m[:, None], axis=1)
    return np.where(usable, th.ITEM_SPREAD_WEIGHT * (m - 1), 0.0)


def _item_spread(g: AllianceGroup, st: Scan) -> np.ndarray:
    """Each series' item residual variance over its baseline sessions, in the total's variance
    (times the practice's item ratio), less the items' rounding variance; 0 where unusable."""
    v = item_residual_variance(st.s_2[:, 1:].sum(axis=1), st.s_q, st.s_1[:, 1:], st.s_m)
    return v * g.prior.item_ratio


def _drop_distance(g: AllianceGroup, st: Scan, c: int, lvl: np.ndarray, sds: np.ndarray,
                   any_open: bool) -> tuple[np.ndarray, np.ndarray]:
    """(drop distance over the components, components all back for a repair), per series."""
    rows = g.x_mat.shape[0]
    ok = st.ok_m[:, c, :]
    xc = st.vals0[:, c, 1:]
    usable = ok[:, 1:] & (st.s_n[:, 1:] >= th.MIN_PRIOR_SESSIONS)
    cz = (xc - lvl[:, 1:]) / sds[:, 1:]
    # The length of the vector of component drops, each in that component's own SDs from its
    # own usual level (rises count as 0).
    drops = np.where(usable, np.minimum(cz, 0.0), 0.0)
    dist = np.sqrt(np.einsum("ij,ij->i", drops, drops))
    st.cz_m[:, c, :] = np.where(usable, cz, np.nan)
    st.dist_m[:, c] = dist
    c_back = np.ones(rows, dtype=bool)
    if any_open:
        # Components recovered: none still REPAIR_SD or more below its pre-rupture level.
        c_back = np.all(
            ~ok[:, 1:] | np.isnan(st.r_lvl[:, 1:])
            | (xc >= st.r_lvl[:, 1:] - th.REPAIR_SD * st.r_sds[:, 1:] - EPS), axis=1
        )
    return dist, c_back


def _column(g: AllianceGroup, st: Scan, c: int) -> None:
    """One session column: judge it against each series' usual level, then update the state."""
    x = g.x_mat[:, c]
    valid = st.ok_m[:, c, 0]
    lvl, sds, sd = _usual(g, st, c)
    mean = lvl[:, 0]
    # A notice needs a drop of at least 1 SD and of at least the smallest meaningful drop
    # (a number of the scale's steps, with a practice-fitted prior; see thresholds.py).
    low = valid & (x <= mean - np.maximum(th.DIP_SD * sd, g.min_dip) + EPS)
    any_open = bool(st.in_r.any())
    rows = len(x)
    dist, c_back = np.zeros(rows), np.ones(rows, dtype=bool)
    # The components are read only where a session is low or a rupture open.
    if g.names and (any_open or low.any()):
        dist, c_back = _drop_distance(g, st, c, lvl, sds, any_open)
    enough = valid & (st.s_n[:, 0] >= g.min_prior)
    if any_open:
        back = valid & st.in_r & (
            x >= st.r_lvl[:, 0] - np.maximum(th.REPAIR_SD * st.r_sds[:, 0], g.min_drop) - EPS
        )
        two = back & (st.back_col >= 0)
        rep = (back & (x >= st.r_lvl[:, 0] - EPS) & c_back) | two
        enough &= ~rep
        below_dip = enough & low & (~st.in_r | st.settled)
        # After a session back at the usual level (a return not yet confirmed), a new drop is a
        # new rupture that supersedes the open one, as it would after a repair.
        candidate = below_dip | (enough & low & st.in_r & ~st.settled & (st.back_col >= 0))
    else:
        back = rep = two = np.zeros(rows, dtype=bool)
        below_dip = candidate = enough & low
    # A rupture: 2 SD below the usual level (Stiles et al. 2004); or, our rule, 1 SD below with
    # a drop distance over the components of at least COMPONENT_DISTANCE (several components
    # down at once, each against its own usual level; see thresholds.py).
    rup = candidate & (
        (x <= mean - np.maximum(th.RUPTURE_SD * sd, g.min_drop) + EPS)
        | (dist >= th.COMPONENT_DISTANCE - EPS)
    )
    st.dip_m[:, c] = below_dip & ~rup
    _events(st, c, valid, back, rep, two, rup, any_open)
    _accumulate(st, c, lvl, sds, rep, rup, any_open)


def _events(st: Scan, c: int, valid: np.ndarray, back: np.ndarray, rep: np.ndarray,
            two: np.ndarray, rup: np.ndarray, any_open: bool) -> None:
    """Record repairs, returns not yet confirmed and new ruptures at column `c`."""
    if any_open:
        for row in np.flatnonzero(rep).tolist():
            # Dated at the session that confirms it (a finding never starts before the newest
            # session it depends on); `back_since` keeps the first session back.
            first = int(st.back_col[row]) if two[row] else c
            st.repairs[(row, int(st.r_col[row]))] = (
                c, first, "two_sessions_back" if two[row] else "one_session_recovered"
            )
        # A return not yet confirmed waits for the next session; a session that is not back
        # (or a repair, or a new rupture) ends the wait.
        wait = back & ~rep & ~rup
        st.back_col = np.where(
            valid, np.where(wait, np.where(st.back_col >= 0, st.back_col, c), -1), st.back_col
        )
    for row in np.flatnonzero(rup).tolist():
        if st.in_r[row]:
            st.superseded[(row, int(st.r_col[row]))] = c
        st.ruptures.append((row, c))


def _accumulate(st: Scan, c: int, lvl: np.ndarray, sds: np.ndarray, rep: np.ndarray,
                rup: np.ndarray, any_open: bool) -> None:
    """Open and close ruptures, and add column `c` to the sums it counts towards."""
    any_rup = bool(rup.any())
    if any_rup:
        st.back_col[rup] = -1
        st.r_lvl[rup], st.r_sds[rup], st.r_col[rup] = lvl[rup], sds[rup], c
        st.r_n[rup], st.r_1[rup], st.r_2[rup] = 0.0, 0.0, 0.0
        st.r_m[rup], st.r_q[rup] = 0.0, 0.0
    settled_before = st.settled & ~rep & ~rup
    st.in_r = (st.in_r & ~rep) | rup
    st.settled &= st.in_r & ~rup
    ok = st.ok_m[:, c, :]
    usual = (~st.in_r | settled_before)[:, None] & ok
    v = np.where(usual, st.vals0[:, c, :], 0.0)
    st.s_n += usual
    st.s_1 += v
    st.s_2 += v * v
    # Sessions with every component: their component sums, squared (for the item spread).
    full = ok[:, 0] & ok[:, 1:].all(axis=1) if ok.shape[1] > 2 else np.zeros(len(ok), bool)
    q = np.where(full, st.vals0[:, c, 1:].sum(axis=1) ** 2, 0.0)
    st.s_m += usual[:, 0] & full
    st.s_q += np.where(usual[:, 0] & full, q, 0.0)
    if any_open or any_rup:
        counting = (st.in_r & ~st.settled)[:, None] & ok
        v = np.where(counting, st.vals0[:, c, :], 0.0)
        st.r_n += counting
        st.r_1 += v
        st.r_2 += v * v
        st.r_m += counting[:, 0] & full
        st.r_q += np.where(counting[:, 0] & full, q, 0.0)
        settle = counting[:, 0] & (st.r_n[:, 0] >= th.RUPTURE_SETTLE)
        if settle.any():
            for s_x, r_x in ((st.s_n, st.r_n), (st.s_1, st.r_1), (st.s_2, st.r_2),
                             (st.s_m, st.r_m), (st.s_q, st.r_q)):
                s_x[settle] = r_x[settle]
            st.settled |= settle
