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

    Nothing is silently lost: /healthz shows the count, a practice's administrators see theirs
    on the failed-task page (/practice/failed-tasks/) and the operator all of them with
    `rapport manage failed_tasks`; either can queue one again once the cause is fixed. The
    inputs may name a client (an email's text), so they are encrypted at rest.
    """

    task_id = models.CharField(max_length=64)
    task_name = models.CharField(max_length=200)
    arguments = EncryptedTextField()  # JSON: {"args": [...], "kwargs": {...}}
    error = EncryptedTextField()  # the exception and its traceback
    retries = models.PositiveIntegerField(default=0)
    failed_at = models.DateTimeField(default=timezone.now)
    requeued_at = models.DateTimeField(null=True, blank=True)
    # The practice whose administrators see it (rapport.core.tasks.owner_of); None: the whole
    # installation's (a nightly fan-out) or nobody's known. An id, not a link: core sits below
    # the accounts app.
    organisation_id = models.BigIntegerField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-failed_at", "-id"]
        indexes = [models.Index(fields=["requeued_at", "failed_at"])]

    def __str__(self) -> str:
        return f"{self.task_name} ({self.task_id}) failed at {self.failed_at:%Y-%m-%d %H:%M}"
