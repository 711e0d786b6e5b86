"""Existing TOTP seeds and recovery codes move out of django-otp's plain-text tables in place."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


@pytest.mark.django_db(transaction=True)
def test_seeds_are_encrypted_and_codes_hashed_by_the_migration():
    executor = MigrationExecutor(connection)
    before = [("accounts", "0001_initial")] + [
        node for node in executor.loader.graph.leaf_nodes() if node[0] in ("otp_totp", "otp_static")]
    executor.migrate([("accounts", "0001_initial")])
    apps = executor.loader.project_state(before).apps
    User = apps.get_model("accounts", "User")
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    StaticDevice = apps.get_model("otp_static", "StaticDevice")
    StaticToken = apps.get_model("otp_static", "StaticToken")
    user = User.objects.create(email="t@x.test", password="!", name="T")
    seed = "3132333435363738393031323334353637383930"
    TOTPDevice.objects.create(user=user, name="app", confirmed=True, key=seed, last_t=7)
    static = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    StaticToken.objects.create(device=static, token="abcd2345efgh6789")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    from rapport.accounts.models import AuthenticatorDevice, RecoveryCodes

    device = AuthenticatorDevice.objects.get(user_id=user.pk)
    assert (device.secret, device.last_t, device.confirmed) == (seed, 7, True)
    codes = RecoveryCodes.objects.get(user_id=user.pk)
    assert codes.verify_token("abcd2345efgh6789")
    assert not codes.verify_token("abcd2345efgh6789")  # single use, as before
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM accounts_authenticatordevice")
        assert seed not in cursor.fetchone()[0]
        for table in ("otp_totp_totpdevice", "otp_static_statictoken"):
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
            assert cursor.fetchone()[0] == 0
