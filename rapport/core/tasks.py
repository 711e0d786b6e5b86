"""What every background task shares: the retry policy, queueing after commit, the record of a
task that failed for good, and the outgoing email task.

Tasks themselves live in each app's `tasks.py` (found by rapport/celery.py).
"""

from __future__ import annotations

import json
import logging
import time
import traceback

from celery import shared_task
from celery.signals import before_task_publish, task_failure
from django.core.mail import send_mail
from django.db import transaction

log = logging.getLogger(__name__)

# Retries with exponential backoff (2, 4, 8 ... s, at most 10 min apart, with jitter); after the
# last one the task is recorded as a TaskFailure with its inputs.
RETRY_BACKOFF_MAX = 600
RETRY = {"autoretry_for": (Exception,), "retry_backoff": 2, "retry_backoff_max": RETRY_BACKOFF_MAX,
         "retry_jitter": True, "max_retries": 8}

# Message header with the time a task was queued: /healthz reads it off the oldest message.
SENT_AT = "rapport_sent_at"


@before_task_publish.connect(dispatch_uid="rapport.core.tasks.stamp")
def _stamp(headers=None, **kwargs) -> None:
    if headers is not None:
        headers.setdefault(SENT_AT, time.time())


def record_failure(task_name: str, task_id: str, args, kwargs, error: str, retries: int = 0):
    from rapport.core.models import TaskFailure

    return TaskFailure.objects.create(
        task_id=task_id or "", task_name=task_name, retries=retries, error=error,
        arguments=json.dumps({"args": list(args or ()), "kwargs": dict(kwargs or {})},
                             default=str),
    )


@task_failure.connect(dispatch_uid="rapport.core.tasks.failed")
def _failed(sender=None, task_id=None, exception=None, args=None, kwargs=None, einfo=None,
            **extra) -> None:
    """A task's last try failed: keep its inputs where an administrator sees them."""
    error = str(einfo) if einfo is not None else repr(exception)
    retries = getattr(getattr(sender, "request", None), "retries", 0) or 0
    try:
        record_failure(getattr(sender, "name", str(sender)), task_id, args, kwargs, error, retries)
    except Exception:  # the database is down too: the log is all that is left
        log.exception("task %s (%s) failed and could not be recorded: args=%r kwargs=%r",
                      getattr(sender, "name", sender), task_id, args, kwargs)


def enqueue(task, *args, **kwargs) -> None:
    """Queue `task` now; if the broker refuses, record it as failed (with its inputs) rather
    than lose it, and log why."""
    try:
        task.delay(*args, **kwargs)
    except Exception as exc:
        if getattr(task.app.conf, "task_always_eager", False):
            raise  # eager (tests): the task itself failed, and says so
        log.exception("could not queue %s", task.name)
        record_failure(task.name, "", args, kwargs,
                       "could not be queued: " + "".join(traceback.format_exception(exc)))


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Queue `task` once the current transaction commits (at once outside a transaction), so a
    worker never reads data that is not yet committed, nor acts on a rolled-back change."""
    transaction.on_commit(lambda: enqueue(task, *args, **kwargs), robust=True)


@shared_task(**RETRY)
def send_email(subject: str, message: str, recipients: list[str],
               from_email: str | None = None) -> int:
    """Every outgoing email goes through here (Django's email framework; the console or a file
    in the demo, SMTP in production)."""
    return send_mail(subject=subject, message=message, from_email=from_email,
                     recipient_list=recipients)


def queue_email(subject: str, message: str, recipients: list[str]) -> None:
    """Send an email from a worker. Queued at once, not on commit: the task reads nothing from
    the database, and callers send after their own transaction has committed."""
    enqueue(send_email, subject, message, list(recipients))
