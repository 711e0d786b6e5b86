"""What every background task shares: the retry policy, queueing after commit, the record of a
task that failed for good, and the outgoing email task.

Tasks themselves live in each app's `tasks.py` (found by rapport/celery.py).
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from celery import shared_task
from celery.signals import before_task_publish, task_failure
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django_scopes import get_scope, scopes_disabled

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


# How a failed task's practice is found from its inputs, so that the practice's administrators
# see it on their failed-task page: {parameter name: lookup(value) -> organisation id}. The
# apps that own the ids register theirs in AppConfig.ready (`register_owner`).
OWNERS: dict[str, Callable[[Any], int | None]] = {"organisation_id": int}


def register_owner(parameter: str, model) -> None:
    """A task input named `parameter` is the id of a `model` row (one with an organisation):
    a failure of the task belongs to that row's practice."""
    def lookup(pk) -> int:
        with scopes_disabled():
            return model.objects.filter(pk=pk).values_list("organisation_id", flat=True).get()

    OWNERS[parameter] = lookup


def inputs_of(task_name: str, args, kwargs) -> dict[str, Any]:
    """The task's inputs by parameter name ({"args": [...]} when the task is unknown or they
    do not fit its signature)."""
    from rapport.celery import app

    if task_name not in app.tasks:
        app.loader.import_default_modules()  # every app's tasks.py (discovered lazily)
    task = app.tasks.get(task_name)
    try:
        return dict(inspect.signature(task.run).bind_partial(*(args or ()), **(kwargs or {}))
                    .arguments)
    except (AttributeError, TypeError, ValueError):
        return {"args": list(args or ()), **dict(kwargs or {})}


def owner_of(task_name: str, args, kwargs) -> int | None:
    """The practice a task's inputs belong to, or None (the whole installation, or unknown)."""
    for name, value in inputs_of(task_name, args, kwargs).items():
        lookup = OWNERS.get(name)
        if lookup is not None and value is not None:
            try:
                return lookup(value)
            except Exception:  # the row is gone, or the input is malformed: nobody's
                log.warning("no practice found for %s=%r of %s", name, value, task_name)
                return None
    return None


def record_failure(task_name: str, task_id: str, args, kwargs, error: str, retries: int = 0):
    from rapport.core.models import TaskFailure

    return TaskFailure.objects.create(
        task_id=task_id or "", task_name=task_name, retries=retries, error=error,
        arguments=json.dumps({"args": list(args or ()), "kwargs": dict(kwargs or {})},
                             default=str),
        organisation_id=owner_of(task_name, args, kwargs),
    )


class NotRequeued(Exception):
    """A failed task that cannot be queued again; the message says why."""


def requeue(failure):
    """Queue a failed task again with the same inputs and mark it queued (once only)."""
    from rapport.celery import app
    from rapport.core.models import TaskFailure

    with transaction.atomic():
        failure = TaskFailure.objects.select_for_update(no_key=True).get(pk=failure.pk)
        if failure.requeued_at is not None:
            raise NotRequeued(f"failed task {failure.pk} was queued again already")
        if failure.task_name not in app.tasks:
            app.loader.import_default_modules()
        task = app.tasks.get(failure.task_name)
        if task is None:
            raise NotRequeued(f"no task named {failure.task_name!r} in this version")
        inputs = json.loads(failure.arguments or "{}")
        failure.requeued_at = timezone.now()
        failure.save(update_fields=["requeued_at"])
    # Queued once marked: a broker that refuses it records a new failure (see `enqueue`).
    enqueue(task, *inputs.get("args", []), **inputs.get("kwargs", {}))
    return failure


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
    _publish(task, args, kwargs)


# enqueue_soon: per task and arguments, when the one this process queued last starts.
_soon: dict[tuple, float] = {}
_soon_lock = threading.Lock()


def enqueue_soon(task, *args, delay: float = 0.25, margin: float = 0.05) -> None:
    """Queue `task(*args)` to start in `delay` seconds, unless one queued already starts at
    least `margin` seconds from now: that one then serves this call too.

    For a task that acts on whatever is committed when it starts (a sweep), called after the
    caller's commit: a burst of calls costs one message every `delay` seconds instead of one
    each, and one start every `delay` seconds, whatever acts on what a burst leaves. On a Redis
    broker the queued start is shared by every process (`_queued_elsewhere`), elsewhere known to
    this process only: each web process then queues its own, and a burst is acted on once per
    `delay` per process. Publishing a message costs a web process about 1.3 ms of CPU, a
    quarter of a check-in's answer. `margin` covers clock differences between the web and worker
    machines; what a lost or early start misses is left to the task's periodic run. Eager
    (tests): queued, and so run, at every call.
    """
    if getattr(task.app.conf, "task_always_eager", False):
        _publish(task, args, {})
        return
    key, now = (task.name, *args), time.time()
    with _soon_lock:
        if _soon.get(key, 0.0) - margin > now:
            return
        _soon[key] = now + delay  # this thread's: the process's other threads leave it to it
    queued = _queued_elsewhere(task, key, now + delay, margin)  # not under the lock: a network call
    if queued is not None:
        with _soon_lock:
            _soon[key] = queued
        return
    _publish(task, args, {}, countdown=delay)


@functools.cache
def _redis(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)


def _queued_elsewhere(task, key: tuple, start: float, margin: float) -> float | None:
    """Through a Redis broker: the start of the one another process queued for `key`, if it
    starts at least `margin` seconds from now; else None, and `start` is recorded there for
    the others (SET NX, or over a start too near), to be queued by the caller. Elsewhere, or
    with Redis not answering: None. The connection takes what the broker's URL says (its TLS
    parameters among them), not Celery's separate broker options (`broker_use_ssl`, a
    sentinel): with those, each process queues its own, as on other brokers."""
    url = getattr(task.app.conf, "broker_url", None)
    if not isinstance(url, str) or not url.startswith(("redis://", "rediss://")):
        return None
    name = f"rapport:soon:{task.app.conf.task_default_queue}:{json.dumps(key, default=str)}"
    expires = max(1, int((start - time.time()) * 1000))  # ms: gone once that start is past
    try:
        client = _redis(url)
        if client.set(name, repr(start), nx=True, px=expires):
            return None
        other = client.get(name)
        if other is not None and float(other) - margin > time.time():
            return float(other)
        client.set(name, repr(start), px=expires)
    except Exception as exc:  # Redis down: the publish that follows says so, or its own
        log.warning("could not share the start of %s through the broker: %s", key[0], exc)
    return None


def _publish(task, args, kwargs, **options) -> None:
    try:
        task.apply_async(args, kwargs, **options)
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
               from_email: str | None = None, organisation_id: int | None = None) -> int:
    """Every outgoing email goes through here (Django's email framework; the console or a file
    in the demo, SMTP in production). `organisation_id`: the practice it is sent for, kept
    with a failure so that the practice's administrators see it."""
    return send_mail(subject=subject, message=message, from_email=from_email,
                     recipient_list=recipients)


def _scoped_organisation() -> int | None:
    """The one practice the current scope is open for (a staff page, a practice's task)."""
    found = get_scope().get("organisation")
    if isinstance(found, list | tuple):
        found = found[0] if len(found) == 1 else None
    found = getattr(found, "pk", found)
    return found if isinstance(found, int) else None


def queue_email(subject: str, message: str, recipients: list[str],
                organisation_id: int | None = None) -> None:
    """Send an email from a worker. Queued at once, not on commit: the task reads nothing from
    the database, and callers send after their own transaction has committed. The practice is
    the one given, else the one the current scope is open for."""
    organisation_id = organisation_id or _scoped_organisation()
    kwargs = {"organisation_id": organisation_id} if organisation_id else {}
    enqueue(send_email, subject, message, list(recipients), **kwargs)
