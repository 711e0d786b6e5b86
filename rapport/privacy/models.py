"""Client rights: the retention policy of a practice, and the record of each erasure."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RetentionPolicy(models.Model):
    """How long a practice keeps a client's data, and whether de-identified scores outlive it.

    Retention periods are set by each practice's law and professional body (they differ between
    countries and professions), so there is no default period: until one is set, data is kept
    until an administrator erases it on request.
    """

    organisation = models.OneToOneField("accounts.Organisation", on_delete=models.CASCADE,
                                        related_name="retention_policy")
    retain_days_after_last_episode = models.PositiveIntegerField(
        null=True, blank=True,
        help_text=_("Erase a client this many days after their last episode ended; empty keeps data "
                  "until it is erased on request."),
    )
    keep_deidentified_scores = models.BooleanField(
        default=False,
        help_text=_("After erasure, keep questionnaire scores without anything that identifies the "
                  "client (for the practice's outcome statistics)."),
    )
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Retention policy of {self.organisation}"


class Erasure(models.Model):
    """That a client's data was erased, by whom, why and what was kept: never who the client was."""

    class Trigger(models.TextChoices):
        REQUEST = "request", _("The client's request")
        RETENTION = "retention", _("The retention policy")

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    reason = models.CharField(max_length=500, blank=True)
    kept_deidentified_scores = models.BooleanField()
    counts = models.JSONField(default=dict)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"Erasure {self.code} on {self.at:%Y-%m-%d}"
