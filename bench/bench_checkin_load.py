"""Benchmark: check-in submissions against gunicorn with PostgreSQL, beside a floor.

    .venv/bin/python bench/bench_checkin_load.py [--n 600] [--concurrency 8] [--workers 2]

It creates the database `rapport_bench` (dropped first if it exists), loads a small practice
with N+warm-up open PHQ-9 check-ins and their links, starts gunicorn on a free loopback port,
and posts each check-in once from Python threads (only to 127.0.0.1). Each submission is the
real path: link resolution, consent check, validation and scoring, the response and its audit
event in one transaction, the `response_stored` receivers, the thank-you page.

The floor, measured in the same run with the same threads and server: a minimal Django view
that inserts one row (bench/checkin_bench_site.py). Reported: throughput and p50/p95/p99
latency of both, and the ratio between them. Stops by itself; everything is torn down.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG = os.environ.get("RAPPORT_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
DB = "rapport_bench"
WARMUP = 40
CHOICES = ["not-at-all", "several-days", "more-than-half", "nearly-every-day"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "RAPPORT_MODE": "test",
        "RAPPORT_DATABASE_URL": f"{PG.replace('postgresql://', 'postgres://')}/{DB}",
        "DJANGO_SETTINGS_MODULE": "checkin_bench_site",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), str(ROOT)]),
    })
    return env


def create_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB}"')


SETUP = r"""
import json, sys, django
django.setup()
from django.core.management import call_command
from django.db import connection
call_command("migrate", verbosity=0)
with connection.cursor() as c:
    c.execute("CREATE TABLE bench_floor (id bigserial PRIMARY KEY, at timestamptz DEFAULT now(), payload text)")
from datetime import timedelta
from django.utils import timezone
from django_scopes import scopes_disabled
from rapport.accounts.models import Membership, Organisation, Role, User
from rapport.care.models import CareEpisode, Client, Session
from rapport.checkins.services.consent import accept_statement, current_statement
from rapport.checkins.services.invitations import create_invitation
from rapport.checkins.models import CheckIn
n = int(sys.argv[1])
tokens = []
with scopes_disabled():
    org = Organisation.objects.create(name="Bench Practice")
    t = User.objects.create_user("t@bench.test", "x" * 16, name="T")
    Membership.objects.create(organisation=org, user=t, role=Role.THERAPIST)
    clients = []
    for i in range(20):
        client = Client.objects.create(organisation=org, name=f"Client {i}")
        episode = CareEpisode.objects.create(organisation=org, client=client, therapist=t)
        accept_statement(client, current_statement(org))
        clients.append(episode)
    for i in range(n):
        episode = clients[i % len(clients)]
        session = Session.objects.create(organisation=org, episode=episode,
                                         scheduled_at=timezone.now() + timedelta(days=1, minutes=i))
        checkin = CheckIn.objects.create(organisation=org, episode=episode, session=session,
                                         when="before", respondent="client", instruments=["phq9"])
        tokens.append(create_invitation(checkin)[1])
json.dump(tokens, sys.stdout)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=2).read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start in time")


_local = threading.local()


def _opener(base: str):
    """One cookie jar per thread, with a CSRF cookie fetched once."""
    if getattr(_local, "opener", None) is None:
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        opener.open(f"{base}/portal/login/", timeout=30).read()
        _local.opener = opener
        _local.csrf = next(c.value for c in jar if c.name == "csrftoken")
    return _local.opener, _local.csrf


def submit(base: str, token: str, n: int) -> float:
    opener, csrf = _opener(base)
    answers = {f"a-phq9-{i}": CHOICES[(n + i) % 3] for i in range(1, 9)}
    answers["a-phq9-9"] = "not-at-all"
    data = urllib.parse.urlencode({**answers, "instrument": "phq9", "action": "submit",
                                   "submission": "", "csrfmiddlewaretoken": csrf}).encode()
    request = urllib.request.Request(f"{base}/c/{token}/", data=data,
                                     headers={"Referer": f"{base}/c/{token}/"})
    start = time.perf_counter()
    with opener.open(request, timeout=30) as reply:
        body = reply.read()
    elapsed = time.perf_counter() - start
    if b"your answers have been sent" not in body:
        raise RuntimeError(f"submission {n} was not stored: HTTP {reply.status}")
    return elapsed


def floor(base: str, _token: str, n: int) -> float:
    opener, _ = _opener(base)
    data = urllib.parse.urlencode({"x": f"row {n}"}).encode()
    start = time.perf_counter()
    with opener.open(f"{base}/bench/floor/", data=data, timeout=30) as reply:
        reply.read()
    return time.perf_counter() - start


def run(fn, base: str, tokens: list[str], concurrency: int) -> dict:
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        latencies = list(pool.map(lambda a: fn(base, a[1], a[0]), enumerate(tokens)))
    wall = time.perf_counter() - start
    latencies.sort()
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"requests": len(latencies), "seconds": round(wall, 3),
            "throughput_per_s": round(len(latencies) / wall, 1),
            "p50_ms": round(q[49] * 1000, 1), "p95_ms": round(q[94] * 1000, 1),
            "p99_ms": round(q[98] * 1000, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    began = time.monotonic()
    create_database()
    env = _env()
    setup = subprocess.run([sys.executable, "-c", SETUP, str(args.n + WARMUP)], env=env,
                           cwd=ROOT, capture_output=True, text=True, timeout=120)
    if setup.returncode:
        print(setup.stderr, file=sys.stderr)
        return 1
    tokens = json.loads(setup.stdout)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "--workers", str(args.workers), "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "wsgi_app:application"],
        env={**env, "PYTHONPATH": env["PYTHONPATH"]}, cwd=ROOT,
    )
    try:
        wait_ready(base, time.monotonic() + 30)
        run(submit, base, tokens[:WARMUP], args.concurrency)  # warm-up: connections, caches
        run(floor, base, tokens[:WARMUP], args.concurrency)
        checkins = run(submit, base, tokens[WARMUP:], args.concurrency)
        baseline = run(floor, base, tokens[WARMUP:], args.concurrency)
    finally:
        server.terminate()
        server.wait(timeout=15)
    ratio = {
        "throughput": round(baseline["throughput_per_s"] / checkins["throughput_per_s"], 2),
        "p50": round(checkins["p50_ms"] / baseline["p50_ms"], 2),
        "p95": round(checkins["p95_ms"] / baseline["p95_ms"], 2),
        "p99": round(checkins["p99_ms"] / baseline["p99_ms"], 2),
    }
    report = {"server": f"gunicorn, {args.workers} workers, PostgreSQL",
              "concurrency": args.concurrency, "checkin_submission": checkins,
              "floor_insert_one_row": baseline, "slower_than_floor_by": ratio,
              "total_seconds": round(time.monotonic() - began, 1)}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
