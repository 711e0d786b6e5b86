"""The client portal's own rows: emailed login links."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager


class LoginLink(models.Model):
    """A single-use, expiring portal login link for one client; only its hash is stored."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey("care.Client", on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="organisation")

    def __str__(self) -> str:
        return f"Login link {self.pk}"
