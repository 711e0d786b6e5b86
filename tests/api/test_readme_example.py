"""The README's curl example runs as written against the API (so it cannot rot)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from django_scopes import scope

from rapport.checkins.models import CheckIn
from tests.api.conftest import make_token

README = Path(__file__).resolve().parents[2] / "README.md"


def _commands() -> list[list[str]]:
    text = README.read_text()
    block = re.search(r"<!-- api-example -->\n```sh\n(.*?)```", text, re.S)[1]
    return [shlex.split(line) for line in block.splitlines() if line.startswith("curl ")]


def _run(client, argv, env):
    argv = [re.sub(r"\$(\w+)", lambda m: env[m[1]], a) for a in argv]
    assert argv[0] == "curl"
    method, url, headers, data = "GET", None, {}, None
    args = iter(argv[1:])
    for arg in args:
        if arg == "-X":
            method = next(args)
        elif arg == "-H":
            name, _, value = next(args).partition(": ")
            headers["HTTP_" + name.upper().replace("-", "_")] = value
        elif arg == "-d":
            data = next(args)
        else:
            assert url is None, f"unexpected argument {arg}"
            url = arg
    path = url.removeprefix(env["RAPPORT_URL"])
    content_type = headers.pop("HTTP_CONTENT_TYPE", "application/json")
    return client.generic(method, path, data or "", content_type=content_type, **headers)


def test_the_readme_example_creates_and_sends_a_checkin(client, practice, mailoutbox):
    with scope(organisation=[practice.org]):
        practice.client.email = "client@riverside.test"
        practice.client.save()
    env = {"RAPPORT_URL": "https://rapport.example.org", "SESSION": str(practice.session.code),
           "RAPPORT_TOKEN": make_token(practice, practice.therapist, ["checkins:write"])}
    create, send = _commands()
    created = _run(client, create, env)
    assert created.status_code == 201
    planned = [c for c in created.json() if c["respondent"] == "client"]
    with scope(organisation=[practice.org]):
        assert {str(c.code) for c in CheckIn.objects.filter(session=practice.session)} >= {
            c["code"] for c in planned}
    assert planned, "the default schedule asks the client something before or after a session"
    env["CHECKIN"] = planned[0]["code"]
    sent = _run(client, send, env)
    assert sent.status_code == 201 and sent.json()["channel"] == "email"
    assert [m.to for m in mailoutbox] == [["client@riverside.test"]]


def _shell_commands() -> list[str]:
    text = README.read_text()
    block = re.search(r"<!-- api-example -->\n```sh\n(.*?)```", text, re.S)[1]
    return [line for line in block.splitlines() if line.startswith("curl ")]


def _shell(line: str, env: dict):
    """Run one line of the README with bash (and the real curl); its output as JSON."""
    done = subprocess.run([BASH, "-c", line], env=env, capture_output=True, text=True,  # noqa: S603
                          timeout=60, check=True)
    return json.loads(done.stdout)


BASH = shutil.which("bash") or "/bin/bash"


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
@pytest.mark.django_db(transaction=True)
def test_the_readme_example_runs_with_curl_against_a_live_server(live_server, practice, mailoutbox):
    """The same two lines, run by the shell with the real curl against a running server."""
    with scope(organisation=[practice.org]):
        practice.client.email = "client@riverside.test"
        practice.client.save()
    env = {"PATH": os.environ["PATH"], "RAPPORT_URL": live_server.url,
           "SESSION": str(practice.session.code),
           "RAPPORT_TOKEN": make_token(practice, practice.therapist, ["checkins:write"])}
    create, send = _shell_commands()
    planned = [c for c in _shell(create, env) if c["respondent"] == "client"]
    with scope(organisation=[practice.org]):
        stored = {str(c.code) for c in CheckIn.objects.filter(session=practice.session)}
    assert planned and {c["code"] for c in planned} <= stored
    env["CHECKIN"] = planned[0]["code"]
    sent = _shell(send, env)
    assert sent["channel"] == "email"
    assert [m.to for m in mailoutbox] == [["client@riverside.test"]]
