"""Re-encrypt every encrypted field under the newest key in RAPPORT_ENCRYPTION_KEYS.

Put the new key first, keep the old ones after it, run this command, then drop the old keys.
Safe to interrupt and run again: values already under the newest key are skipped.
"""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import TextField, Value
from django.db.models.functions import Cast
from django_scopes import scopes_disabled

from rapport.core import crypto
from rapport.core.fields import encrypted_fields

BATCH = 500


class Command(BaseCommand):
    help = "Re-encrypt all encrypted fields under the newest key."

    def handle(self, *args, **options):
        total = 0
        with scopes_disabled():
            for model, field in encrypted_fields():
                changed = 0
                manager = model._base_manager
                # Read the stored tokens themselves: the cast bypasses the field's decryption.
                rows = (
                    manager.exclude(**{field.attname: ""})
                    .annotate(_token=Cast(field.attname, output_field=TextField()))
                    .values_list("pk", "_token")
                    .order_by("pk")
                )
                for pk, token in rows.iterator(chunk_size=BATCH):
                    if token is None or crypto.is_current(token):
                        continue
                    with transaction.atomic():
                        manager.filter(pk=pk).update(
                            **{field.attname: Value(crypto.rotate(token), output_field=TextField())}
                        )
                    changed += 1
                total += changed
                self.stdout.write(f"{model._meta.label}.{field.name}: {changed} re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"{total} values now under the newest key"))
