"""Background jobs for urgent alerts: thin wrappers, the work is in rapport.alerts.notify.

Both are idempotent (a message is sent once per alert, reason, channel and address), so a
retried or duplicated task sends nothing twice. `notify_urgent_alert` runs right after an urgent
alert is committed; `escalate_urgent_alerts` runs every few minutes (beat) and also retries
messages that failed.
"""

from __future__ import annotations

from celery import shared_task

from rapport.alerts import notify


@shared_task(name="alerts.notify_urgent_alert", autoretry_for=(OSError,), retry_backoff=True,
             max_retries=5)
def notify_urgent_alert(alert_id: int) -> int:
    return notify.notify_pending(alert_id)


@shared_task(name="alerts.escalate_urgent_alerts")
def escalate_urgent_alerts() -> int:
    return notify.escalate_overdue()
