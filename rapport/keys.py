"""The site's keys, read from the environment (or files) and checked for the mode it runs in.

SECRET_KEY, the Fernet keys of encrypted fields (RAPPORT_ENCRYPTION_KEYS, newest first) and the
keys of the blind indexes over encrypted e-mail addresses and phone numbers (rapport.core.
blind_index; optional, derived from the encryption keys when unset). Each may come from NAME or
from the file named by NAME_FILE. The demo generates its keys under var/ on first use; tests use
fixed ones; production refuses to start without them, or with weak or malformed ones.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def env_secret(name: str) -> str:
    """A secret from NAME, or from the file named by NAME_FILE; empty when neither is set."""
    value = os.getenv(name, "")
    path = os.getenv(f"{name}_FILE")
    if not value and path:
        value = Path(path).read_text().strip()
    return value


def _listed(name: str) -> list[str]:
    return [k.strip() for k in env_secret(name).split(",") if k.strip()]


def _demo_secret(var_dir: Path, filename: str, make) -> str:
    """Read a generated secret under var/, creating it on first use (demo mode only)."""
    path = var_dir / filename
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def read(mode: str, var_dir: Path) -> tuple[str, list[str], list[str]]:
    """(SECRET_KEY, ENCRYPTION_KEYS, BLIND_INDEX_KEYS) for `mode`; ImproperlyConfigured if unfit."""
    secret_key = env_secret("RAPPORT_SECRET_KEY")
    encryption_keys = _listed("RAPPORT_ENCRYPTION_KEYS")
    blind_index_keys = _listed("RAPPORT_BLIND_INDEX_KEYS")
    if mode == "demo":
        from cryptography.fernet import Fernet
        from django.core.management.utils import get_random_secret_key

        secret_key = secret_key or _demo_secret(var_dir, "secret_key", get_random_secret_key)
        encryption_keys = encryption_keys or [
            _demo_secret(var_dir, "encryption_key", lambda: Fernet.generate_key().decode())
        ]
    elif mode == "test":
        secret_key = secret_key or "test-secret-key-not-for-production"  # noqa: S105
        # Two fixed Fernet keys: the first encrypts, both decrypt (tests rotate between them).
        encryption_keys = encryption_keys or [
            "cmFwcG9ydC10ZXN0LWtleS0xLS0tLS0tLS0tLS0tLS0=",
            "cmFwcG9ydC10ZXN0LWtleS0yLS0tLS0tLS0tLS0tLS0=",
        ]
    else:
        _check_production(secret_key, encryption_keys, blind_index_keys)
    return secret_key, encryption_keys, blind_index_keys


def _check_production(secret_key: str, encryption_keys: list[str], blind_index_keys: list[str]):
    missing = [name for name, value in (("RAPPORT_SECRET_KEY", secret_key),
                                        ("RAPPORT_ENCRYPTION_KEYS", encryption_keys)) if not value]
    if missing:
        raise ImproperlyConfigured(
            f"Production mode needs {' and '.join(missing)} (or set RAPPORT_MODE=demo for a trial)."
        )
    # Django's own bar for a secret key (its check security.W009): at least 50 characters, at
    # least 5 different ones, not one of its generated "insecure" placeholders.
    if (len(secret_key) < 50 or len(set(secret_key)) < 5
            or secret_key.startswith("django-insecure-")):
        raise ImproperlyConfigured(
            "RAPPORT_SECRET_KEY is too weak: use at least 50 random characters (make one with "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`)."
        )
    from cryptography.fernet import Fernet

    for index, key in enumerate(encryption_keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"RAPPORT_ENCRYPTION_KEYS: key {index} is not a valid Fernet key (32 url-safe "
                "base64-encoded bytes; see README, Production)."
            ) from None
    if any(len(key) < 32 for key in blind_index_keys):
        raise ImproperlyConfigured("RAPPORT_BLIND_INDEX_KEYS: every key needs at least 32 characters.")
