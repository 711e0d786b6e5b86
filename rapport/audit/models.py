"""The audit trail: an append-only record of who saw or changed what."""

from __future__ import annotations

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from rapport.core import statements


class AuditEventError(Exception):
    """Raised on an attempt to change or delete an audit event."""


class AuditEvent(models.Model):
    """One read or write of clinical data (or another event worth a trail).

    Append-only: saving an existing event or deleting one raises. Identifiers are copied rather
    than linked, so the trail outlives the rows it speaks of.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, on_delete=models.PROTECT, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    # Who acted when there is no staff user: "client:<code>", "system", "cli".
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=100, db_index=True)  # dotted, e.g. "care.episode.viewed"
    object_type = models.CharField(max_length=100, blank=True)
    object_code = models.CharField(max_length=64, blank=True)
    client_code = models.UUIDField(null=True, db_index=True)
    ip_address = models.GenericIPAddressField(null=True)
    detail = models.JSONField(default=dict, blank=True)
    # The hash chain (rapport.audit.chain): the event's place, and what it must hash to.
    seq = models.BigIntegerField(null=True, unique=True, editable=False)
    content_digest = models.CharField(max_length=64, blank=True, editable=False)
    row_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.object_code}"

    def save(self, *args, head=None, **kwargs):
        """Append the event (`head`: the chain's head read under its lock by the caller, see
        `rapport.audit.services.record`)."""
        if self.pk is not None:
            raise AuditEventError("audit events are append-only")
        from rapport.audit import chain

        # No savepoint: an event that cannot be appended fails the whole transaction anyway.
        with transaction.atomic(savepoint=False):
            chain.seal(self, AuditEvent, head)  # takes the append lock first, unless held
            statements.insert(self)  # as Model.save() would, its INSERT written once

    def delete(self, *args, **kwargs):
        raise AuditEventError("audit events are append-only")
