"""The events webhooks are sent for, through the signals of the apps below (never imported by
them): a response stored, an alert raised or resolved, a check-in missed. Each receiver runs in
the transaction that made the change and only stores the deliveries; workers send them after
the commit."""

from __future__ import annotations

from django.dispatch import receiver

from rapport.alerts.models import Alert
from rapport.alerts.signals import alert_raised, alert_resolved
from rapport.checkins.models import CheckIn, Response
from rapport.checkins.signals import checkin_missed, response_stored
from rapport.webhooks import events
from rapport.webhooks.services import emit


@receiver(response_stored, sender=Response, dispatch_uid="rapport.webhooks.response_stored")
def response_stored_hook(sender, response: Response, **kwargs) -> None:
    emit(response.organisation_id, events.RESPONSE_STORED, lambda: events.response_data(response))


@receiver(alert_raised, sender=Alert, dispatch_uid="rapport.webhooks.alert_raised")
def alert_raised_hook(sender, alert: Alert, **kwargs) -> None:
    emit(alert.organisation_id, events.ALERT_RAISED, lambda: events.alert_data(alert))


@receiver(alert_resolved, sender=Alert, dispatch_uid="rapport.webhooks.alert_resolved")
def alert_resolved_hook(sender, alert: Alert, **kwargs) -> None:
    emit(alert.organisation_id, events.ALERT_RESOLVED, lambda: events.alert_data(alert))


@receiver(checkin_missed, sender=CheckIn, dispatch_uid="rapport.webhooks.checkin_missed")
def checkin_missed_hook(sender, checkin: CheckIn, **kwargs) -> None:
    emit(checkin.organisation_id, events.CHECKIN_MISSED, lambda: events.checkin_data(checkin))
