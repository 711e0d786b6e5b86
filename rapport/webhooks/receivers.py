"""The events webhooks are sent for, through the signals of the apps below (never imported by
them): a response stored, an alert raised or resolved, a check-in missed. Each receiver runs in
the transaction that made the change and only stores the deliveries; workers send them after
the commit."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from rapport.alerts.models import Alert
from rapport.alerts.signals import alert_raised, alert_resolved
from rapport.checkins.models import CheckIn, Response
from rapport.checkins.signals import checkin_missed, response_stored
from rapport.webhooks import events
from rapport.webhooks.models import Endpoint
from rapport.webhooks.services import emit, mark_practice


def _practice(row):
    """The row's practice when it is loaded already (with the row or its episode, as on a
    check-in link), so that `emit` can skip a practice without endpoints; else its id."""
    for holder in (row, getattr(row, "episode", None) if _loaded(row, "episode") else None):
        if holder is not None and _loaded(holder, "organisation"):
            return holder.organisation
    return row.organisation_id


def _loaded(row, field: str) -> bool:
    return type(row)._meta.get_field(field).is_cached(row)


@receiver(response_stored, sender=Response, dispatch_uid="rapport.webhooks.response_stored")
def response_stored_hook(sender, response: Response, **kwargs) -> None:
    emit(_practice(response), events.RESPONSE_STORED, lambda: events.response_data(response))


@receiver(alert_raised, sender=Alert, dispatch_uid="rapport.webhooks.alert_raised")
def alert_raised_hook(sender, alert: Alert, **kwargs) -> None:
    emit(_practice(alert), events.ALERT_RAISED, lambda: events.alert_data(alert))


@receiver(alert_resolved, sender=Alert, dispatch_uid="rapport.webhooks.alert_resolved")
def alert_resolved_hook(sender, alert: Alert, **kwargs) -> None:
    emit(_practice(alert), events.ALERT_RESOLVED, lambda: events.alert_data(alert))


@receiver(checkin_missed, sender=CheckIn, dispatch_uid="rapport.webhooks.checkin_missed")
def checkin_missed_hook(sender, checkin: CheckIn, **kwargs) -> None:
    emit(_practice(checkin), events.CHECKIN_MISSED, lambda: events.checkin_data(checkin))


@receiver(post_save, sender=Endpoint, dispatch_uid="rapport.webhooks.endpoint_saved")
def endpoint_saved(sender, instance: Endpoint, created: bool, **kwargs) -> None:
    if created:
        mark_practice(instance.organisation_id)
        if _loaded(instance, "organisation"):  # the practice in hand says so too
            instance.organisation.has_webhook_endpoints = True


@receiver(post_delete, sender=Endpoint, dispatch_uid="rapport.webhooks.endpoint_deleted")
def endpoint_deleted(sender, instance: Endpoint, **kwargs) -> None:
    mark_practice(instance.organisation_id)
