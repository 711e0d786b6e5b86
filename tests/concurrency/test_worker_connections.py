"""A worker keeps its PostgreSQL connection from one task to the next, as a web process keeps it
between requests (rapport.celery): Celery's Django fix-up, as a worker installs it, would
otherwise close it around every task, and each findings refresh began with a new backend.
Under PostgreSQL only (the package's conftest): SQLite's connections last one task, as they
last one request (CONN_MAX_AGE 0)."""

from __future__ import annotations

import time

import pytest
from celery.fixups.django import DjangoWorkerFixup
from celery.signals import task_postrun, task_prerun
from django.db import connection

from rapport.alerts.tasks import refresh_pending_findings
from rapport.celery import app

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker_fixup():
    """The fix-up a worker installs at start (its signal handlers), removed afterwards."""
    fixup = DjangoWorkerFixup(app).install()
    yield fixup
    task_prerun.disconnect(fixup.on_task_prerun)
    task_postrun.disconnect(fixup.on_task_postrun)


def run_as_worker(task) -> None:
    """One task as a worker runs it: the signals around it, not eager, its queries between."""
    task.push_request(is_eager=False, id="test")
    try:
        task_prerun.send(sender=task, task_id="test", task=task, args=(), kwargs={})
        task.run(0)  # reads the pending refreshes
        task_postrun.send(sender=task, task_id="test", task=task, args=(), kwargs={},
                          retval=None, state="SUCCESS")
    finally:
        task.pop_request()


def test_the_connection_outlives_a_task(worker_fixup):
    connection.ensure_connection()
    first = connection.connection
    for _ in range(3):
        run_as_worker(refresh_pending_findings)
    assert connection.connection is first  # the fix-up alone closes it before and after each


def test_an_old_connection_is_closed_after_a_task(worker_fixup):
    connection.ensure_connection()
    old = connection.connection
    connection.close_at = time.monotonic() - 1  # older than CONN_MAX_AGE
    run_as_worker(refresh_pending_findings)
    assert connection.connection is not None and connection.connection is not old  # a new one
    connection.close_at = time.monotonic() - 1
    task_postrun.send(sender=refresh_pending_findings, task_id="test",
                      task=refresh_pending_findings, args=(), kwargs={}, retval=None,
                      state="SUCCESS")
    assert connection.connection is None
