"""Issue 15, item 4, as deployed: `rapport serve` (gunicorn, production mode, started as the
README starts it, the venv's bin not on PATH) behind a reverse
proxy running as a process of its own (tests/security/reverse_proxy.py), clients on different
loopback addresses (127.0.0.2, .3, ...), the proxy's own address in RAPPORT_TRUSTED_PROXIES.

Before the fix every request came from the proxy's address: 30 wrong logins from one client
paused logging in for everyone, and the audit trail held the proxy's address only.

The site has its own SQLite file whatever the suite's database, so the PostgreSQL pass skips it.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from rapport.accounts.forms import FAILED_LOGINS_PER_IP

ROOT = Path(__file__).resolve().parents[2]
PAUSED = "Too many attempts"

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite",
                                reason="engine-independent: runs once, in the SQLite pass")


# Runs `rapport` commands one after another in one process; prints what each wrote, as JSON.
_COMMANDS = """
import contextlib, io, json, sys
from rapport.cli import main
outputs = []
for argv in json.loads(sys.argv[1]):
    with contextlib.redirect_stdout(io.StringIO()) as out:
        if main(argv) != 0:
            sys.exit(f"rapport {' '.join(argv)} failed")
    outputs.append(out.getvalue())
print(json.dumps(outputs))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A production-mode site on a fresh SQLite file, its staff and one client, served by
    gunicorn on a private port and reached only through the proxy process."""
    var = tmp_path_factory.mktemp("site")
    port = _free_port()
    env = {**os.environ, "RAPPORT_MODE": "production", "RAPPORT_VAR_DIR": str(var),
           "RAPPORT_DATABASE_URL": f"sqlite:///{var / 'rapport.sqlite3'}",
           "RAPPORT_SECRET_KEY": secrets.token_urlsafe(60),
           "RAPPORT_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
           "RAPPORT_ALLOWED_HOSTS": "127.0.0.1", "RAPPORT_TRUSTED_PROXIES": "127.0.0.1",
           "RAPPORT_BIND": f"127.0.0.1:{port}", "RAPPORT_WORKERS": "1",
           "RAPPORT_BROKER_URL": "memory://", "RAPPORT_EMAIL_BACKEND":
           "django.core.mail.backends.locmem.EmailBackend", "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)

    # The site's setup, as `rapport manage ...` commands, in one process: each command started
    # on its own would load Django (and the analysis libraries) again, seconds apiece.
    clients = var / "clients.csv"
    clients.write_text("name,email\nSam Rivers,sam@riverside.test\n")
    staff = ("ann@riverside.test", "bo@riverside.test")
    commands = [
        ["manage", "migrate", "--no-input", "-v", "0"],
        ["manage", "collectstatic", "--no-input", "-v", "0"],
        *(["manage", "add_staff", "--practice", "Riverside", *(["--new-practice"] if n == 0 else []),
           "--email", email, "--name", email.split("@")[0], "--role", "therapist"]
          for n, email in enumerate(staff)),
        ["manage", "import_data", "--practice", "Riverside", "--clients-csv", str(clients),
         "--therapist", "ann@riverside.test"],
    ]
    done = subprocess.run([sys.executable, "-c", _COMMANDS, json.dumps(commands)], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=True, timeout=300)
    outputs = json.loads(done.stdout.splitlines()[-1])
    passwords = {email: re.search(r"Temporary password.*: (\S+)", out).group(1)
                 for email, out in zip(staff, outputs[2:4], strict=True)}
    # As the README starts it (/opt/rapport/bin/rapport serve), with the venv's bin not on PATH
    # (issue 15, item 9: gunicorn was looked up on PATH).
    server = subprocess.Popen([str(Path(sys.executable).parent / "rapport"), "serve"], cwd=ROOT,
                              env={**env, "PATH": "/usr/bin:/bin"},
                              stdout=subprocess.DEVNULL, stderr=(var / "serve.log").open("w"))
    proxy = subprocess.Popen([sys.executable, "-m", "tests.security.reverse_proxy", "127.0.0.1",
                              str(port)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        proxy_port = int(proxy.stdout.readline())
        deadline = time.monotonic() + 60
        while True:
            try:
                if _request(proxy_port, "127.0.0.1", "GET", "/healthz")[0] in (200, 503):
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, (var / "serve.log").read_text()
            time.sleep(0.3)
        yield proxy_port, passwords, var / "rapport.sqlite3"
    finally:
        for process in (proxy, server):
            process.terminate()
            process.wait(timeout=30)


def _request(port: int, source: str, method: str, path: str, body: dict | None = None,
             headers: dict | None = None) -> tuple[int, str, http.client.HTTPResponse]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))
    try:
        conn.request(method, path, urllib.parse.urlencode(body) if body is not None else None,
                     headers or {})
        reply = conn.getresponse()
        return reply.status, reply.read().decode(errors="replace"), reply
    finally:
        conn.close()


def _post_form(port: int, source: str, path: str, fields: dict, forged: str | None = None) -> tuple[int, str]:
    """GET the form, then POST it with its CSRF token, as a browser at `source` would."""
    status, html, reply = _request(port, source, "GET", path)
    assert status == 200, html[:300]
    cookies = "; ".join(c.split(";")[0] for c in reply.headers.get_all("Set-Cookie") or [])
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    headers = {"Cookie": cookies, "Content-Type": "application/x-www-form-urlencoded",
               "Origin": f"https://127.0.0.1:{port}", "Referer": f"https://127.0.0.1:{port}{path}"}
    if forged:
        headers["X-Forwarded-For"] = forged
    status, html, _ = _request(port, source, "POST", path, {"csrfmiddlewaretoken": token, **fields},
                               headers)
    return status, html


def test_one_clients_wrong_logins_pause_only_that_client(site):
    port, passwords, _ = site
    for n in range(FAILED_LOGINS_PER_IP.capacity):
        status, html = _post_form(port, "127.0.0.2", "/login/",
                                  {"username": f"guess{n}@riverside.test", "password": "wrong"})
        assert status == 200 and PAUSED not in html, n
    right = {"username": "bo@riverside.test", "password": passwords["bo@riverside.test"]}
    # The flooding address is paused, even with the right password, and a header it forges
    # itself does not get it out: only the proxy's own hop is believed.
    assert PAUSED in _post_form(port, "127.0.0.2", "/login/", right)[1]
    assert PAUSED in _post_form(port, "127.0.0.2", "/login/", right, forged="198.51.100.7")[1]
    # Another client behind the same proxy logs in: on to the second factor.
    status, _ = _post_form(port, "127.0.0.3", "/login/", right)
    assert status == 302


def test_the_audit_trail_holds_the_clients_address_not_the_proxys(site):
    port, _, database = site
    status, _ = _post_form(port, "127.0.0.4", "/portal/login/", {"email": "sam@riverside.test"})
    assert status == 200
    status, _ = _post_form(port, "127.0.0.5", "/portal/login/", {"email": "sam@riverside.test"},
                           forged="203.0.113.9")
    assert status == 200
    con = sqlite3.connect(database)
    try:
        addresses = [row[0] for row in con.execute(
            "SELECT ip_address FROM audit_auditevent WHERE action = 'portal.login_link.sent' "
            "ORDER BY seq")]
    finally:
        con.close()
    assert addresses == ["127.0.0.4", "127.0.0.5"]
