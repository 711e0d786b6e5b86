"""Authenticated encryption of free text at rest, with key rotation.

Keys come from settings.ENCRYPTION_KEYS (RAPPORT_ENCRYPTION_KEYS, comma-separated Fernet keys,
newest first). The newest key encrypts; every listed key decrypts, so a new key can be put in
front, everything re-encrypted with `rapport manage rotate_encryption_keys`, and the old key
then dropped. Fernet is AES-128-CBC with an HMAC-SHA256 tag: tampered tokens fail to decrypt.
"""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed


class DecryptionError(Exception):
    """A stored value could not be decrypted with any configured key."""


@cache
def _fernet() -> MultiFernet:
    keys = settings.ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured("RAPPORT_ENCRYPTION_KEYS is empty")
    fernets = []
    for index, key in enumerate(keys):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(
                f"RAPPORT_ENCRYPTION_KEYS: key {index + 1} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes; make one with "
                "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`)"
            ) from exc
    return MultiFernet(fernets)


def _reset(*, setting: str, **kwargs) -> None:
    if setting == "ENCRYPTION_KEYS":
        _fernet.cache_clear()


setting_changed.connect(_reset)


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise DecryptionError("stored value cannot be decrypted with the configured keys") from exc


def rotate(token: str) -> str:
    """Re-encrypt a token under the newest key (decrypting with whichever key fits)."""
    try:
        return _fernet().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise DecryptionError("stored value cannot be decrypted with the configured keys") from exc


def is_current(token: str) -> bool:
    """Whether a token was made with the newest key (used to skip work when rotating)."""
    newest = Fernet(settings.ENCRYPTION_KEYS[0])
    try:
        newest.decrypt(token.encode("ascii"))
    except InvalidToken:
        return False
    return True
