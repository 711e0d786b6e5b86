"""API tokens: per practice, acting as one of its staff, with scopes, stored as a hash only."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

# Resources and what a token may do with each. FHIR is read only.
READ_ONLY = ("clients", "episodes", "sessions", "fhir")
READ_WRITE = ("checkins", "responses", "alerts", "goals")
SCOPES = tuple(f"{r}:read" for r in (*READ_ONLY, *READ_WRITE)) + tuple(f"{r}:write" for r in READ_WRITE)


class ApiToken(models.Model):
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=100)
    # The staff member the token acts as: it reaches exactly what they reach on the pages.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                   related_name="+")
    prefix = models.CharField(max_length=12, unique=True)  # shown in lists and the audit trail
    digest = models.CharField(max_length=64, unique=True)  # SHA-256 of the whole token
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def starts_with(self) -> str:
        """How the token's secret begins, to tell tokens apart in a list (never the secret)."""
        return f"rpt_{self.prefix}"

    def is_usable(self, at=None) -> bool:
        at = at or timezone.now()
        return self.revoked_at is None and self.expires_at > at

    def allows(self, scope: str) -> bool:
        return scope in self.scopes
