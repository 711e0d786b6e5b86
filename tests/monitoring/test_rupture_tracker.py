"""The readable tracker (rupture_tracker.py) and the vectorised rules (alliance.py) agree."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from rapport.monitoring import AllianceSeries, EpisodeHistory, analyze_many
from rapport.monitoring.rupture_tracker import RuptureTracker
from rapport.monitoring.trajectories import ExpectedTrajectories
from rapport.monitoring.variability import VariabilityPrior

NAMES = ("empathy", "goals", "trust")


def _tracked(series: AllianceSeries, prior: VariabilityPrior | None) -> dict:
    tracker = RuptureTracker(NAMES, prior=prior)
    out: dict = {"ruptures": set(), "repairs": set(), "superseded": set(), "notices": set()}
    for k, session in enumerate(series.sessions):
        comps = {n: series.components[n][k] for n in NAMES}
        step = tracker.step(session, series.totals[k], comps)
        if step.event == "rupture":
            out["ruptures"].add(session)
            if step.supersedes is not None:
                out["superseded"].add((step.supersedes, session))
        elif step.event == "repair":
            out["repairs"].add((step.repaired, session, step.back_since, step.rule))
        elif step.event == "notice":
            out["notices"].add(session)
    return out


def _vectorised(series: AllianceSeries, prior: VariabilityPrior | None) -> dict:
    traj = ExpectedTrajectories(alliance={series.instrument: prior} if prior else {})
    (found,) = analyze_many([EpisodeHistory("e", alliance=(series,))], trajectories=traj)
    out: dict = {"ruptures": set(), "repairs": set(), "superseded": set(), "notices": set()}
    for f in found:
        if f.kind == "rupture":
            out["ruptures"].add(f.session)
            if "superseded_session" in f.evidence:
                out["superseded"].add((f.session, f.evidence["superseded_session"]))
        elif f.kind == "rupture_repaired":
            e = f.evidence
            out["repairs"].add((e["rupture_session"], f.session, e["back_since"], e["rule"]))
        elif f.kind == "alliance_dip":
            out["notices"] |= {s for s in series.sessions if f.session <= s <= f.through}
    return out


# Series a rupture rule has something to say about: a steady level with small noise, and
# drops (shifts) that come, stay, deepen and go; now and then an item left unanswered.
base = st.integers(4, 10)
session_row = st.tuples(
    st.sampled_from([0, 0, 0, 0, -1, -2, -3, -4, -6]),  # shift of every item this session
    st.lists(st.one_of(st.integers(-1, 1), st.none()), min_size=3, max_size=3),  # noise
)
PRIORS = st.one_of(
    st.none(),
    st.builds(VariabilityPrior, st.floats(0.3, 8.0), st.floats(1.0, 30.0),
              st.sampled_from([10 / 3, 1.0, 5.0]), st.just(100),
              # the item spread off (0: a prior without the ratio) and on (today's family: 50)
              st.sampled_from([0.0, 15.0, 50.0, 150.0])),
)


@settings(max_examples=400, deadline=None)
@given(
    level=base,
    rows=st.lists(session_row, min_size=1, max_size=16),
    sticky=st.booleans(),
    gaps=st.lists(st.integers(1, 3), min_size=16, max_size=16),
    prior=PRIORS,
)
def test_tracker_and_vectorised_rules_agree(level, rows, sticky, gaps, prior):
    sessions, s, items, shift = [], 0, [], 0
    for gap, (step, noise) in zip(gaps, rows, strict=False):
        s += gap
        sessions.append(s)
        # sticky: a shift lasts until another comes (ruptures that settle, then deepen)
        shift = (shift + step if step else shift) if sticky else step
        row = [math.nan if e is None else float(min(max(level + shift + e, 0), 10))
               for e in noise]
        if all(math.isnan(v) for v in row):
            row[0] = float(min(max(level + shift, 0), 10))
        items.append(row)
    totals = [10 * sum(v for v in r if not math.isnan(v)) / sum(not math.isnan(v) for v in r)
              for r in items]
    series = AllianceSeries(
        "relationship-checkin", tuple(sessions), tuple(totals),
        {n: tuple(r[k] for r in items) for k, n in enumerate(NAMES)}, component_max=10.0,
    )
    assert _tracked(series, prior) == _vectorised(series, prior)


def test_a_steady_client_at_96_dropping_to_88_is_a_rupture_with_a_fitted_prior():
    # The example: with the constants (SD prior 6.5, floor 5) an 8-point drop from a
    # steady 96 is only a notice; with a practice prior fitted on steady clients it is a rupture.
    prior = VariabilityPrior(sd=1.5, weight=4.0, resolution=10 / 7, episodes=200)
    tracker = RuptureTracker(NAMES, prior=prior)
    events = [tracker.step(s, x, {}).event for s, x in enumerate([96, 95.7, 97.1, 96, 88], 1)]
    assert events[-1] == "rupture"
    constants = RuptureTracker(NAMES)
    events = [constants.step(s, x, {}).event for s, x in enumerate([96, 95.7, 97.1, 96, 88], 1)]
    assert events[-1] == "notice"
