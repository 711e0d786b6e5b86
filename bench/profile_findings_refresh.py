"""Where the time of one findings refresh goes: the worker's side of a check-in's answer.

    .venv/bin/python bench/profile_findings_refresh.py [--n 640] [--database rapport_bench]
        [--rounds 25] [--sort tottime] [--limit 40]

Builds the benchmark's practice (bench_checkin_load.py: 20 episodes, N check-ins among them),
answers every check-in through Django's test client (so each episode holds about N/20 sessions
and responses), then refreshes every episode's findings ROUNDS times in this process as the
worker does (`rapport.alerts.pending`'s episode read, then `refresh_episode` in a transaction)
and prints, per refresh, best of three passes: the wall time, this process's CPU, the time spent
waiting for PostgreSQL, and the CPU of the PostgreSQL backend serving it; then the statements
of one refresh and, for one more pass under cProfile (CPU time), the top functions.
"""

from __future__ import annotations

import argparse
import cProfile
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_checkin_load as load  # noqa: E402
import profile_checkin_submit as submit_profile  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=640)
    parser.add_argument("--database", default=load.DB)
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--limit", type=int, default=40)
    args = parser.parse_args()
    load.DB = args.database
    # A broker nothing consumes here: the refreshes are this script's own.
    started = submit_profile.in_process(args.n, "redis://127.0.0.1:6379/0")
    if started is None:
        return 1
    tokens, http = started
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django_scopes import scope, scopes_disabled

    from rapport.alerts import pending
    from rapport.alerts.findings import refresh_episode
    from rapport.care.models import CareEpisode

    for n, token in enumerate(tokens):
        submit_profile.answer(http, n, token)
    with scopes_disabled():
        episodes = sorted(CareEpisode.objects.values_list("id", flat=True))

    def refresh(episode_id: int) -> None:
        episode = pending._episode(episode_id)
        with scope(organisation=episode.organisation_id), transaction.atomic():
            refresh_episode(episode)

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]

    def backend_cpu() -> float:
        return load.cpu_seconds(backend)

    for episode_id in episodes:  # warm: prepared statements, the practice's curves
        refresh(episode_id)
    best = None
    count = args.rounds * len(episodes)
    for _ in range(3):
        waited = submit_profile._timing_waits()
        db, start, cpu = backend_cpu(), time.perf_counter(), time.process_time()
        for _ in range(args.rounds):
            for episode_id in episodes:
                refresh(episode_id)
        figures = {"wall_ms": (time.perf_counter() - start) / count * 1000,
                   "cpu_ms": (time.process_time() - cpu) / count * 1000,
                   "waiting_for_postgresql_ms": waited["seconds"] / count * 1000,
                   "postgresql_backend_cpu_ms": (backend_cpu() - db) / count * 1000}
        waited["stop"]()
        best = figures if best is None or figures["cpu_ms"] < best["cpu_ms"] else best
    print(f"{len(episodes)} episodes of {args.n // len(episodes)} sessions, per refresh (best of "
          f"three passes of {count}): " + ", ".join(f"{k} {v:.2f}" for k, v in best.items()))
    with CaptureQueriesContext(connection) as queries:
        refresh(episodes[0])
    print(f"\n{len(queries)} statements in one refresh:")
    for q in queries.captured_queries:
        print(f"  {q['sql'][:150]}")
    profile = cProfile.Profile(time.process_time)
    profile.enable()
    for episode_id in episodes:
        refresh(episode_id)
    profile.disable()
    submit_profile.print_top(profile, args.sort, args.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
