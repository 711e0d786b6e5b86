"""The Celery application: background work (findings refresh, emails, the daily jobs).

The standard Django layout: settings named CELERY_* in rapport/settings.py configure it, and
every installed app's `tasks.py` is discovered. `rapport.core` imports this module when Django
starts (CoreConfig.ready), so `shared_task`s and `.delay()` in the web process use this app;
the pure commands (`rapport score`, `rapport analyze`) never load Celery.

Workers: `rapport worker`; the scheduler (celery beat): `rapport scheduler` (rapport/cli.py).
"""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")

app = Celery("rapport")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Celery's Django fix-up closes the database connections before and after every task unless
# CELERY_DB_REUSE_MAX is set, so each task began with a new PostgreSQL backend: a fork, the
# login, and the server's caches warmed again before the first query (for the findings refresh
# after a response, a third of the database's work). A worker's connections are kept as Django
# keeps a web process's between requests instead: closed around a task only when older than
# CONN_MAX_AGE or unusable after an error (SQLite's, with CONN_MAX_AGE 0, every time).
app.conf.CELERY_DB_REUSE_MAX = 2**62  # the fix-up's own count never closes them


@task_prerun.connect(dispatch_uid="rapport.celery.connections_before")
@task_postrun.connect(dispatch_uid="rapport.celery.connections_after")
def _close_old_connections(sender=None, **kwargs) -> None:
    if not getattr(sender.request, "is_eager", False):  # eager: inside the caller's transaction
        close_old_connections()
