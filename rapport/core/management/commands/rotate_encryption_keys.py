"""Re-encrypt every encrypted field under the newest key in RAPPORT_ENCRYPTION_KEYS.

Put the new key first, keep the old ones after it, run this command, then drop the old keys.
Safe to interrupt and run again: values already under the newest key are skipped. It then
recomputes every blind index (rapport.core.blind_index) under the newest index key, so the old
keys can go from RAPPORT_BLIND_INDEX_KEYS (or RAPPORT_ENCRYPTION_KEYS) too.
"""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import TextField, Value
from django.db.models.functions import Cast
from django_scopes import scopes_disabled

from rapport.core import crypto
from rapport.core.fields import blind_index_fields, encrypted_fields

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
                    manager.annotate(_token=Cast(field.attname, output_field=TextField()))
                    .exclude(_token="")
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
            reindexed = self._reindex()
        self.stdout.write(self.style.SUCCESS(
            f"{total} values now under the newest key; {reindexed} blind indexes recomputed"))

    def _reindex(self) -> int:
        """Recompute blind indexes that were made with an older key (or are missing)."""
        by_model: dict = {}
        for model, field in blind_index_fields():
            by_model.setdefault(model, []).append(field)
        total = 0
        for model, fields in by_model.items():
            manager = model._base_manager
            for row in manager.order_by("pk").iterator(chunk_size=BATCH):
                stale = {f.attname: new for f in fields
                         if (new := f.index_of(row)) != getattr(row, f.attname)}
                if stale:
                    manager.filter(pk=row.pk).update(**stale)
                    total += len(stale)
        return total
