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

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")

app = Celery("rapport")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
