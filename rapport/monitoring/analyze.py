"""Every rule, applied to one episode or to many at once.

`analyze_episode` is what the app calls after each new response; `analyze_many` is the same
computation over a whole practice (the CLI and the benchmark use it). Both run the same
vectorised code: series of the same instrument are laid end to end (or padded into a matrix)
and each rule is a handful of numpy operations over all of them, so one episode costs about a
millisecond and a practice of 20,000 episodes a few seconds.

Findings mark the session where a condition started; a condition that holds over consecutive
observations is one finding (its `through` and `ongoing` say how long and whether it still holds).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from rapport.monitoring import thresholds as th
from rapport.monitoring._arrays import (
    EPS,
    bridge,
    column,
    first_of_group,
    flatten,
    pad,
    runs,
)
from rapport.monitoring.dropout import alliance_low_cutoff, dropout_findings, goal_findings
from rapport.monitoring.records import (
    AllianceSeries,
    EpisodeHistory,
    Finding,
    OutcomeSeries,
    Scale,
)
from rapport.monitoring.trajectories import ExpectedTrajectories
from rapport.monitoring.variability import VariabilityPrior

# The client instrument a therapist's alliance rating is compared with, when the therapist's
# instrument has no client version of the same id.
THERAPIST_PAIRS = {"therapist-reflection": "relationship-checkin"}

_DEFAULT_TRAJECTORIES = ExpectedTrajectories()


def _r(x: float) -> float:
    return round(float(x), 2)


def analyze_episode(
    episode: EpisodeHistory, *, trajectories: ExpectedTrajectories | None = None
) -> list[Finding]:
    """All findings for one episode, recomputed from its whole history, sorted by session.

    `trajectories`: the practice's fitted expected-treatment-response curves; None uses the
    documented defaults. Recomputing is cheap (about a millisecond for 20 sessions), and findings
    carry stable keys, so the app can recompute after every response and reconcile by key.
    """
    return analyze_many([episode], trajectories=trajectories)[0]


def analyze_many(
    episodes: Sequence[EpisodeHistory], *, trajectories: ExpectedTrajectories | None = None
) -> list[list[Finding]]:
    """`analyze_episode` for many episodes at once, vectorised across them."""
    traj = trajectories if trajectories is not None else _DEFAULT_TRAJECTORIES
    out: list[list[Finding]] = [[] for _ in episodes]
    _outcome_rules(episodes, traj, out)
    # getattr: curves cached (pickled) by an older version have no alliance priors.
    open_ruptures = _alliance_rules(episodes, out, getattr(traj, "alliance", None) or {})
    _discrepancy_rule(episodes, out)
    for i, ep in enumerate(episodes):
        found = out[i]
        for flag in _risk_findings(ep):
            found.append(flag)
        if ep.goals:
            found.extend(goal_findings(ep.episode, ep.goals))
        found.extend(dropout_findings(ep, open_ruptures.get(i, ())))
        found.sort(key=lambda f: (f.session, f.kind, f.subject))
    return out


# -- outcomes: reliable deterioration and expected treatment response ------------------------


def _outcome_rules(
    episodes: Sequence[EpisodeHistory], traj: ExpectedTrajectories, out: list[list[Finding]]
) -> None:
    groups: dict[tuple[str, Scale], list[tuple[int, OutcomeSeries]]] = {}
    for i, ep in enumerate(episodes):
        for s in ep.outcomes:
            if s.sessions:
                groups.setdefault((s.instrument, s.scale), []).append((i, s))
    for (instrument, scale), items in groups.items():
        flat = flatten([s.sessions for _, s in items], [s.scores for _, s in items])
        owner = [i for i, _ in items]
        sign = -1.0 if scale.higher_is_better else 1.0
        u = sign * flat.value
        first = first_of_group(flat)
        u1 = u[first]
        t = (flat.session - flat.session[first] + 1).astype(np.float64)
        later = t > 1
        sessions = flat.session.tolist()
        scores = flat.value.tolist()
        intakes = flat.value[first].tolist()
        rc = scale.reliable_change
        if rc is not None and rc > 0:
            worse = later & (u - u1 >= rc - EPS)
            r = runs(flat.grp, bridge(flat.grp, worse.astype(np.int8)))
            for start, end, ongoing in zip(
                r.start.tolist(), r.end.tolist(), r.ongoing.tolist(), strict=True
            ):
                ep = episodes[owner[flat.grp[start]]]
                out[owner[flat.grp[start]]].append(
                    Finding(
                        "reliable_deterioration",
                        "warning",
                        sessions[start],
                        instrument,
                        {
                            "instrument": instrument,
                            "intake": intakes[start],
                            "score": scores[start],
                            "change": _r(scores[start] - intakes[start]),
                            "reliable_change": rc,
                        },
                        ep.episode,
                        sessions[end],
                        ongoing,
                    )
                )
        model = traj.model_for(instrument, scale)
        if model is None:
            continue
        expected, sd, band = model.expected_u(u1, t)
        z = (u - expected) / sd
        # Only a session still in the clinical range can be off track: a score below the
        # caseness cutoff is functioning in the normal range, where OQ-Analyst gives no alarm
        # either ("white" feedback: Lambert et al., OQ-45 administration and scoring manual).
        at_risk = later
        if scale.cutoff is not None:
            at_risk = later & (
                (flat.value < scale.cutoff) if scale.higher_is_better else (flat.value >= scale.cutoff)
            )
        level = np.where(
            at_risk, (z > th.ETR_WARNING_Z + EPS).astype(np.int8) + (z > th.ETR_STRONG_Z + EPS), 0
        )
        r = runs(flat.grp, bridge(flat.grp, level))
        if not len(r.start):
            continue
        exp_l = (sign * expected).tolist()
        warn_l = (sign * (expected + th.ETR_WARNING_Z * sd)).tolist()
        strong_l = (sign * (expected + th.ETR_STRONG_Z * sd)).tolist()
        sd_l, z_l, band_l = sd.tolist(), z.tolist(), band.tolist()
        kind_of_model = "fitted" if model.fitted else "default"
        for start, end, top, peak, ongoing in zip(
            r.start.tolist(), r.end.tolist(), r.level.tolist(), r.peak.tolist(),
            r.ongoing.tolist(), strict=True,
        ):
            owner_i = owner[flat.grp[start]]
            out[owner_i].append(
                Finding(
                    "not_on_track",
                    "urgent" if top >= 2 else "warning",
                    sessions[start],
                    instrument,
                    {
                        "instrument": instrument,
                        "intake": intakes[start],
                        "score": scores[start],
                        "expected": _r(exp_l[start]),
                        "tolerance_sd": _r(sd_l[start]),
                        "z": _r(z_l[start]),
                        "warning_beyond": _r(warn_l[start]),
                        "strong_beyond": _r(strong_l[start]),
                        "level": "strong" if top >= 2 else "warning",
                        "strong_since": sessions[peak] if top >= 2 else None,
                        "model": kind_of_model,
                        "band": band_l[start],
                    },
                    episodes[owner_i].episode,
                    sessions[end],
                    ongoing,
                )
            )


# -- alliance: ruptures, repairs, dips, absolute lows and component drops ---------------------


def _alliance_rules(
    episodes: Sequence[EpisodeHistory], out: list[list[Finding]],
    priors: dict[str, VariabilityPrior],
) -> dict[int, list[Finding]]:
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
        _alliance_group(episodes, instrument, lo, hi, own_low, c_span, items, out, open_ruptures,
                        priors.get(instrument))
    return open_ruptures


def _alliance_group(
    episodes: Sequence[EpisodeHistory],
    instrument: str,
    lo: float,
    hi: float,
    own_low: float | None,
    c_span: float,
    items: list[tuple[int, AllianceSeries]],
    out: list[list[Finding]],
    open_ruptures: dict[int, list[Finding]],
    prior: VariabilityPrior | None = None,
) -> None:
    span = hi - lo
    if prior is None:
        # A new practice: the documented constants (thresholds.py).
        prior = VariabilityPrior(th.SD_PRIOR_FRACTION * span, th.SD_PRIOR_WEIGHT, 0.0, 0)
        floor, min_drop, min_prior = th.SD_FLOOR_FRACTION * span, 0.0, th.MIN_PRIOR_SESSIONS
    else:
        floor, min_drop, min_prior = prior.sd_floor, prior.min_drop, th.MIN_PRIOR_SESSIONS_FITTED
    min_dip = min_drop * th.MIN_DIP_STEPS / th.MIN_DROP_STEPS
    prior_var = prior.sd**2
    flat = flatten([a.sessions for _, a in items], [a.totals for _, a in items])
    owner = [i for i, _ in items]
    x_mat = pad(flat)
    s_mat = pad(flat, flat.session.astype(np.float64), fill=-1)
    rows, width = x_mat.shape

    # Components: (series, session column, component), NaN where missing.
    names = sorted({name for _, a in items for name in a.components})
    comp: np.ndarray | None = None
    comp_prior: np.ndarray | None = None
    if names:
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
    else:
        comp_drop = None
    k_n = len(names)
    c_floor = th.SD_FLOOR_FRACTION * c_span
    c_prior_var = (th.COMPONENT_SD_PRIOR_FRACTION * c_span) ** 2

    # The rupture state machine, one session column at a time across all series. A rupture
    # stays open until the client is back at the usual level from before it (repair, see
    # thresholds.py: two consecutive sessions within REPAIR_SD of it, or one session at or above
    # it with every component recovered). Once it has lasted RUPTURE_SETTLE sessions unrepaired,
    # the lower level becomes the baseline for new ruptures (a further drop from there is a new
    # rupture, which supersedes the open one); a return to the old level still marks the open
    # one repaired. The usual level of the total and of each component is built from the same
    # sessions: those outside ruptures.
    # The total and the components side by side (column 0 the total), so that one set of
    # operations keeps the usual level of each: count, sum and sum of squares of the sessions
    # that count as usual (S), of the sessions inside the open rupture (R, for settling), and
    # the usual level and SD at the rupture's start (the level a repair must reach).
    vals = np.concatenate([x_mat[:, :, None], comp], axis=2) if k_n else x_mat[:, :, None]
    assert comp is not None or not k_n
    ok_m = ~np.isnan(vals)
    vals0 = np.where(ok_m, vals, 0.0)
    prior_v = np.array([prior_var] + [c_prior_var] * k_n)
    w = np.array([prior.weight] + [th.SD_PRIOR_WEIGHT] * k_n)
    floor_v = np.array([floor] + [c_floor] * k_n)
    s_n = np.zeros((rows, 1 + k_n))
    s_1 = np.zeros((rows, 1 + k_n))
    s_2 = np.zeros((rows, 1 + k_n))
    r_n = np.zeros((rows, 1 + k_n))
    r_1 = np.zeros((rows, 1 + k_n))
    r_2 = np.zeros((rows, 1 + k_n))
    r_lvl = np.full((rows, 1 + k_n), np.nan)
    r_sds = np.full((rows, 1 + k_n), np.nan)
    in_r = np.zeros(rows, dtype=bool)
    settled = np.zeros(rows, dtype=bool)
    r_col = np.full(rows, -1, dtype=np.int64)
    back_col = np.full(rows, -1, dtype=np.int64)  # first session of a return not yet confirmed
    mean_m = np.full((rows, width), np.nan)
    sd_m = np.full((rows, width), np.nan)
    raw_sd_m = np.full((rows, width), np.nan)
    n_m = np.zeros((rows, width), dtype=np.int64)
    dist_m = np.zeros((rows, width))
    cz_m = np.full((rows, width, k_n), np.nan)
    dip_m = np.zeros((rows, width), dtype=np.int8)
    ruptures: list[tuple[int, int]] = []  # (row, col)
    # (row, rupture col) -> (repair col, first col back, rule)
    repairs: dict[tuple[int, int], tuple[int, int, str]] = {}
    superseded: dict[tuple[int, int], int] = {}  # (row, rupture col) -> col of the new rupture
    no_dist = np.zeros(rows)
    all_back = np.ones(rows, dtype=bool)
    for c in range(width):
        x = x_mat[:, c]
        ok = ok_m[:, c, :]
        valid = ok[:, 0]
        n = s_n[:, 0]
        lvl = s_1 / np.maximum(s_n, 1)
        # Each SD shrunk towards a typical within-client SD (SD_PRIOR_WEIGHT pseudo-sessions
        # of it): with 3-5 earlier sessions a raw SD is too noisy to judge 2 SD by; floored.
        raw = np.sqrt((np.maximum(s_2 - s_1 * lvl, 0.0) + w * prior_v)
                      / np.maximum(s_n - 1 + w, 1))
        sds = np.maximum(raw, floor_v)
        mean, sd = lvl[:, 0], sds[:, 0]
        if prior.fitted:
            # The usual level is itself estimated from n sessions: judge the new session
            # against the predictive spread sd * sqrt(1 + 1/n), not sd alone.
            sd = sd * np.sqrt(1.0 + 1.0 / np.maximum(n, 1.0))
        mean_m[:, c], sd_m[:, c], raw_sd_m[:, c], n_m[:, c] = mean, sd, raw[:, 0], n
        # A notice needs a drop of at least 1 SD and of at least the smallest meaningful drop
        # (a number of the scale's steps, with a practice-fitted prior; see thresholds.py).
        low = valid & (x <= mean - np.maximum(th.DIP_SD * sd, min_dip) + EPS)
        any_open = bool(in_r.any())
        dist, c_back = no_dist, all_back
        # The components are read only where a session is low or a rupture open.
        if k_n and (any_open or low.any()):
            xc = vals0[:, c, 1:]
            usable = ok[:, 1:] & (s_n[:, 1:] >= th.MIN_PRIOR_SESSIONS)
            cz = (xc - lvl[:, 1:]) / sds[:, 1:]
            # Drop distance: the length of the vector of component drops, each in that
            # component's own SDs from its own usual level (rises count as 0).
            drops = np.where(usable, np.minimum(cz, 0.0), 0.0)
            dist = np.sqrt(np.einsum("ij,ij->i", drops, drops))
            cz_m[:, c, :] = np.where(usable, cz, np.nan)
            dist_m[:, c] = dist
            if any_open:
                # Components recovered: none still REPAIR_SD or more below its pre-rupture level.
                c_back = np.all(
                    ~ok[:, 1:] | np.isnan(r_lvl[:, 1:])
                    | (xc >= r_lvl[:, 1:] - th.REPAIR_SD * r_sds[:, 1:] - EPS), axis=1
                )
        enough = valid & (n >= min_prior)
        if any_open:
            back = valid & in_r & (
                x >= r_lvl[:, 0] - np.maximum(th.REPAIR_SD * r_sds[:, 0], min_drop) - EPS
            )
            full = back & (x >= r_lvl[:, 0] - EPS) & c_back
            two = back & (back_col >= 0)
            rep = full | two
            enough &= ~rep
            below_dip = enough & low & (~in_r | settled)
            # After a session back at the usual level (a return not yet confirmed), a new drop
            # is a new rupture that supersedes the open one, as it would after a repair.
            candidate = below_dip | (enough & low & in_r & ~settled & (back_col >= 0))
        else:
            back = rep = two = np.zeros(rows, dtype=bool)
            below_dip = candidate = enough & low
        # A rupture: 2 SD below the usual level (Stiles et al. 2004); or, our rule, 1 SD below
        # with a drop distance over the components of at least COMPONENT_DISTANCE (several
        # components down at once, each against its own usual level; see thresholds.py).
        rup = candidate & (
            (x <= mean - np.maximum(th.RUPTURE_SD * sd, min_drop) + EPS)
            | (dist >= th.COMPONENT_DISTANCE - EPS)
        )
        dip_m[:, c] = below_dip & ~rup
        any_rup = bool(rup.any())
        if any_open:
            for row in np.flatnonzero(rep).tolist():
                # Dated at the session that confirms it (a finding never starts before the
                # newest session it depends on); `back_since` keeps the first session back.
                first = int(back_col[row]) if two[row] else c
                repairs[(row, int(r_col[row]))] = (
                    c, first, "two_sessions_back" if two[row] else "one_session_recovered"
                )
            # A return not yet confirmed waits for the next session; a session that is not
            # back (or a repair, or a new rupture) ends the wait.
            wait = back & ~rep & ~rup
            back_col = np.where(valid, np.where(wait, np.where(back_col >= 0, back_col, c), -1),
                                back_col)
        if any_rup:
            for row in np.flatnonzero(rup).tolist():
                if in_r[row]:
                    superseded[(row, int(r_col[row]))] = c
                ruptures.append((row, c))
            back_col[rup] = -1
            r_lvl[rup], r_sds[rup], r_col[rup] = lvl[rup], sds[rup], c
            r_n[rup], r_1[rup], r_2[rup] = 0.0, 0.0, 0.0
        settled_before = settled & ~rep & ~rup
        in_r = (in_r & ~rep) | rup
        settled &= in_r & ~rup
        usual = (~in_r | settled_before)[:, None] & ok
        v = np.where(usual, vals0[:, c, :], 0.0)
        s_n += usual
        s_1 += v
        s_2 += v * v
        if any_open or any_rup:
            counting = (in_r & ~settled)[:, None] & ok
            v = np.where(counting, vals0[:, c, :], 0.0)
            r_n += counting
            r_1 += v
            r_2 += v * v
            settle = counting[:, 0] & (r_n[:, 0] >= th.RUPTURE_SETTLE)
            if settle.any():
                s_n[settle], s_1[settle], s_2[settle] = r_n[settle], r_1[settle], r_2[settle]
                settled |= settle

    last_col = (flat.lengths - 1).tolist()
    sess = s_mat.tolist()
    for row, c in ruptures:
        i = owner[row]
        repair = repairs.get((row, c))
        repaired_at = repair[0] if repair is not None else None
        x = float(x_mat[row, c])
        mean, sd, raw = float(mean_m[row, c]), float(sd_m[row, c]), float(raw_sd_m[row, c])
        evidence = _basis(instrument, x, mean, sd, int(n_m[row, c]), min_drop, prior,
                          sess[row], c)
        evidence.update({
            "sd_floor_applied": raw < floor,
            "drop": _r(mean - x),
            "criterion": (
                "2sd" if x <= evidence["rupture_below"] + EPS else "1sd_and_components"
            ),
            "repaired_session": int(sess[row][repaired_at]) if repaired_at is not None else None,
        })
        if comp is not None and comp_prior is not None:
            drops = comp_prior[row, c] - comp[row, c]
            scores = comp[row, c]
            cz_row = cz_m[row, c]
            evidence["components"] = {
                name: _r(scores[k]) for k, name in enumerate(names) if not math.isnan(scores[k])
            }
            evidence["component_drops"] = {
                name: _r(drops[k]) for k, name in enumerate(names) if not math.isnan(drops[k])
            }
            evidence["component_z"] = {
                name: _r(cz_row[k]) for k, name in enumerate(names) if not math.isnan(cz_row[k])
            }
            evidence["drop_distance"] = _r(dist_m[row, c])
            if not np.all(np.isnan(cz_row)):
                evidence["weakest_component"] = names[int(np.nanargmin(cz_row))]
            elif not np.all(np.isnan(drops)):
                evidence["weakest_component"] = names[int(np.nanargmax(drops))]
            elif not np.all(np.isnan(scores)):
                evidence["weakest_component"] = names[int(np.nanargmin(scores))]
        replaced_at = superseded.get((row, c))
        if repaired_at is not None:
            through_col = repaired_at - 1
        elif replaced_at is not None:
            through_col = replaced_at - 1
            evidence["superseded_session"] = int(sess[row][replaced_at])
        else:
            through_col = last_col[row]
        finding = Finding(
            "rupture",
            "warning",
            int(sess[row][c]),
            instrument,
            evidence,
            episodes[i].episode,
            int(sess[row][through_col]),
            repaired_at is None and replaced_at is None,
        )
        out[i].append(finding)
        if finding.ongoing:
            open_ruptures.setdefault(i, []).append(finding)
        elif repair is not None and repaired_at is not None:
            back_at, rule = repair[1], repair[2]
            out[i].append(
                Finding(
                    "rupture_repaired",
                    "info",
                    int(sess[row][repaired_at]),
                    instrument,
                    {
                        "instrument": instrument,
                        "rupture_session": int(sess[row][c]),
                        "score": float(x_mat[row, repaired_at]),
                        "usual": _r(mean),
                        "sd": _r(sd),
                        "rupture_score": x,
                        "sessions_to_repair": int(sess[row][repaired_at] - sess[row][c]),
                        "back_since": int(sess[row][back_at]),
                        "rule": rule,
                    },
                    episodes[i].episode,
                    int(sess[row][repaired_at]),
                    False,
                )
            )

    # Lighter notices (1 SD), as runs of consecutive sessions.
    col = column(flat)
    sessions = flat.session.tolist()
    dip_flat = dip_m[flat.grp, col]
    r = runs(flat.grp, dip_flat)
    for start, end, ongoing in zip(r.start.tolist(), r.end.tolist(), r.ongoing.tolist(),
                                   strict=True):
        row, c = int(flat.grp[start]), int(col[start])
        x, mean, sd = float(x_mat[row, c]), float(mean_m[row, c]), float(sd_m[row, c])
        out[owner[row]].append(
            Finding(
                "alliance_dip",
                "info",
                sessions[start],
                instrument,
                _basis(instrument, x, mean, sd, int(n_m[row, c]), min_drop, prior, sess[row], c),
                episodes[owner[row]].episode,
                sessions[end],
                ongoing,
            )
        )

    # Absolute low.
    cutoff = alliance_low_cutoff(lo, hi, own_low)
    r = runs(flat.grp, (flat.value <= cutoff + EPS).astype(np.int8))
    values = flat.value.tolist()
    for start, end, ongoing in zip(r.start.tolist(), r.end.tolist(), r.ongoing.tolist(),
                                   strict=True):
        i = owner[int(flat.grp[start])]
        out[i].append(
            Finding(
                "alliance_low",
                "warning",
                sessions[start],
                instrument,
                {"instrument": instrument, "score": values[start], "cutoff": cutoff},
                episodes[i].episode,
                sessions[end],
                ongoing,
            )
        )

    # A large drop in one component, against that component's own earlier mean.
    if comp is not None and comp_prior is not None:
        k_n = len(names)
        drop = comp_prior - comp
        assert comp_drop is not None
        level = comp_drop.astype(np.int8)
        # Lay out as (series, component) runs over session columns.
        lv = level.transpose(0, 2, 1).reshape(rows * k_n, width)
        present = np.repeat(~np.isnan(x_mat), k_n, axis=0)
        grp2 = np.repeat(np.arange(rows * k_n), width)[present.ravel()]
        lv_flat = lv.ravel()[present.ravel()]
        pos_col = np.tile(np.arange(width), rows * k_n)[present.ravel()]
        r = runs(grp2, lv_flat)
        for start, end, ongoing in zip(r.start.tolist(), r.end.tolist(), r.ongoing.tolist(),
                                       strict=True):
            g = int(grp2[start])
            row, k = divmod(g, k_n)
            c, c_end = int(pos_col[start]), int(pos_col[end])
            i = owner[row]
            out[i].append(
                Finding(
                    "component_drop",
                    "info",
                    int(sess[row][c]),
                    f"{instrument}/{names[k]}",
                    {"instrument": instrument, "component": names[k],
                     "score": _r(comp[row, c, k]), "usual": _r(comp_prior[row, c, k]),
                     "drop": _r(drop[row, c, k]),
                     "threshold": th.COMPONENT_DROP_FRACTION * c_span},
                    episodes[i].episode,
                    int(sess[row][c_end]),
                    ongoing,
                )
            )


def _basis(instrument: str, x: float, mean: float, sd: float, n: int, min_drop: float,
           prior: VariabilityPrior, sessions: list[float], c: int) -> dict[str, Any]:
    """Why an alliance finding fired, in the client's own numbers: this session's score, the
    usual level and spread it was judged against, the lines it crossed, what the spread was
    shrunk towards, and how many sessions had no rating before this one (numbers only: the
    alerts app keeps no free text in evidence; `explain.why` words it for a page)."""
    previous = int(sessions[c - 1]) if c > 0 else None
    return {
        "instrument": instrument,
        "score": x,
        "usual": _r(mean),
        "sd": _r(sd),
        "z": _r((x - mean) / sd),
        "earlier_sessions": n,
        "dip_below": _r(mean - max(th.DIP_SD * sd, min_drop)),
        "rupture_below": _r(mean - max(th.RUPTURE_SD * sd, min_drop)),
        "min_drop": _r(min_drop),
        "sd_prior": prior.to_dict(),
        "previous_rated_session": previous,
        "unrated_sessions_before": (int(sessions[c]) - previous - 1) if previous else 0,
    }


# -- discrepancy: therapist's rating well above the client's ---------------------------------


def _pair(ep: EpisodeHistory, therapist: AllianceSeries) -> AllianceSeries | None:
    client = [a for a in ep.alliance if a.respondent == "client" and a.sessions]
    for want in (therapist.instrument, THERAPIST_PAIRS.get(therapist.instrument)):
        for a in client:
            if a.instrument == want:
                return a
    return client[0] if len(client) == 1 else None


def _discrepancy_rule(episodes: Sequence[EpisodeHistory], out: list[list[Finding]]) -> None:
    pairs: list[tuple[int, AllianceSeries, AllianceSeries]] = []
    for i, ep in enumerate(episodes):
        for a in ep.alliance:
            if a.respondent == "therapist" and a.sessions:
                c = _pair(ep, a)
                if c is not None:
                    pairs.append((i, a, c))
    if not pairs:
        return
    tf = flatten([t.sessions for _, t, _ in pairs], [t.totals for _, t, _ in pairs])
    cf = flatten([c.sessions for _, _, c in pairs], [c.totals for _, _, c in pairs])
    stride = max(int(tf.session.max(initial=0)), int(cf.session.max(initial=0))) + 1
    _, ti, ci = np.intersect1d(
        tf.grp * stride + tf.session, cf.grp * stride + cf.session,
        assume_unique=True, return_indices=True,
    )
    grp = tf.grp[ti]
    gap = tf.value[ti] - cf.value[ci]
    margin = np.array([th.DISCREPANCY_FRACTION * (c.scale_max - c.scale_min) for _, _, c in pairs])
    r = runs(grp, (gap >= margin[grp] - EPS).astype(np.int8))
    sess = tf.session[ti].tolist()
    tv, cv, gv = tf.value[ti].tolist(), cf.value[ci].tolist(), gap.tolist()
    for start, end, ongoing in zip(r.start.tolist(), r.end.tolist(), r.ongoing.tolist(),
                                   strict=True):
        p = int(grp[start])
        i, t, c = pairs[p]
        out[i].append(
            Finding(
                "discrepancy",
                "info",
                sess[start],
                t.instrument,
                {"instrument": t.instrument, "client_instrument": c.instrument,
                 "therapist": tv[start], "client": cv[start], "gap": _r(gv[start]),
                 "margin": float(margin[p])},
                episodes[i].episode,
                sess[end],
                ongoing,
            )
        )


# -- risk ----------------------------------------------------------------------------------


def _risk_findings(ep: EpisodeHistory) -> list[Finding]:
    by: dict[tuple[int, str], list[str]] = {}
    for f in ep.risk_flags:
        by.setdefault((f.session, f.instrument), []).append(f.flag)
    last = ep.last_session
    return [
        Finding(
            "risk",
            "urgent",
            session,
            instrument,
            {"instrument": instrument, "flags": sorted(set(flags))},
            ep.episode,
            session,
            session == last,
        )
        for (session, instrument), flags in sorted(by.items())
    ]


def open_findings(findings: Sequence[Finding]) -> list[Finding]:
    """The findings whose condition still holds (what should have an open alert)."""
    return [f for f in findings if f.ongoing]


