"""Move every TOTP seed and recovery code out of django-otp's plain-text tables, in place.

Seeds are copied into AuthenticatorDevice (encrypted by its field); each unused recovery code
is kept only as its digest. The plain rows are then deleted, so neither the database nor a
later backup holds them. Staff keep their authenticator app and their unused recovery codes.
"""

import hashlib

from django.db import migrations


def forwards(apps, schema_editor):
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    StaticDevice = apps.get_model("otp_static", "StaticDevice")
    AuthenticatorDevice = apps.get_model("accounts", "AuthenticatorDevice")
    RecoveryCodes = apps.get_model("accounts", "RecoveryCodes")
    RecoveryCode = apps.get_model("accounts", "RecoveryCode")
    for old in TOTPDevice.objects.all():
        AuthenticatorDevice.objects.create(
            user_id=old.user_id, name=old.name, confirmed=old.confirmed, secret=old.key,
            step=old.step, t0=old.t0, digits=old.digits, tolerance=old.tolerance,
            drift=old.drift, last_t=old.last_t,
        )
    TOTPDevice.objects.all().delete()
    for old in StaticDevice.objects.all():
        new = RecoveryCodes.objects.create(user_id=old.user_id, name=old.name, confirmed=old.confirmed)
        RecoveryCode.objects.bulk_create(
            RecoveryCode(device=new, digest=hashlib.sha256(t.token.strip().lower().encode()).hexdigest())
            for t in old.token_set.all()
        )
    StaticDevice.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_sealed_second_factors"),
        ("otp_totp", "__latest__"),
        ("otp_static", "__latest__"),
    ]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
