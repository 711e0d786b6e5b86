"""Benchmark: recompute every finding for a practice of 20,000 episodes and 1,000,000 responses.

    .venv/bin/python bench/bench_analyze.py [--episodes N]

Each episode has 8-17 sessions (12.5 on average) with four responses a session: PHQ-9, GAD-7,
the client's relationship check-in (with its seven components) and the therapist's reflection,
so 20,000 episodes hold about 1,000,000 responses. Printed: the time to fit the expected
trajectories and to run every rule, beside a floor measured in the same run (one vectorised pass
over the same responses: per-episode means with numpy), and the ratio. Target: under 10 s on a
2-core machine.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from rapport.monitoring import (
    AllianceSeries,
    EpisodeHistory,
    ExpectedTrajectories,
    OutcomeSeries,
    Scale,
    analyze_many,
)
from rapport.monitoring.rupture_tracker import RuptureTracker

PHQ9 = Scale(reliable_change=6, cutoff=10, response_fraction=0.5, remission_below=5)
GAD7 = Scale(reliable_change=4, cutoff=8)
COMPONENTS = ("trust", "empathy", "genuineness", "respect", "listening", "safety", "goals")


def practice(n: int, seed: int = 0) -> tuple[list[EpisodeHistory], int]:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(8, 18, n)
    episodes = []
    responses = 0
    for e in range(n):
        t = int(lengths[e])
        s = tuple(range(1, t + 1))
        lt = np.log(np.arange(1, t + 1))
        phq = np.clip(np.rint(rng.normal(16, 4) + rng.normal(-2.5, 2) * lt + rng.normal(0, 2, t)), 0, 27)
        gad = np.clip(np.rint(rng.normal(12, 3) + rng.normal(-2, 1.5) * lt + rng.normal(0, 1.5, t)), 0, 21)
        items = np.clip(np.rint(rng.normal(7.8, 1.0) + rng.normal(0, 1.0, (t, 7))), 0, 10)
        total = items.mean(axis=1) * 10
        ther = np.clip(np.rint(total + rng.normal(5, 8, t)), 0, 100)
        episodes.append(
            EpisodeHistory(
                f"e{e}",
                outcomes=(
                    OutcomeSeries("phq9", s, tuple(phq.tolist()), PHQ9),
                    OutcomeSeries("gad7", s, tuple(gad.tolist()), GAD7),
                ),
                alliance=(
                    AllianceSeries(
                        "relationship-checkin", s, tuple(total.tolist()),
                        {c: tuple(items[:, k].tolist()) for k, c in enumerate(COMPONENTS)},
                        component_max=10.0,
                    ),
                    AllianceSeries("therapist-reflection", s, tuple(ther.tolist()),
                                   respondent="therapist"),
                ),
            )
        )
        responses += 4 * t
    return episodes, responses


def floor_pass(episodes: list[EpisodeHistory]) -> float:
    """One vectorised pass over the same responses: per-episode means of every total."""
    start = time.perf_counter()
    sessions = [x.sessions for ep in episodes for x in (*ep.outcomes, *ep.alliance)]
    values = [x.scores if isinstance(x, OutcomeSeries) else x.totals
              for ep in episodes for x in (*ep.outcomes, *ep.alliance)]
    lengths = np.fromiter((len(s) for s in sessions), dtype=np.int64, count=len(sessions))
    flat = np.fromiter((v for vs in values for v in vs), dtype=np.float64, count=int(lengths.sum()))
    owner = np.repeat(np.arange(len(lengths)) // 4, lengths)
    sums = np.bincount(owner, weights=flat)
    counts = np.bincount(owner)
    means = sums / counts
    assert math.isfinite(float(means.sum()))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--episodes", type=int, default=20_000)
    args = parser.parse_args()
    t0 = time.perf_counter()
    episodes, responses = practice(args.episodes)
    build = time.perf_counter() - t0
    floor = min(floor_pass(episodes) for _ in range(3))
    t0 = time.perf_counter()
    trajectories = ExpectedTrajectories.fit(episodes)
    fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    results = analyze_many(episodes, trajectories=trajectories)
    analyse = time.perf_counter() - t0
    findings = sum(len(r) for r in results)
    total = fit + analyse
    print(f"episodes {len(episodes):,}  responses {responses:,}  (built in {build:.1f} s)")
    print(f"fit expected trajectories  {fit:7.2f} s")
    print(f"all rules, every episode   {analyse:7.2f} s   ({findings:,} findings)")
    print(f"total                      {total:7.2f} s   target < 10 s")
    print(f"floor (per-episode means)  {floor:7.2f} s   ratio total/floor {total / floor:.1f}")
    per = analyse / len(episodes) * 1000
    print(f"per episode                {per:7.3f} ms")
    vectorised, tracked = rupture_paths(episodes, trajectories)
    print(f"rupture rules, vectorised  {vectorised:7.2f} s   readable tracker (one client at a "
          f"time) {tracked:.2f} s: ratio {tracked / vectorised:.1f}")


def rupture_paths(episodes: list[EpisodeHistory], trajectories: ExpectedTrajectories
                  ) -> tuple[float, float]:
    """The rupture rules alone on every client check-in series: vectorised (analyze.py) and
    the readable per-session tracker (rupture_tracker.py), which give the same findings."""
    alliance = [
        EpisodeHistory(ep.episode, alliance=tuple(a for a in ep.alliance
                                                  if a.respondent == "client"))
        for ep in episodes
    ]
    t0 = time.perf_counter()
    analyze_many(alliance, trajectories=trajectories)
    vectorised = time.perf_counter() - t0
    t0 = time.perf_counter()
    for ep in alliance:
        for a in ep.alliance:
            names = sorted(a.components)
            tracker = RuptureTracker(names, prior=trajectories.alliance.get(a.instrument))
            for k, session in enumerate(a.sessions):
                tracker.step(session, a.totals[k], {n: a.components[n][k] for n in names})
    return vectorised, time.perf_counter() - t0


if __name__ == "__main__":
    main()
