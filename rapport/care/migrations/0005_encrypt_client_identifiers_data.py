"""Encrypt clients' names, contact details and dates of birth in place; index e-mail and phone.

Forward (after 0004 made the columns text): every non-empty value is encrypted under the newest key of
RAPPORT_ENCRYPTION_KEYS (values that already decrypt are left alone, so a rerun is harmless) and
the blind indexes are computed. Backward (`rapport manage migrate care 0003`): every value is
decrypted back to plain text, then 0004 backward returns the columns to their old types. Both
directions need the encryption keys.
"""

from django.db import migrations
from django.db.models import TextField, Value
from django.db.models.functions import Cast

from rapport.core import blind_index, crypto

FIELDS = ("name", "preferred_name", "email", "phone", "emergency_contact", "date_of_birth")
INDEXES = {"email_index": ("email", "email"), "phone_index": ("phone", "phone")}


def _raw_rows(Client):
    """(pk, {field: stored text}) read past the fields' decryption."""
    rows = Client._base_manager.annotate(
        **{f"raw_{f}": Cast(f, output_field=TextField()) for f in FIELDS}
    ).values_list("pk", *(f"raw_{f}" for f in FIELDS)).order_by("pk")
    for pk, *values in rows.iterator(chunk_size=500):
        yield pk, dict(zip(FIELDS, values, strict=True))


def _plain(value: str) -> str:
    try:
        return crypto.decrypt(value)
    except crypto.DecryptionError:
        return value  # not a token: still plain text


def encrypt(apps, schema_editor):
    Client = apps.get_model("care", "Client")
    for pk, stored in _raw_rows(Client):
        plain = {f: _plain(v) for f, v in stored.items() if v}  # "" and NULL stay as they are
        update = {f: Value(crypto.encrypt(v), output_field=TextField()) for f, v in plain.items()}
        update |= {index: blind_index.compute(kind, plain.get(source, ""))
                   for index, (source, kind) in INDEXES.items()}
        Client._base_manager.filter(pk=pk).update(**update)


def decrypt(apps, schema_editor):
    Client = apps.get_model("care", "Client")
    for pk, stored in _raw_rows(Client):
        plain = {f: Value(crypto.decrypt(v), output_field=TextField()) for f, v in stored.items() if v}
        if plain:
            Client._base_manager.filter(pk=pk).update(**plain)


class Migration(migrations.Migration):

    dependencies = [
        ('care', '0004_encrypted_client_identifier_columns'),
    ]

    operations = [
        migrations.RunPython(encrypt, decrypt, elidable=False),
    ]
