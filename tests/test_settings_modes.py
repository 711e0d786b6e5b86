"""Production refuses to start without its secrets; DEBUG is off outside the demo."""

import os
import subprocess
import sys

import pytest

STRONG = "q8Vf3kLz0-Xw7RtYb2Nc9MhJ4pDs6GaE1uQiWoTn5KyBvHxZmC"
KEY1 = "cmFwcG9ydC10ZXN0LWtleS0xLS0tLS0tLS0tLS0tLS0="
KEY2 = "cmFwcG9ydC10ZXN0LWtleS0yLS0tLS0tLS0tLS0tLS0="
SNIPPET = "import rapport.settings as s; print(s.MODE, s.DEBUG, bool(s.SECRET_KEY), len(s.ENCRYPTION_KEYS), s.PASSWORD_HASHERS[0].rsplit('.', 1)[1])"


def _settings(env: dict, tmp_path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RAPPORT_")}
    clean.update(env)
    clean.setdefault("RAPPORT_VAR_DIR", str(tmp_path))
    return subprocess.run([sys.executable, "-c", SNIPPET], env=clean, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({}, "RAPPORT_SECRET_KEY and RAPPORT_ENCRYPTION_KEYS"),
        ({"RAPPORT_SECRET_KEY": STRONG}, "RAPPORT_ENCRYPTION_KEYS"),
        ({"RAPPORT_ENCRYPTION_KEYS": KEY1}, "RAPPORT_SECRET_KEY"),
    ],
)
def test_production_refuses_to_start_without_secrets(tmp_path, env, missing):
    result = _settings(env, tmp_path)
    assert result.returncode != 0
    assert f"Production mode needs {missing}" in result.stderr


def test_production_starts_with_secrets_and_debug_off(tmp_path):
    result = _settings({"RAPPORT_SECRET_KEY": STRONG, "RAPPORT_ENCRYPTION_KEYS": KEY1}, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["production", "False", "True", "1", "Argon2PasswordHasher"]


def test_secrets_can_come_from_files(tmp_path):
    (tmp_path / "secret").write_text(STRONG + "\n")
    (tmp_path / "keys").write_text(f"{KEY1},{KEY2}\n")
    result = _settings({"RAPPORT_SECRET_KEY_FILE": str(tmp_path / "secret"),
                        "RAPPORT_ENCRYPTION_KEYS_FILE": str(tmp_path / "keys")}, tmp_path)
    assert result.stdout.split() == ["production", "False", "True", "2", "Argon2PasswordHasher"]


def test_demo_generates_its_own_keys_under_var(tmp_path):
    result = _settings({"RAPPORT_MODE": "demo"}, tmp_path)
    assert result.stdout.split() == ["demo", "True", "True", "1", "Argon2PasswordHasher"]
    assert (tmp_path / "encryption_key").stat().st_mode & 0o077 == 0
    key = (tmp_path / "secret_key").read_text()
    again = _settings({"RAPPORT_MODE": "demo"}, tmp_path)
    assert again.returncode == 0
    assert (tmp_path / "secret_key").read_text() == key  # reused, not regenerated


def test_unknown_mode_and_bad_boolean_are_rejected(tmp_path):
    assert "RAPPORT_MODE must be one of" in _settings({"RAPPORT_MODE": "prod"}, tmp_path).stderr
    bad = _settings({"RAPPORT_MODE": "demo", "RAPPORT_DEBUG": "yes"}, tmp_path)
    assert "RAPPORT_DEBUG must be 'true' or 'false'" in bad.stderr


@pytest.mark.parametrize("secret", ["s" * 50, "short-but-varied-123", "django-insecure-" + "x1y2z3" * 10])
def test_production_refuses_a_weak_secret_key(tmp_path, secret):
    result = _settings({"RAPPORT_SECRET_KEY": secret, "RAPPORT_ENCRYPTION_KEYS": KEY1}, tmp_path)
    assert result.returncode != 0
    assert "RAPPORT_SECRET_KEY is too weak" in result.stderr


@pytest.mark.parametrize("keys", ["k", f"{KEY1},not-a-key", "AAAA"])
def test_production_refuses_malformed_encryption_keys(tmp_path, keys):
    result = _settings({"RAPPORT_SECRET_KEY": STRONG, "RAPPORT_ENCRYPTION_KEYS": keys}, tmp_path)
    assert result.returncode != 0
    assert "is not a valid Fernet key" in result.stderr
    assert KEY1 not in result.stderr  # the error names the key's position, never a key


def test_production_refuses_a_malformed_trusted_proxy(tmp_path):
    result = _settings({"RAPPORT_SECRET_KEY": STRONG, "RAPPORT_ENCRYPTION_KEYS": KEY1,
                        "RAPPORT_TRUSTED_PROXIES": "10.0.0.0/8,proxy.internal"}, tmp_path)
    assert result.returncode != 0
    assert "RAPPORT_TRUSTED_PROXIES: 'proxy.internal'" in result.stderr


MESSAGING = ("import rapport.settings as s; print(s.EMAIL_BACKEND, s.SMS_BACKEND, sorted(s.ANYMAIL.items()), "
             "'anymail' in s.INSTALLED_APPS)")


def _messaging(env: dict, tmp_path) -> list[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RAPPORT_")}
    clean.update({"RAPPORT_MODE": "demo", "RAPPORT_VAR_DIR": str(tmp_path), **env})
    result = subprocess.run([sys.executable, "-c", MESSAGING], env=clean, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().split(maxsplit=2)


def test_the_demo_prints_text_messages_and_anymail_is_off_unless_named(tmp_path):
    email, sms, rest = _messaging({}, tmp_path)
    assert sms == "rapport.core.sms.ConsoleBackend"
    assert not email.startswith("anymail.") and rest == "[] False"


def test_an_email_providers_api_through_anymail_takes_its_settings_from_the_environment(tmp_path):
    email, _sms, rest = _messaging({"RAPPORT_EMAIL_BACKEND": "anymail.backends.postmark.EmailBackend",
                                    "RAPPORT_ANYMAIL_POSTMARK_SERVER_TOKEN": "token-1"}, tmp_path)
    assert email == "anymail.backends.postmark.EmailBackend"
    assert rest == "[('POSTMARK_SERVER_TOKEN', 'token-1')] True"  # the app that reads them is installed
