"""Benchmark: check-in submissions against gunicorn with PostgreSQL, beside a floor.

    .venv/bin/python bench/bench_checkin_load.py [--n 600] [--concurrency 8] [--workers 2]
        [--episodes 20] [--history 0]
        [--database rapport_bench] [--broker redis://127.0.0.1:6379/0 | --inline]

It creates the database (`--database`, dropped first if it exists), loads a small practice
with N+warm-up open PHQ-9 check-ins and their links, shared among `--episodes` episodes (each
with `--history` weekly sessions before, a PHQ-9 answered at each: `--episodes 640 --history
12` gives every answer an episode of its own, as in a practice, where the default's 20
episodes take about 15 answers a second each), starts gunicorn on a free loopback port,
and posts each check-in once from Python threads (only to 127.0.0.1). Each submission is the
real path: link resolution, consent check, validation and scoring, the response and its audit
event in one transaction, the `response_stored` receivers, the thank-you page.

The floor, measured in the same run with the same threads and server: a minimal Django view
that inserts one row (bench/checkin_bench_site.py). Reported: throughput and p50/p95/p99
latency of both, and the ratio between them.

Alert latency: for ALERT_EPISODES further episodes with three mild PHQ-9 scores stored, one
severe PHQ-9 is posted at a time (under the same load pattern, one thread) and the time from
the start of the POST to the reliable-deterioration alert being in the database (what the
therapist's caseload reads) is measured: p50/p95. With `--broker` (the default, Redis) the
findings refresh runs on ONE Celery worker (`rapport worker --concurrency 1`) started here;
`--inline` runs it inside the request, as before issue 10, for comparison.
Also reported: the tasks waiting in the queue when the alert phase starts, the first alerts'
latencies, and per phase the CPU the web server, the worker, the database server and this load
generator spent per request (/proc), the worker's counted until it has refreshed every episode
the phase asked for (`worker_caught_up_after_s` after the phase's last request). Each phase
starts with the worker idle: after the warm-up, and after the phase before has been refreshed.
Stops by itself; everything is torn down.

Figures (issue 10, item 3; one 2-core machine shared with other sessions, load average 8-11,
so absolute numbers swing threefold between runs and even the ratio by +-40%: compare medians)

  submit/floor ratio, throughput and p50, five runs each, before and after interleaved:
    before (ecbc445): 13.2/13.3, 14.7/14.5, 7.9/8.8, 8.3/9.5, 7.2/7.5   median 8.3/9.5
    after:             9.1/9.6, 10.5/10.4, 6.2/6.4, 8.4/8.1, 7.3/7.5   median 8.4/8.1
  CPU per request, same run pair: web server 17.2 -> 13.0 ms per submission (floor 1.9, 1.7);
    worker 7.6 -> 5.7 ms per submission.
  round trips of one submission (profile_checkin_submit.py): 16 statements -> 12 (BEGIN and
    COMMIT of both transactions included), plus Django's connection check; the floor makes 6.
  alert latency, submission to visible, p50/p95/max:
    before: 159/219/5316 ms (median of five runs); the first alert waited behind the 305-380
      refresh tasks the throughput phase had left queued (one per response), 3.7-7.9 s; one
      of 40 missed the 10 s deadline in one run (and in the previous session's run).
    after: 165/278/417 ms (median of five runs), max over all runs 505 ms, none missed,
      nothing queued when the phase starts (one queued task per episode).

Where the time goes now: the ratio follows the web server's CPU per request (13 ms against
1.7). In process (profile_checkin_submit.py, 8.5 ms of CPU per submission): the link's query
about 2.8 ms (six tables and two subqueries compiled and five rows built), the session's
save 1.5 ms (the floor pays it too), the transaction's writes 1.6 ms (the audit event 0.7),
the thank-you page 0.4 ms, the rest Django's request handling, CSRF and form parsing. The
audit chain's lock (one for the whole trail) is held for four of the twelve round trips
(lock and head, the event, the findings count, then the commit): with two web workers it
does not serialise throughput; it would bound appends at several hundred per second.

Issue 10 item 3, second pass (CPU of the web server per submission). Profiled in process by CPU
time (profile_checkin_submit.py --cpu): about 40% of a submission's CPU was the link's query,
and of that nearly all Django building and compiling it (the annotations and subqueries built
anew on every answer, 60 columns compiled), not reading its row. Now the query is built once per
process and only filtered per answer, and leaves the client's six encrypted columns unread (none
decrypted); the audit chain's lock-and-head query is compiled once. Same process, interleaved:
the link's query 2.2-2.4 -> 1.4-1.7 ms of CPU, the audit head 0.23 -> 0.06 ms.
  load benchmark, web server CPU per submission (floor) and throughput/p50 ratio, interleaved:
    before (6c9a39a): 14.4 (1.0) 12.6/14.0;  10.9 (1.2) 7.5/7.5
    after:            12.5 (1.0) 14.0/15.6;  12.5 (1.5) 6.8/7.2;  10.1 (1.3) 7.7/8.3;
                       9.1 (0.8) 8.7/9.2
  The machine's load moves each figure more than the change does: about 1 ms of 10-13 gone,
  the ratio unchanged within the noise. What is left is Django's own work per request: the
  link's query still costs about 1.4 ms to compile (its SQL is the same on every answer but for
  the token's hash; caching it would mean reaching into the ORM's compiler), the two INSERTs
  and the session about 0.5 ms each, the thank-you page 1, request handling and middleware
  the rest. 3x of a one-row insert is not reachable by trimming CPU: the submission does five
  writes and three reads in two transactions where the floor inserts one row (and saves the
  same session).

On a quiet machine at the end of the session (nothing else running), before (ecbc445) and after,
interleaved, throughput/p50 ratio to the floor and alert latency p50/p95/max:
    before: 9.5/9.5 98/123/4255 ms;  8.5/8.4 102/124/3562 ms
    after:  5.4/5.4 100/117/130 ms;  5.9/5.7  96/110/140 ms;  6.3/6.3 80/92/104 ms

Issue 10 item 3, third pass: fewer round trips and no per-answer compilation. The link's query
and the response's and audit event's INSERTs are written once per process
(rapport.core.statements); on PostgreSQL the answer, its drafts, the check-in's completion and
its links go in one statement, with the audit chain's lock and head read in the same round
trip; answering a link keeps no server session (signed cookies); the thank-you page is rendered
once per practice and language; the findings refresh is queued by one broker message per web
process per quarter second (enqueue_soon), each episode once (PendingRefresh.sent_at). A
submission is 6 statements on PostgreSQL (was 12) plus Django's connection check; the floor 1.
Quiet machine, interleaved, before (91b581f) and after: throughput/p50 ratio, submissions per
second, web server CPU per submission (floor), alert latency p50/p95/max:
    before: 6.4/6.7  71/s 11.5 ms (1.6);  5.7/5.9 80/s 10.0 (1.6);  5.7/5.6 63/s 12.3 (2.1);
            alerts 69-97 / 89-147 / 94-197 ms
    after:  3.1/3.0 155/s 4.2 (1.4);  4.1/4.1 149/s 4.1 (1.1);  3.3/3.2 123/s 5.1 (1.7);
            alerts 322-324 / 332-337 / 341-756 ms in the last two (the refresh waits a
            quarter second for the sweep that serves a burst; the first run predates
            sent_at, and its first alert waited 3 s behind episodes queued again)
  Twice the submissions per second and 40-45% of the web server's CPU, but not <= 3 on every
  run: the floor moves as much as the submission (409-610/s in those runs). What is left is
  round trips, not Python: six statements and a commit's WAL flush against the floor's one
  autocommit INSERT, two of them under the audit chain's global lock, and the findings
  worker's CPU (2.6-3.2 ms per submission) on the same two cores.

Issue 10 item 3, fourth pass: the worker's side. Measured first: with the worker stopped during
the submissions (SIGSTOP, an experiment not kept), the ratio was 2.35-2.63 where it was 3.3-3.8
with it running; the findings refresh (its CPU and the database's for it) was a quarter of the
machine's work per answer. Per refresh (profile_findings_refresh.py, an episode of 32 sessions):
its reads were planned anew on every run, read every column of the sessions, joined the
sessions again for the check-ins' times, decoded the responses' empty JSON, and went out one
round trip each; and with two web processes each queuing its own sweep every quarter second, an
episode answered many times in a burst was recomputed twice as often as the sweep's delay says.
Now the reads are prepared, read only what a history needs, go out together with the BEGIN,
and the queued sweep's start is shared through Redis by every web process (enqueue_soon).
  per refresh, before (f745134) and after, two passes each: wall 3.6-3.8 -> 2.5 ms, the
    worker's CPU 2.1-2.2 -> 1.6, the PostgreSQL backend's CPU 1.2-1.3 -> 0.6.
  load benchmark, quiet 2-core machine, interleaved, throughput/p50 ratio, submissions per
  second, CPU per submission of web server / worker / database, alert latency p50/p95:
    before: 3.72/3.77 237/s 3.5/1.6/2.0 ms 277/281 ms;  3.66/3.74 236/s 3.5/1.6/2.0 281/290;
            3.32/3.43 255/s 3.3/1.4/1.9 279/285
    after (fdf73f0):  2.69/2.51 303/s 3.1/0.6/1.2 ms 277/284 ms;  2.85/2.79 306/s 3.1/0.6/1.2
            278/284;  2.69/2.50 300/s 3.1/0.6/1.2 279/287
  again at the end, with the sweep's shares and the audit chain's lock after the answer's
  statement (e58737c), interleaved with the same before:
    before: 3.31/3.30 269/s 3.2/1.3/1.8;  3.41/3.50 273/s 3.1/1.3/1.7;  3.25/3.48 263/s 3.3/1.2/1.7
    after:  2.84/2.74 307/s 3.1/0.6/1.2;  2.71/2.73 296/s 3.3/0.6/1.3;  3.00/3.01 312/s 3.1/0.6/1.2
            (alerts 276-278 / 280-285 ms on both sides, none missed)
  The benchmark's 20 episodes take about 15 answers a second each, so a sweep recomputes each
  one once for several answers. A practice's answers fall on many more episodes, each
  recomputed once per answer (`--episodes 440 --history 10 --n 400`: an episode of its own
  for every answer, ten weekly PHQ-9s before it). There the findings sweep used to queue a task
  per episode beyond its first 20, and a task cost the worker more than the refresh it ran;
  it now shares them out 20 to a task. Same machine, interleaved:
    before: 3.33/3.52 264/s 3.3/3.9/2.8 ms, worker caught up 1.7 s after the burst;
            3.06/3.17 286/s 2.9/3.4/2.7, 1.5 s
    after:  3.36/3.50 260/s 3.1/2.0/2.1, 0.6 s;  2.98/3.15 291/s 3.0/1.9/2.0, 0.7 s
  The ratio hardly moves there: the worker falls behind during the burst and catches up after
  it, so the burst is measured with the web server's CPU mostly; what the change saves shows
  in the worker's and the database's CPU per answer (10.0 -> 7.2 ms in all) and in how soon
  the worker has caught up. Sharing the sweep's start saves broker messages in either shape:
  one a quarter second for the installation instead of one per web process.
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
DB = os.environ.get("RAPPORT_BENCH_DB", "rapport_bench")
WARMUP = 40
ALERT_EPISODES = 40
CHOICES = ["not-at-all", "several-days", "more-than-half", "nearly-every-day"]


def _env(broker: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "RAPPORT_MODE": "test",
        "RAPPORT_DATABASE_URL": f"{PG.replace('postgresql://', 'postgres://')}/{DB}",
        "DJANGO_SETTINGS_MODULE": "checkin_bench_site",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), str(ROOT)]),
        "RAPPORT_LOG_LEVEL": "WARNING",
    })
    if broker:
        env.update({"RAPPORT_TASKS_EAGER": "false", "RAPPORT_BROKER_URL": broker,
                    "RAPPORT_TASK_QUEUE": f"rapport-bench-{os.getpid()}"})
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
from rapport.checkins.services.submission import submit
from rapport.checkins.models import CheckIn
n = int(sys.argv[1])
alert_episodes = int(sys.argv[2])
episodes = int(sys.argv[3]) if len(sys.argv) > 3 else 20
history = int(sys.argv[4]) if len(sys.argv) > 4 else 0
tokens = []
alert_links = []
with scopes_disabled():
    org = Organisation.objects.create(name="Bench Practice")
    t = User.objects.create_user("t@bench.test", "x" * 16, name="T")
    Membership.objects.create(organisation=org, user=t, role=Role.THERAPIST)
    clients = []
    for i in range(episodes):
        client = Client.objects.create(organisation=org, name=f"Client {i}")
        episode = CareEpisode.objects.create(organisation=org, client=client, therapist=t)
        accept_statement(client, current_statement(org))
        clients.append(episode)
        for k in range(history):  # weekly sessions before this one, each with its PHQ-9
            session = Session.objects.create(organisation=org, episode=episode,
                                             scheduled_at=timezone.now() - timedelta(weeks=history - k))
            submit(episode=episode, instrument_id="phq9", session=session,
                   answers={f"phq9-{j}": (i + j + k) % 3 for j in range(1, 10)} | {"phq9-9": 0})
    for i in range(n):
        episode = clients[i % len(clients)]
        session = Session.objects.create(organisation=org, episode=episode,
                                         scheduled_at=timezone.now() + timedelta(days=1, minutes=i))
        checkin = CheckIn.objects.create(organisation=org, episode=episode, session=session,
                                         when="before", respondent="client", instruments=["phq9"])
        tokens.append(create_invitation(checkin)[1])
    mild = {f"phq9-{i}": 0 for i in range(1, 10)} | {"phq9-1": 1, "phq9-2": 1}
    for i in range(alert_episodes):
        client = Client.objects.create(organisation=org, name=f"Alert client {i}")
        episode = CareEpisode.objects.create(organisation=org, client=client, therapist=t)
        accept_statement(client, current_statement(org))
        for k in range(4):
            session = Session.objects.create(organisation=org, episode=episode,
                                             scheduled_at=timezone.now() - timedelta(weeks=4 - k))
            if k < 3:
                submit(episode=episode, instrument_id="phq9", answers=mild,
                                session=session)
        checkin = CheckIn.objects.create(organisation=org, episode=episode, session=session,
                                         when="before", respondent="client", instruments=["phq9"])
        alert_links.append((episode.pk, create_invitation(checkin)[1]))
json.dump({"tokens": tokens, "alert_links": alert_links}, sys.stdout)
"""


def cpu_seconds(pid: int | None) -> float:
    """CPU time (user + system) of a process and all its descendants, from /proc (Linux)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                     for c in (task / "children").read_text().split()]
    except OSError:  # gone, or not Linux
        return 0.0
    own = sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime..cstime
    return own + sum(cpu_seconds(c) for c in children)


def _postmaster() -> int | None:
    """The local PostgreSQL server's first process: its tree holds every backend's CPU."""
    found = subprocess.run(["pgrep", "-o", "-x", "postgres"], capture_output=True, text=True)
    return int(found.stdout) if found.stdout.strip() else None


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def timed(fn, *args, server=None, worker=None):
    """Run one phase; add the CPU each process spent on it, per request: the web server, the
    worker, the database server (every backend, so only meaningful on a quiet machine) and this
    load generator's own threads."""
    database = _postmaster()
    parts = {"web_server": lambda: cpu_seconds(server), "worker": lambda: cpu_seconds(worker),
             "database": lambda: cpu_seconds(database), "load_client": _own_cpu}
    before = {name: read() for name, read in parts.items()}
    result = fn(*args)
    result["worker_caught_up_after_s"] = settle()  # the refreshes this phase queued, counted in
    count = result.get("requests") or result.get("alerts", 0) + result.get("missing", 0) or 1
    result["cpu_ms_per_request"] = {
        name: round((read() - before[name]) / count * 1000, 1) for name, read in parts.items()}
    return result


def settle(deadline: float = 120.0) -> float | None:
    """Wait until the worker has refreshed every episode whose responses asked for it (at once
    with --inline); seconds waited, None after `deadline`. Between phases, so that each starts
    with the worker idle (not still starting, nor catching up on the phase before) and a
    phase's CPU includes the refreshes it caused."""
    import psycopg

    start = time.monotonic()
    with psycopg.connect(f"{PG}/{DB}", autocommit=True) as conn:
        while conn.execute("SELECT count(*) FROM alerts_pendingrefresh "
                           "WHERE requested > done").fetchone()[0]:
            if time.monotonic() - start > deadline:
                return None
            time.sleep(0.02)
    return round(time.monotonic() - start, 2)


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


def submit(base: str, token: str, n: int, severe: bool = False) -> float:
    opener, csrf = _opener(base)
    answers = {f"a-phq9-{i}": CHOICES[3 if severe else (n + i) % 3] for i in range(1, 9)}
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


def queued(broker: str | None, queue: str | None) -> int | None:
    """How many tasks wait in the worker's queue (Redis), or None without a broker."""
    if not broker or not queue:
        return None
    import redis

    return redis.Redis.from_url(broker).llen(queue)


def alert_latency(base: str, links: list, deadline: float = 10.0) -> dict:
    """Post one severe PHQ-9 at a time; time until its deterioration alert is in the database."""
    import psycopg

    latencies, missing = [], 0
    with psycopg.connect(f"{PG}/{DB}", autocommit=True) as conn:
        for n, (episode_id, token) in enumerate(links):
            start = time.perf_counter()
            submit(base, token, n, severe=True)
            while True:
                found = conn.execute(
                    "SELECT 1 FROM alerts_alert WHERE episode_id = %s AND kind = %s",
                    [episode_id, "reliable_deterioration"]).fetchone()
                elapsed = time.perf_counter() - start
                if found or elapsed > deadline:
                    break
                time.sleep(0.005)
            if found:
                latencies.append(elapsed)
            else:
                missing += 1
    if not latencies:
        return {"alerts": 0, "missing": missing}
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"alerts": len(latencies), "missing": missing,
            "p50_ms": round(q[49] * 1000, 1), "p95_ms": round(q[94] * 1000, 1),
            "max_ms": round(max(latencies) * 1000, 1),
            "first_three_ms": [round(x * 1000, 1) for x in latencies[:3]]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--episodes", type=int, default=20,
                        help="episodes the check-ins are shared among (the warm-up's included)")
    parser.add_argument("--history", type=int, default=0,
                        help="weekly sessions with a PHQ-9 answered each episode holds before")
    parser.add_argument("--database", default=DB)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--broker", default=os.environ.get("RAPPORT_BENCH_BROKER",
                                                         "redis://127.0.0.1:6379/0"))
    mode.add_argument("--inline", action="store_true",
                      help="refresh findings inside the request (no worker), for comparison")
    args = parser.parse_args()
    globals()["DB"] = args.database
    broker = None if args.inline else args.broker
    began = time.monotonic()
    create_database()
    env = _env(broker)
    setup = subprocess.run([sys.executable, "-c", SETUP, str(args.n + WARMUP),
                            str(ALERT_EPISODES), str(args.episodes), str(args.history)],
                           env={**env, "RAPPORT_TASKS_EAGER": "true"},
                           cwd=ROOT, capture_output=True, text=True, timeout=1800)
    if setup.returncode:
        print(setup.stderr, file=sys.stderr)
        return 1
    loaded = json.loads(setup.stdout)
    tokens, alert_links = loaded["tokens"], loaded["alert_links"]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [str(gunicorn), "--workers", str(args.workers), "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "wsgi_app:application"],
        env={**env, "PYTHONPATH": env["PYTHONPATH"]}, cwd=ROOT,
    )
    worker = None
    if broker:
        worker = subprocess.Popen(
            [sys.executable, "-m", "rapport.cli", "worker", "--concurrency", "1",
             "--loglevel", "WARNING"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        wait_ready(base, time.monotonic() + 180)
        run(submit, base, tokens[:WARMUP], args.concurrency)  # warm-up: connections, caches
        run(floor, base, tokens[:WARMUP], args.concurrency)
        settle()  # the worker started and refreshed the warm-up's episodes
        pids = {"server": server.pid, "worker": worker.pid if worker else None}
        checkins = timed(run, submit, base, tokens[WARMUP:], args.concurrency, **pids)
        baseline = timed(run, floor, base, tokens[WARMUP:], args.concurrency, **pids)
        backlog = queued(broker, env.get("RAPPORT_TASK_QUEUE"))
        alerts = timed(alert_latency, base, alert_links, **pids)
        alerts["tasks_queued_at_start"] = backlog
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
    ratio = {
        "throughput": round(baseline["throughput_per_s"] / checkins["throughput_per_s"], 2),
        "p50": round(checkins["p50_ms"] / baseline["p50_ms"], 2),
        "p95": round(checkins["p95_ms"] / baseline["p95_ms"], 2),
        "p99": round(checkins["p99_ms"] / baseline["p99_ms"], 2),
    }
    report = {"server": f"gunicorn, {args.workers} workers, PostgreSQL",
              "episodes": args.episodes, "history": args.history,
              "findings_refresh": "inside the request" if not broker
              else "one Celery worker (concurrency 1), Redis",
              "concurrency": args.concurrency, "checkin_submission": checkins,
              "floor_insert_one_row": baseline, "slower_than_floor_by": ratio,
              "alert_latency_submission_to_visible": alerts,
              "total_seconds": round(time.monotonic() - began, 1)}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
