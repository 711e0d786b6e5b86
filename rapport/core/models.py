from django.db import models
from django.utils import timezone

from rapport.core.fields import EncryptedTextField


class TokenBucket(models.Model):
    """A rate limit held in the database, keyed on a keyed hash (never the raw email or address).

    Shared by every app that needs one (logins, emailed links): see rapport.core.ratelimit.
    """

    key = models.CharField(max_length=100, unique=True)
    tokens = models.FloatField()
    updated = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key}: {self.tokens:.1f}"


class TaskFailure(models.Model):
    """A background task that failed for good (its retries used up): kept with its inputs.

    Nothing is silently lost: an administrator sees the count at /healthz and the failures with
    `rapport manage failed_tasks`, and can queue one again (`--retry ID`) once the cause is
    fixed. The inputs may name a client (an email's text), so they are encrypted at rest.
    """

    task_id = models.CharField(max_length=64)
    task_name = models.CharField(max_length=200)
    arguments = EncryptedTextField()  # JSON: {"args": [...], "kwargs": {...}}
    error = EncryptedTextField()  # the exception and its traceback
    retries = models.PositiveIntegerField(default=0)
    failed_at = models.DateTimeField(default=timezone.now)
    requeued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-failed_at", "-id"]
        indexes = [models.Index(fields=["requeued_at", "failed_at"])]

    def __str__(self) -> str:
        return f"{self.task_name} ({self.task_id}) failed at {self.failed_at:%Y-%m-%d %H:%M}"
