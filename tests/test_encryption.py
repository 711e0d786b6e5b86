"""Free text is encrypted at rest, tamper-evident, and re-encrypted when keys rotate."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django_scopes import scopes_disabled

from rapport.care.models import CareEpisode
from rapport.core import crypto


def _raw(episode) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT presenting_concerns FROM {CareEpisode._meta.db_table} WHERE id = %s", [episode.pk]
        )
        return cursor.fetchone()[0]


def _key_used(token: str, key: str) -> bool:
    try:
        Fernet(key).decrypt(token.encode())
    except Exception:
        return False
    return True


def test_raw_column_holds_no_plaintext(practice):
    raw = _raw(practice.episode)
    assert "sleep" not in raw
    assert raw.startswith("gAAAA")  # a Fernet token
    with scopes_disabled():
        assert CareEpisode.objects.get(pk=practice.episode.pk).presenting_concerns.endswith("sleep")


def test_same_text_encrypts_differently_each_time():
    assert crypto.encrypt("same") != crypto.encrypt("same")


def test_empty_text_stays_empty(practice):
    with scopes_disabled():
        practice.episode.presenting_concerns = ""
        practice.episode.save()
    assert _raw(practice.episode) == ""


def test_tampered_token_is_refused(practice):
    token = _raw(practice.episode)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:])


def test_rotation_re_encrypts_under_the_newest_key(practice, settings):
    old_key = settings.ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    assert _key_used(_raw(practice.episode), old_key)

    settings.ENCRYPTION_KEYS = [new_key, *settings.ENCRYPTION_KEYS]
    call_command("rotate_encryption_keys", stdout=open("/dev/null", "w"))
    token = _raw(practice.episode)
    assert _key_used(token, new_key)
    assert not _key_used(token, old_key)

    # The old key can now go: everything still reads.
    settings.ENCRYPTION_KEYS = [new_key]
    with scopes_disabled():
        episodes = {e.pk: e.presenting_concerns for e in CareEpisode.objects.all()}
    assert episodes[practice.episode.pk] == "Riverside Client worries about sleep"


def test_rotation_is_idempotent(practice, settings, capsys):
    call_command("rotate_encryption_keys")
    out = capsys.readouterr().out
    assert "care.CareEpisode.presenting_concerns: 0 re-encrypted" in out


def test_text_under_an_unknown_key_fails_loudly(practice, settings):
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with scopes_disabled(), pytest.raises(crypto.DecryptionError):
        CareEpisode.objects.get(pk=practice.episode.pk)


def test_malformed_key_is_a_configuration_error(settings):
    settings.ENCRYPTION_KEYS = ["not-a-key"]
    with pytest.raises(ImproperlyConfigured, match="key 1 is not a valid Fernet key"):
        crypto.encrypt("x")
