"""HTTP hardening: headers on every page, idle timeout, and a clean deploy check in production."""

import io
import os
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.conftest import login


def test_every_page_carries_the_security_headers(client, practice):
    login(client, practice.therapist)
    for url in (reverse("accounts-login"), reverse("care-caseload"),
                reverse("care-episode", args=[practice.episode.code]), "/healthz"):
        response = client.get(url)
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in response["Cache-Control"]


def test_templates_have_no_inline_scripts_or_styles():
    """The CSP forbids them, so they would silently break: keep them out of the templates."""
    root = os.path.join(os.path.dirname(__file__), "..", "rapport", "templates")
    offenders = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            text = open(os.path.join(folder, name), encoding="utf-8").read()
            if "<script>" in text or " style=" in text or "<style" in text or " onclick=" in text:
                offenders.append(name)
    assert offenders == []


def test_staff_session_ends_after_idle_timeout(client, practice, settings):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        login(client, practice.therapist)
        assert client.get(reverse("care-caseload")).status_code == 200
        traveller.shift(timedelta(minutes=settings.IDLE_TIMEOUT_MINUTES - 1))
        assert client.get(reverse("care-caseload")).status_code == 200  # activity renews it
        traveller.shift(timedelta(minutes=settings.IDLE_TIMEOUT_MINUTES + 1))
        response = client.get(reverse("care-caseload"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts-login"))


def _deploy_check(tmp_path, **overrides) -> subprocess.CompletedProcess:
    # A clean production environment: nothing of the test run's (the browser tests, for one,
    # allow Django's async-unsafe calls for Playwright) may leak into the check.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RAPPORT_", "DJANGO_"))}
    env.update(
        RAPPORT_SECRET_KEY="x7#" * 20 + "production-like-secret-key-for-the-check",
        RAPPORT_ENCRYPTION_KEYS="cmFwcG9ydC10ZXN0LWtleS0xLS0tLS0tLS0tLS0tLS0=",
        RAPPORT_ALLOWED_HOSTS="rapport.example.org",
        RAPPORT_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="rapport.settings",
    )
    env.update(overrides)
    return subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        env=env, capture_output=True, text=True, timeout=120,
    )


def test_deploy_check_is_clean_in_production(tmp_path):
    result = _deploy_check(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"RAPPORT_ENCRYPTION_KEYS": "not-a-fernet-key"}, "key 1 is not a valid Fernet key"),
        ({"RAPPORT_SECRET_KEY": "x" * 60}, "RAPPORT_SECRET_KEY is too weak"),
    ],
)
def test_deploy_check_fails_on_malformed_secrets(tmp_path, overrides, message):
    result = _deploy_check(tmp_path, **overrides)
    assert result.returncode != 0
    assert message in result.stderr


def test_the_stylesheet_is_served(client, db):
    from django.contrib.staticfiles import finders

    assert finders.find("rapport/site.css") is not None


def test_an_oversized_body_is_refused_before_the_csrf_check_parses_it(web, db, settings, monkeypatch):
    from django.http.multipartparser import MultiPartParser

    parsed = []
    original = MultiPartParser.parse
    monkeypatch.setattr(MultiPartParser, "parse", lambda self: parsed.append(1) or original(self))
    web.get(reverse("accounts-login"))  # a CSRF cookie, so the check looks for the token in the body
    big = io.BytesIO(b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1))
    big.name = "big.bin"
    response = web.post(reverse("accounts-login"), {"username": "a@b.test", "upload": big})
    assert response.status_code == 413
    assert parsed == []
    # Within the limit, the CSRF check runs as before (and refuses: no token).
    small = web.post(reverse("accounts-login"), {"username": "a@b.test"})
    assert small.status_code == 403
    assert parsed == [1]
