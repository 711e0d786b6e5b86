"""A gunicorn worker killed during a burst of submissions loses no acknowledged answer
(issue 7, item 7).

gunicorn (2 workers) serves the real site against this test's PostgreSQL database; threads
post one PHQ-9 per check-in link (only to 127.0.0.1); one worker is killed with SIGKILL
mid-burst. Every submission thanked must be stored exactly once; every one cut off is sent
again with the same form (as a browser does) and must then be thanked and stored exactly once.
"""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django_scopes import scope

from rapport.audit.models import AuditEvent
from rapport.care.models import CareEpisode, Client, Session
from rapport.checkins.models import CheckIn, Response
from rapport.checkins.services.invitations import create_invitation
from tests.checkins.conftest import accept_consent
from tests.concurrency.conftest import phq9_form

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
LINKS = 90
THREADS = 10
KILLS_AFTER = (25, 55)  # replies received before each kill (of whichever worker is first)
DEADLINE = 40  # seconds for the whole burst


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_gunicorn(port: int, var_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "RAPPORT_MODE": "test", "RAPPORT_DATABASE_URL": database_url(),
           "DJANGO_SETTINGS_MODULE": "rapport.test_settings", "RAPPORT_VAR_DIR": str(var_dir),
           "PYTHONPATH": str(ROOT)}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    return subprocess.Popen(
        [str(gunicorn), "--workers", "2", "--bind", f"127.0.0.1:{port}", "--timeout", "10",
         "--graceful-timeout", "2", "--log-level", "error",
         "tests.concurrency.slow_wsgi:application"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def wait_ready(server: subprocess.Popen, port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"gunicorn exited: {server.stderr.read().decode()[-2000:]}")
        try:
            if get(port, "/healthz")[0] == 200 and len(children(server.pid)) == 2:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("gunicorn did not start in time")


def get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        reply = conn.getresponse()
        return reply.status, reply.read()
    finally:
        conn.close()


def post(port: int, path: str, data: dict) -> tuple[int, bytes]:
    """One browser's POST, with its own CSRF cookie and no session."""
    csrf = secrets.token_hex(16)  # 32 characters: a CSRF secret, sent as cookie and field
    body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": csrf})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", path, body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf}",
            "Connection": "close"})
        reply = conn.getresponse()
        return reply.status, reply.read()
    finally:
        conn.close()


def thanked(outcome) -> bool:
    return outcome[0] == 200 and b"your answers have been sent" in outcome[1]


@pytest.fixture
def links(practice):
    """LINKS open PHQ-9 check-ins over six clients who have consented, each with its link."""
    accept_consent(practice)
    made = []
    with scope(organisation=[practice.org]):
        episodes = [practice.episode]
        for n in range(5):
            client = Client.objects.create(organisation=practice.org, name=f"Burst Client {n}")
            accept_consent(practice, client)
            episodes.append(CareEpisode.objects.create(
                organisation=practice.org, client=client, therapist=practice.therapist))
        start = datetime(2026, 10, 1, 9, tzinfo=UTC)
        for n in range(LINKS):
            episode = episodes[n % len(episodes)]
            session = Session.objects.create(organisation=practice.org, episode=episode,
                                             scheduled_at=start + timedelta(hours=n))
            checkin = CheckIn.objects.create(organisation=practice.org, episode=episode,
                                             session=session, when="before",
                                             respondent="client", instruments=["phq9"])
            _, token = create_invitation(checkin)
            answers = {f"phq9-{i}": (n + i) % 3 for i in range(1, 10)} | {"phq9-9": 0}
            made.append((checkin, f"/c/{token}/", phq9_form(answers, str(uuid.uuid4()))))
    return made


def test_a_killed_worker_loses_no_acknowledged_submission(links, tmp_path):
    port = free_port()
    server = start_gunicorn(port, tmp_path)
    try:
        wait_ready(server, port, time.monotonic() + 20)
        outcomes: dict[int, object] = {}
        replies = threading.Semaphore(0)
        killed: list[int] = []

        def send(n: int) -> None:
            _, link, data = links[n]
            try:
                outcomes[n] = post(port, link, data)
            except (OSError, http.client.HTTPException) as exc:  # cut off by the kill
                outcomes[n] = exc
            replies.release()

        def kill_workers() -> None:
            received = 0
            for at in KILLS_AFTER:
                while received < at:
                    if not replies.acquire(timeout=DEADLINE):
                        return
                    received += 1
                workers = children(server.pid)
                if workers:
                    os.kill(workers[0], signal.SIGKILL)
                    killed.append(workers[0])

        killer = threading.Thread(target=kill_workers)
        killer.start()
        began = time.monotonic()
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(send, range(LINKS)))
        killer.join(DEADLINE)
        assert time.monotonic() - began < DEADLINE

        assert len(killed) == len(KILLS_AFTER), "a worker was not killed"
        cut_off = [n for n, o in outcomes.items() if isinstance(o, Exception)]
        other = {n: o[0] for n, o in outcomes.items() if not isinstance(o, Exception)
                 and not thanked(o)}
        assert other == {}, f"submissions neither thanked nor cut off: {other}"
        assert cut_off, "the kill interrupted no submission: nothing was tested"
        assert len(cut_off) < LINKS // 2

        # The browsers whose connection was cut send the same form again.
        wait_ready(server, port, time.monotonic() + 20)
        retried = {n: post(port, links[n][1], links[n][2]) for n in cut_off}
        assert {n: o[0] for n, o in retried.items() if not thanked(o)} == {}
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)

    with scope(organisation=[links[0][0].organisation]):
        stored = {r.checkin_id: r for r in Response.objects.all()}
        count = Response.objects.count()
        incomplete = CheckIn.objects.filter(completed_at__isnull=True).exclude(
            pk__in=[c.pk for c, _, _ in links]).count()
        open_links = CheckIn.objects.filter(
            pk__in=[c.pk for c, _, _ in links], completed_at__isnull=True).count()
    assert count == LINKS == len(stored), "a check-in has no answer, or two"
    for checkin, _, data in links:
        assert str(stored[checkin.pk].submission_token) == data["submission"]
    assert open_links == 0 and incomplete == 0
    assert AuditEvent.objects.filter(action="checkins.response.submitted").count() == LINKS
