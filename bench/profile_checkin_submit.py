"""Where the time of one check-in submission goes: the benchmark's path, profiled in process.

    .venv/bin/python bench/profile_checkin_submit.py [--n 200] [--database rapport_bench]
        [--broker redis://127.0.0.1:6379/0] [--sort cumulative] [--limit 40] [--cpu] [--save FILE]

Builds the same database as bench_checkin_load.py (dropped first), then posts N PHQ-9
check-ins through Django's test client in this process (settings, middleware, PostgreSQL and
the broker as in the benchmark, no HTTP server). Prints the queries of one submission
(BEGIN and COMMIT included: each is a round trip), the time per submission without the
profiler with the part spent waiting for PostgreSQL, and for the other half of the
submissions, under cProfile, the profile's top functions.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_checkin_load as load  # noqa: E402


def _timing_waits() -> dict:
    """Sum the time psycopg waits on the server's socket (each round trip's wait)."""
    import psycopg

    real = psycopg.Connection.wait
    waited = {"seconds": 0.0, "calls": 0}

    def wait(self, gen, *args, **kwargs):
        began = time.perf_counter()
        try:
            return real(self, gen, *args, **kwargs)
        finally:
            waited["seconds"] += time.perf_counter() - began
            waited["calls"] += 1

    psycopg.Connection.wait = wait
    waited["stop"] = lambda: setattr(psycopg.Connection, "wait", real)
    return waited


def _floor_cpu(http, count: int) -> float:
    """CPU per request of the benchmark's floor view, posted by the same client (ms)."""
    for n in range(10):
        http.post("/bench/floor/", {"x": f"warm {n}"})
    cpu = time.process_time()
    for n in range(count):
        http.post("/bench/floor/", {"x": f"row {n}"})
    return (time.process_time() - cpu) / count * 1000


def in_process(checkins: int, broker: str):
    """The benchmark's practice with `checkins` open PHQ-9 check-ins (database dropped first),
    and Django set up in this process as the benchmark's web server runs it: (the links'
    tokens, a test client), or None when the setup failed (its errors printed)."""
    load.create_database()
    env = load._env(broker)
    setup = subprocess.run([sys.executable, "-c", load.SETUP, str(checkins), "0"],
                           env={**env, "RAPPORT_TASKS_EAGER": "true"}, cwd=load.ROOT,
                           capture_output=True, text=True, timeout=600)
    if setup.returncode:
        print(setup.stderr, file=sys.stderr)
        return None
    os.environ.update(env)
    sys.path[:0] = env["PYTHONPATH"].split(os.pathsep)
    import django

    django.setup()
    from django.test import Client

    http = Client(HTTP_HOST="127.0.0.1")
    http.get("/portal/login/")
    return json.loads(setup.stdout)["tokens"], http


def answer(http, n: int, token: str) -> None:
    """Post the benchmark's PHQ-9 answers to one link, as the benchmark does (no risk answer)."""
    answers = {f"a-phq9-{i}": load.CHOICES[(n + i) % 3] for i in range(1, 9)}
    answers["a-phq9-9"] = "not-at-all"
    body = urllib.parse.urlencode({**answers, "instrument": "phq9", "action": "submit",
                                   "submission": ""})
    reply = http.post(f"/c/{token}/", body, content_type="application/x-www-form-urlencoded")
    if b"your answers have been sent" not in reply.content:
        raise RuntimeError(f"submission {n} was not stored: HTTP {reply.status_code}")


def print_top(profile: cProfile.Profile, sort: str, limit: int) -> None:
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats(sort).print_stats(limit)
    print(out.getvalue())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--database", default=load.DB)
    parser.add_argument("--broker", default=os.environ.get("RAPPORT_BENCH_BROKER",
                                                           "redis://127.0.0.1:6379/0"))
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--limit", type=int, default=40)
    parser.add_argument("--cpu", action="store_true",
                        help="profile this process's CPU time, not the wall clock")
    parser.add_argument("--save", help="also write the profile here (pstats format)")
    args = parser.parse_args()
    load.DB = args.database
    started = in_process(args.n + 20, args.broker)
    if started is None:
        return 1
    tokens, http = started
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n, token in enumerate(tokens[:19]):  # warm-up: imports, connections, the broker
        answer(http, n, token)
    with CaptureQueriesContext(connection) as queries:
        answer(http, 19, tokens[19])
    print(f"{len(queries)} queries in one submission:")
    for q in queries.captured_queries:
        print(f"  {q['time']}s  {q['sql'][:150]}")
    half = 20 + args.n // 2
    waited = _timing_waits()
    start, cpu = time.perf_counter(), time.process_time()
    for n, token in enumerate(tokens[20:half], start=20):
        answer(http, n, token)
    count = half - 20
    wall = (time.perf_counter() - start) / count * 1000
    submit_cpu = (time.process_time() - cpu) / count * 1000
    print(f"\nWithout the profiler, per submission ({count}): {wall:.1f} ms, of which "
          f"{waited['seconds'] / count * 1000:.1f} ms waiting for PostgreSQL "
          f"({waited['calls'] / count:.0f} waits) and {submit_cpu:.1f} ms of this process's CPU")
    waited["stop"]()
    floor_cpu = _floor_cpu(http, count)
    print(f"The floor (bench/checkin_bench_urls.py), same client: {floor_cpu:.1f} ms of CPU per "
          f"request; CPU ratio submission/floor {submit_cpu / floor_cpu:.1f}")
    profile = cProfile.Profile(time.process_time) if args.cpu else cProfile.Profile()
    start = time.perf_counter()
    profile.enable()
    for n, token in enumerate(tokens[half:], start=half):
        answer(http, n, token)
    profile.disable()
    per = (time.perf_counter() - start) / (len(tokens) - half) * 1000
    print(f"\n{per:.1f} ms per submission under the profiler ({len(tokens) - half} submissions)\n")
    if args.save:
        profile.dump_stats(args.save)
    print_top(profile, args.sort, args.limit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
