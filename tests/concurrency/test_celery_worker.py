"""A real Celery worker against Redis, killed during a burst of check-ins: no finding is lost
(issue 10). After a new worker starts, every episode's findings equal a full recompute.

gunicorn serves the real site and queues the findings refresh to Redis; a worker (`rapport
worker`, two processes, with its scheduler) computes them. Mid-burst the whole worker is killed
with SIGKILL (the tasks it held are neither acknowledged nor finished), then a new one starts.

Needs PostgreSQL (a database both processes see; the package's conftest skips without it) and
Redis at RAPPORT_TEST_REDIS_URL (default redis://127.0.0.1:6379/15): skipped without it, except
under CI=true, where it fails. Each run uses its own queue name, so runs never share messages.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from django_scopes import scope, scopes_disabled

from rapport.alerts.findings import refresh_all
from rapport.alerts.models import Alert, PendingRefresh
from rapport.care.models import CareEpisode, Client, Session
from rapport.checkins.models import CheckIn, Response
from rapport.checkins.services.invitations import create_invitation
from tests.checkins.conftest import accept_consent
from tests.concurrency.conftest import phq9_form
from tests.concurrency.test_worker_kill import ROOT, database_url, free_port, post, thanked

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

EPISODES = 6
PER_EPISODE = 10
KILL_AFTER = 20  # submissions thanked before the worker is killed
LATE = 2  # submissions sent after the burst, while no worker runs
DEADLINE = 90  # seconds for the findings to catch up after the restart


@pytest.fixture
def env(redis_url, tmp_path):
    queue = f"rapport-test-{uuid.uuid4().hex[:10]}"
    yield {**os.environ, "RAPPORT_MODE": "test", "DJANGO_SETTINGS_MODULE": "rapport.test_settings",
           "RAPPORT_DATABASE_URL": database_url(), "RAPPORT_VAR_DIR": str(tmp_path),
           "PYTHONPATH": str(ROOT), "RAPPORT_TASKS_EAGER": "false",
           "RAPPORT_BROKER_URL": redis_url, "RAPPORT_TASK_QUEUE": queue,
           # Short enough for a test: a dead worker's claim lapses after 3 s, the scheduler
           # looks for episodes left behind every 2 s, an unacknowledged message comes back
           # after 10 s.
           "RAPPORT_FINDINGS_CLAIM_SECONDS": "3", "RAPPORT_FINDINGS_SWEEP_SECONDS": "2",
           "RAPPORT_BROKER_VISIBILITY_TIMEOUT": "10", "RAPPORT_LOG_LEVEL": "WARNING"}
    import redis

    client = redis.Redis.from_url(redis_url)
    for pattern in (f"{queue}*", f"_kombu.binding*.{queue}"):  # the queue and kombu's routing
        for key in client.scan_iter(pattern):
            client.delete(key)


def start_worker(env, tmp_path, n: int) -> subprocess.Popen:
    log = open(tmp_path / f"worker-{n}.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "-m", "rapport.cli", "worker", "--concurrency", "2", "-B",
         "--schedule", str(tmp_path / f"beat-{n}")],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def start_web(env, port: int) -> subprocess.Popen:
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    return subprocess.Popen(
        [gunicorn, "--workers", "2", "--bind", f"127.0.0.1:{port}", "--log-level", "error",
         "rapport.wsgi:application"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    """Ask the process to stop; after 30 s kill its whole session (each runs in its own)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture
def links(practice):
    """EPISODES episodes, each with PER_EPISODE PHQ-9 check-in links whose scores climb."""
    made = []
    with scope(organisation=[practice.org]):
        episodes = []
        for n in range(EPISODES):
            client = Client.objects.create(organisation=practice.org, name=f"Burst Client {n}")
            accept_consent(practice, client)
            episodes.append(CareEpisode.objects.create(
                organisation=practice.org, client=client, therapist=practice.therapist))
        start = datetime(2026, 10, 1, 9, tzinfo=UTC)
        for k in range(PER_EPISODE):
            for episode in episodes:
                session = Session.objects.create(organisation=practice.org, episode=episode,
                                                 scheduled_at=start + timedelta(weeks=k))
                checkin = CheckIn.objects.create(
                    organisation=practice.org, episode=episode, session=session, when="before",
                    respondent="client", instruments=["phq9"])
                _, token = create_invitation(checkin)
                level = min(3, k // 3)  # totals 0, 0, 0, 8, 8, 8, 16 ...: a deterioration
                answers = {f"phq9-{i}": level for i in range(1, 9)} | {"phq9-9": 0}
                made.append((f"/c/{token}/", phq9_form(answers, str(uuid.uuid4()))))
    return practice, episodes, made


def findings_of(practice) -> dict:
    """Every episode's alerts from the monitoring core, as the therapist sees them."""
    with scope(organisation=[practice.org]):
        return {
            (a.episode_id, a.key): (a.kind, a.severity, a.ongoing, a.status, a.evidence)
            for a in Alert.objects.exclude(kind="risk")
        }


def behind() -> int:
    with scopes_disabled():
        return sum(1 for s in PendingRefresh.objects.all() if s.requested > s.done)


def test_a_killed_worker_loses_no_finding(links, env, tmp_path):
    practice, episodes, made = links
    port = free_port()
    web = start_web(env, port)
    worker = start_worker(env, tmp_path, 1)
    try:
        from tests.concurrency.test_worker_kill import get

        deadline = time.monotonic() + 30
        while True:
            try:
                if get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        thanked_count = 0
        lock = threading.Lock()
        at_kill: list[int] = []

        def send(n: int):
            nonlocal thanked_count
            outcome = post(port, *made[n])
            with lock:
                thanked_count += thanked(outcome)
                if thanked_count >= KILL_AFTER and not at_kill:
                    os.killpg(worker.pid, signal.SIGKILL)  # the worker and its processes
                    at_kill.append(behind())
            return outcome

        with ThreadPoolExecutor(8) as pool:
            outcomes = list(pool.map(send, range(len(made) - LATE)))
        assert all(thanked(o) for o in outcomes), "a submission was not thanked"
        worker.wait(timeout=10)
        assert at_kill and at_kill[0] > 0, "no refresh was in flight at the kill: nothing tested"
        # The last answers come after the burst's sweep window (one sweep is queued a quarter
        # second): their sweep waits in the broker for the next worker.
        time.sleep(0.5)
        assert all(thanked(send(n)) for n in range(len(made) - LATE, len(made)))
        assert behind() > 0  # nobody computed the rest of the burst while no worker ran
        # /healthz sees the broker, and the refreshes waiting in it for a worker.
        import json

        health = json.loads(get(port, "/healthz")[1])
        assert health["broker"] == "ok" and health["oldest_queued_seconds"] is not None
        assert 0 <= health["oldest_queued_seconds"] < 300

        worker = start_worker(env, tmp_path, 2)
        deadline = time.monotonic() + DEADLINE
        while behind() and time.monotonic() < deadline:
            time.sleep(0.5)
        log = (tmp_path / "worker-2.log").read_text()[-3000:]
        assert behind() == 0, f"findings still behind after {DEADLINE} s; worker log:\n{log}"
    finally:
        stop(worker)
        stop(web)

    with scopes_disabled():
        assert Response.objects.count() == len(made)
        for state in PendingRefresh.objects.all():
            assert state.requested == state.done == PER_EPISODE
    after_workers = findings_of(practice)
    assert {episode for episode, _ in after_workers} == {e.pk for e in episodes}
    refresh_all([practice.org])  # the full recompute, in this process
    assert findings_of(practice) == after_workers
