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

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rapport.monitoring import thresholds as th
from rapport.monitoring._arrays import EPS, Flat, bridge, first_of_group, flatten, runs
from rapport.monitoring.alliance import alliance_rules
from rapport.monitoring.dropout import dropout_findings, goal_findings
from rapport.monitoring.records import (
    AllianceSeries,
    EpisodeHistory,
    Finding,
    OutcomeSeries,
    Scale,
)
from rapport.monitoring.trajectories import ExpectedTrajectories, TrajectoryModel

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
    open_ruptures = alliance_rules(episodes, out, getattr(traj, "alliance", None) or {})
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
        g = _OutcomeGroup.of(instrument, scale, items)
        if scale.reliable_change is not None and scale.reliable_change > 0:
            _deterioration(g, episodes, out)
        model = traj.model_for(instrument, scale)
        if model is not None:
            _off_track(g, model, episodes, out)


@dataclass(frozen=True, slots=True)
class _OutcomeGroup:
    """The series of one instrument laid end to end, in the "higher is worse" direction `u`."""

    instrument: str
    scale: Scale
    flat: Flat
    owner: list[int]
    sign: float
    u: np.ndarray
    u1: np.ndarray  # each series' intake, per session
    t: np.ndarray  # session number from the intake (1 at intake)

    @classmethod
    def of(cls, instrument: str, scale: Scale,
           items: list[tuple[int, OutcomeSeries]]) -> _OutcomeGroup:
        flat = flatten([s.sessions for _, s in items], [s.scores for _, s in items])
        sign = -1.0 if scale.higher_is_better else 1.0
        u = sign * flat.value
        first = first_of_group(flat)
        t = (flat.session - flat.session[first] + 1).astype(np.float64)
        return cls(instrument, scale, flat, [i for i, _ in items], sign, u, u[first], t)

    @property
    def intakes(self) -> list[float]:
        return self.flat.value[first_of_group(self.flat)].tolist()


def _deterioration(g: _OutcomeGroup, episodes: Sequence[EpisodeHistory],
                   out: list[list[Finding]]) -> None:
    """Reliable deterioration: worse than the intake by at least the reliable change."""
    rc = g.scale.reliable_change
    assert rc is not None
    worse = (g.t > 1) & (g.u - g.u1 >= rc - EPS)
    r = runs(g.flat.grp, bridge(g.flat.grp, worse.astype(np.int8)))
    sessions, scores, intakes = g.flat.session.tolist(), g.flat.value.tolist(), g.intakes
    for start, end, ongoing in zip(
        r.start.tolist(), r.end.tolist(), r.ongoing.tolist(), strict=True
    ):
        i = g.owner[g.flat.grp[start]]
        out[i].append(Finding(
            "reliable_deterioration", "warning", sessions[start], g.instrument,
            {"instrument": g.instrument, "intake": intakes[start], "score": scores[start],
             "change": _r(scores[start] - intakes[start]), "reliable_change": rc},
            episodes[i].episode, sessions[end], ongoing,
        ))


def _off_track(g: _OutcomeGroup, model: TrajectoryModel, episodes: Sequence[EpisodeHistory],
               out: list[list[Finding]]) -> None:
    """Not on track: beyond the expected treatment response's tolerance band."""
    scale, flat = g.scale, g.flat
    expected, sd, band = model.expected_u(g.u1, g.t)
    z = (g.u - expected) / sd
    # Only a session still in the clinical range can be off track: a score below the caseness
    # cutoff is functioning in the normal range, where OQ-Analyst gives no alarm either
    # ("white" feedback: Lambert et al., OQ-45 administration and scoring manual).
    at_risk = g.t > 1
    if scale.cutoff is not None:
        at_risk = at_risk & (
            (flat.value < scale.cutoff) if scale.higher_is_better else (flat.value >= scale.cutoff)
        )
    level = np.where(
        at_risk, (z > th.ETR_WARNING_Z + EPS).astype(np.int8) + (z > th.ETR_STRONG_Z + EPS), 0
    )
    r = runs(flat.grp, bridge(flat.grp, level))
    if not len(r.start):
        return
    sessions, scores, intakes = flat.session.tolist(), flat.value.tolist(), g.intakes
    exp_l = (g.sign * expected).tolist()
    warn_l = (g.sign * (expected + th.ETR_WARNING_Z * sd)).tolist()
    strong_l = (g.sign * (expected + th.ETR_STRONG_Z * sd)).tolist()
    sd_l, z_l, band_l = sd.tolist(), z.tolist(), band.tolist()
    for start, end, top, peak, ongoing in zip(
        r.start.tolist(), r.end.tolist(), r.level.tolist(), r.peak.tolist(),
        r.ongoing.tolist(), strict=True,
    ):
        i = g.owner[flat.grp[start]]
        strong = top >= 2
        out[i].append(Finding(
            "not_on_track", "urgent" if strong else "warning", sessions[start], g.instrument,
            {"instrument": g.instrument, "intake": intakes[start], "score": scores[start],
             "expected": _r(exp_l[start]), "tolerance_sd": _r(sd_l[start]), "z": _r(z_l[start]),
             "warning_beyond": _r(warn_l[start]), "strong_beyond": _r(strong_l[start]),
             "level": "strong" if strong else "warning",
             "strong_since": sessions[peak] if strong else None,
             "model": "fitted" if model.fitted else "default", "band": band_l[start]},
            episodes[i].episode, sessions[end], ongoing,
        ))


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


