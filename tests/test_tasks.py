"""Shared task plumbing: failures kept with their inputs, queueing that never loses work, the
outgoing email task, the worker and scheduler commands (tasks run eagerly here)."""

from __future__ import annotations

import json
import time
from unittest import mock

import pytest
from django.core import mail
from django.core.management import call_command

from rapport.core import tasks
from rapport.core.models import TaskFailure


def test_an_email_is_sent_by_the_task(db):
    tasks.queue_email("Subject", "Body", ["client@example.org"])
    (sent,) = mail.outbox
    assert (sent.subject, sent.body, sent.to) == ("Subject", "Body", ["client@example.org"])


def test_a_task_failing_for_good_is_kept_with_its_inputs(db, client, monkeypatch):
    def smtp_down(**kwargs):
        raise ConnectionRefusedError("smtp down")

    from rapport.celery import app

    monkeypatch.setattr(tasks, "send_mail", smtp_down)
    app.conf.task_eager_propagates = False
    try:
        result = tasks.send_email.apply(args=("Subject", "Body", ["a@example.org"]))
    finally:
        app.conf.task_eager_propagates = True
    assert result.failed()
    (failure,) = TaskFailure.objects.all()
    assert failure.task_name == "rapport.core.tasks.send_email"
    assert failure.retries == tasks.RETRY["max_retries"]  # retried before giving up
    assert json.loads(failure.arguments) == {"args": ["Subject", "Body", ["a@example.org"]],
                                             "kwargs": {}}
    assert "smtp down" in failure.error
    assert client.get("/healthz").json()["failed_tasks"] == 1


def test_an_administrator_lists_and_requeues_a_failure(db, capsys):
    failure = tasks.record_failure("rapport.core.tasks.send_email", "abc",
                                   ["Subject", "Body", ["a@example.org"]], {}, "boom")
    call_command("failed_tasks")
    assert "rapport.core.tasks.send_email" in capsys.readouterr().out
    call_command("failed_tasks", retry=failure.pk)
    assert [m.to for m in mail.outbox] == [["a@example.org"]]
    failure.refresh_from_db()
    assert failure.requeued_at is not None
    call_command("failed_tasks")
    assert "0 failed task(s)" in capsys.readouterr().out
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="queued again already"):
        call_command("failed_tasks", retry=failure.pk)
    with pytest.raises(CommandError, match="no failed task"):
        call_command("failed_tasks", retry=failure.pk + 100)


def test_a_broker_that_refuses_a_task_loses_nothing(db, settings):
    from rapport.celery import app

    app.conf.task_always_eager = False
    try:
        with mock.patch.object(tasks.send_email, "apply_async", side_effect=OSError("no broker")):
            tasks.queue_email("Subject", "Body", ["a@example.org"])
    finally:
        app.conf.task_always_eager = True
    (failure,) = TaskFailure.objects.all()
    assert "could not be queued" in failure.error and "no broker" in failure.error
    assert json.loads(failure.arguments)["args"][2] == ["a@example.org"]


def test_the_broker_is_reported_by_healthz(db, client):
    from rapport.celery import app
    from rapport.core import broker

    app.conf.task_always_eager = False
    try:
        with mock.patch.object(app, "connection_for_read", side_effect=OSError("refused")):
            body = client.get("/healthz").json()
    finally:
        app.conf.task_always_eager = True
    assert body["broker"] == "error" and body["broker_error"] == "OSError"
    assert body["status"] == "degraded" and body["database"] == "ok"
    assert broker._oldest_filesystem("/nonexistent", "rapport") is None


def test_the_oldest_queued_task_age_on_the_filesystem_broker(tmp_path):
    import os
    import time

    from rapport.core import broker

    for n, age in enumerate((5, 120, 30)):
        path = tmp_path / f"{n}_x.rapport.msg"
        path.write_text("{}")
        os.utime(path, (time.time() - age, time.time() - age))
    (tmp_path / "9_x.other.msg").write_text("{}")
    assert 119 <= broker._oldest_filesystem(str(tmp_path), "rapport") <= 125


def test_worker_and_scheduler_commands_run_celery_in_process(db, monkeypatch):
    from rapport.celery import app
    from rapport.cli import main

    started = []
    monkeypatch.setattr(app, "start", lambda argv: started.append(argv))
    assert main(["worker", "--concurrency", "2"]) == 0
    assert main(["scheduler"]) == 0
    worker, beat = started
    assert worker[0] == "worker" and worker[-2:] == ["--concurrency", "2"]
    assert beat[0] == "beat" and "--schedule" in beat


class _Task:
    """A task as enqueue_soon sees it, on a broker (not eager), recording what it publishes."""

    name = "tests.sweep"

    def __init__(self):
        self.app = mock.Mock()
        self.app.conf.task_always_eager = False
        self.published = []

    def apply_async(self, args, kwargs, **options):
        self.published.append((args, options))


def test_enqueue_soon_serves_a_burst_with_one_message_that_starts_after_it(monkeypatch):
    task, clock = _Task(), [1000.0]
    monkeypatch.setattr(tasks, "_soon", {})
    monkeypatch.setattr(tasks.time, "time", lambda: clock[0])
    for step in (0.0, 0.05, 0.1, 0.19):  # within the first message's wait, less the margin
        clock[0] = 1000.0 + step
        tasks.enqueue_soon(task, 0, delay=0.25, margin=0.05)
    assert task.published == [((0,), {"countdown": 0.25})]
    clock[0] = 1000.21  # the queued one starts too soon to read this caller's commit
    tasks.enqueue_soon(task, 0, delay=0.25, margin=0.05)
    tasks.enqueue_soon(task, 1, delay=0.25, margin=0.05)  # other arguments: their own message
    assert task.published == [((0,), {"countdown": 0.25})] * 2 + [((1,), {"countdown": 0.25})]


def test_enqueue_soon_on_redis_queues_one_message_for_every_process(monkeypatch, redis_url):
    """Web processes sharing a Redis broker queue one sweep for a burst between them: a second
    process within the first one's wait queues nothing and waits for that start; once it is
    too near, the next call queues again, and the others follow that one."""
    import uuid

    url = redis_url
    queue = f"rapport-test-{uuid.uuid4().hex[:10]}"
    first, second = _Task(), _Task()
    for task in (first, second):
        task.app.conf.broker_url, task.app.conf.task_default_queue = url, queue
    second.apply_async = first.apply_async  # one broker: what either publishes
    processes = [{}, {}]  # each web process's own record of what it queued

    def call(process: int, task) -> None:
        monkeypatch.setattr(tasks, "_soon", processes[process])
        tasks.enqueue_soon(task, 0, delay=1.0, margin=0.2)

    call(0, first)
    began = time.time()
    call(1, second)
    call(1, second)
    assert first.published == [((0,), {"countdown": 1.0})]
    assert processes[1][("tests.sweep", 0)] == pytest.approx(began + 1.0, abs=0.2)
    time.sleep(max(0.0, began + 0.85 - time.time()))  # the queued one starts too soon now
    call(1, second)
    call(0, first)
    assert first.published == [((0,), {"countdown": 1.0})] * 2
    other = _Task()
    other.app.conf.broker_url, other.app.conf.task_default_queue = url, queue
    other.name = "tests.other"
    call(0, other)  # another task: its own message
    assert other.published == [((0,), {"countdown": 1.0})]


def test_enqueue_soon_without_redis_answering_queues_its_own(monkeypatch):
    task = _Task()
    task.app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens there
    task.app.conf.task_default_queue = "rapport-test"
    monkeypatch.setattr(tasks, "_soon", {})
    tasks.enqueue_soon(task, 0, delay=0.25, margin=0.05)
    assert task.published == [((0,), {"countdown": 0.25})]


def test_enqueue_soon_records_a_refused_message(db, monkeypatch):
    task = _Task()
    monkeypatch.setattr(tasks, "_soon", {})

    def refuse(args, kwargs, **options):
        raise ConnectionError("broker down")

    task.apply_async = refuse
    tasks.enqueue_soon(task, 0)
    (failure,) = TaskFailure.objects.all()
    assert failure.task_name == "tests.sweep" and "broker down" in failure.error


def test_the_oldest_task_on_redis_counts_one_a_worker_took_and_never_acknowledged(redis_url):
    """A task taken by a worker that died waits for the visibility timeout, not in the queue:
    /healthz still counts it."""
    import uuid

    import kombu

    from rapport.core import broker
    from rapport.core.tasks import SENT_AT

    url = redis_url
    queue = f"rapport-test-{uuid.uuid4().hex[:10]}"
    with kombu.Connection(url) as connection:
        channel = connection.default_channel
        try:
            producer = connection.Producer()
            for age in (40, 10):  # published in this order: the older one is taken first
                producer.publish({}, routing_key=queue, declare=[kombu.Queue(queue)],
                                 headers={SENT_AT: time.time() - age})
            assert 39 <= broker._oldest_redis(connection, queue) < 45
            taken = channel.basic_get(queue, no_ack=False)  # a worker takes it, and dies
            assert channel.client.llen(queue) == 1
            assert 39 <= broker._oldest_redis(connection, queue) < 45
            taken.ack()
            assert 9 <= broker._oldest_redis(connection, queue) < 15
        finally:
            channel.client.delete(queue)


def test_the_oldest_task_on_redis_is_late_from_its_start_time_not_before(redis_url):
    """A task a worker holds until its start time (a countdown, a retry's backoff, a webhook's
    next try an hour away) is not waiting before then: /healthz counts it from that time."""
    import uuid
    from datetime import UTC, datetime, timedelta

    import kombu

    from rapport.core import broker
    from rapport.core.tasks import SENT_AT

    url = redis_url
    queue = f"rapport-test-{uuid.uuid4().hex[:10]}"
    now = datetime.now(UTC)
    with kombu.Connection(url) as connection:
        channel = connection.default_channel
        try:
            producer = connection.Producer()
            for sent, starts in ((600, 3000), (100, -30)):  # queued that long ago, starts in
                producer.publish({}, routing_key=queue, declare=[kombu.Queue(queue)], headers={
                    SENT_AT: time.time() - sent,
                    "eta": (now + timedelta(seconds=starts)).isoformat()})
            # A worker takes both, holding them until they start.
            taken = [channel.basic_get(queue, no_ack=False) for _ in range(2)]
            assert 29 <= broker._oldest_redis(connection, queue) < 35  # not 600: the first
            # starts in 50 minutes; the second has been due for 30 seconds
            for message in taken:
                message.ack()
        finally:
            channel.client.delete(queue)
