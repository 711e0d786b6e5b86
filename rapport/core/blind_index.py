"""Keyed blind indexes: exact search over encrypted values without decrypting every row.

An encrypted column (rapport.core.fields) stores a fresh Fernet token for each write, so equal
values never compare equal in SQL. Beside such a column, a blind index column stores
HMAC-SHA256(key, kind || normalised value): equal values give equal indexes, and without the key
an index reveals nothing (it cannot be reversed or checked against a guessed address offline).

The key: RAPPORT_BLIND_INDEX_KEYS (comma-separated secrets of at least 32 characters, newest
first) when set, otherwise derived (HKDF-SHA256) from each key in RAPPORT_ENCRYPTION_KEYS. New
indexes use the newest key; a search matches an index made with any listed key, so a new key can
be put in front and `rapport manage rotate_encryption_keys` (which also recomputes every index)
run at leisure.

Values are normalised before hashing: e-mail addresses trimmed and case-folded, phone numbers
reduced to their digits, anything else trimmed, NFKC-normalised and case-folded.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from functools import cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

KINDS = ("email", "phone", "text")
MIN_KEY_LENGTH = 32


def normalise(kind: str, value: str | None) -> str:
    """The form of a value that is indexed: equal after this means "the same"."""
    value = unicodedata.normalize("NFKC", value or "").strip()
    if kind == "phone":
        return re.sub(r"\D", "", value)
    if kind in ("email", "text"):
        return " ".join(value.casefold().split())
    raise ValueError(f"unknown blind index kind: {kind}")


def _derive(secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"rapport blind index v1").derive(secret.encode())


@cache
def _keys() -> tuple[bytes, ...]:
    own = list(getattr(settings, "BLIND_INDEX_KEYS", []) or [])
    for index, secret in enumerate(own, start=1):
        if len(secret) < MIN_KEY_LENGTH:
            raise ImproperlyConfigured(
                f"RAPPORT_BLIND_INDEX_KEYS: key {index} needs at least {MIN_KEY_LENGTH} characters")
    secrets = own or list(settings.ENCRYPTION_KEYS)
    if not secrets:
        raise ImproperlyConfigured("RAPPORT_ENCRYPTION_KEYS is empty")
    return tuple(_derive(s) for s in secrets)


def _reset(*, setting: str, **kwargs) -> None:
    if setting in ("ENCRYPTION_KEYS", "BLIND_INDEX_KEYS"):
        _keys.cache_clear()


setting_changed.connect(_reset)


def _mac(key: bytes, kind: str, normalised: str) -> str:
    return hmac.new(key, f"{kind}\x00{normalised}".encode(), hashlib.sha256).hexdigest()


def compute(kind: str, value: str | None) -> str:
    """The index to store for a value (newest key); "" for an empty value."""
    normalised = normalise(kind, value)
    return _mac(_keys()[0], kind, normalised) if normalised else ""


def candidates(kind: str, value: str | None) -> list[str]:
    """Every index this value may be stored under (one per key); [] for an empty value."""
    normalised = normalise(kind, value)
    return [_mac(key, kind, normalised) for key in _keys()] if normalised else []
