"""The Celery tasks that message people about urgent alerts: thin wrappers, the work is in
rapport.alerts.notify.

Both are idempotent (a message is sent once per alert, reason, channel and address), so a retried
or duplicated task sends nothing twice. `notify_urgent_alert` is queued when an urgent alert is
committed (rapport.alerts.services); `escalate_urgent_alerts` runs every two minutes (beat) and
also retries messages that failed. Apart from rapport.alerts.tasks so that the alerts services can
queue them without importing the findings refresh that imports those services.
"""

from __future__ import annotations

from celery import shared_task

from rapport.alerts import notify
from rapport.core.tasks import RETRY


@shared_task(**RETRY)
def notify_urgent_alert(alert_id: int) -> int:
    return notify.notify_pending(alert_id)


@shared_task(**RETRY)
def escalate_urgent_alerts() -> int:
    return notify.escalate_overdue()
