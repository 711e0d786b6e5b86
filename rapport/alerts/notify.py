"""Urgent alerts reach people outside the app: email and text, then the supervisor.

Plain, idempotent services (the Celery tasks in tasks.py only call them):

- `notify_urgent(alert)`: the treating therapist (email) and the practice's duty contact (email
  and text) are told that an urgent alert is waiting. Each (alert, reason, channel, address) is
  sent at most once, so a retried job or a second call sends nothing new.
- `escalate_overdue(now)`: an urgent alert still open (nobody acknowledged it) longer than the
  practice's `escalate_after_minutes` goes to the therapist's supervisors, once.

No message carries clinical detail: not the client's name, not the kind of alert, not an answer.
It says an urgent alert is waiting and links to the sign-in page of the alert, where two-factor
login and the access helpers decide who sees what.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scope, scopes_disabled

from rapport.accounts.models import Supervision
from rapport.alerts.models import (
    Alert,
    Channel,
    Notification,
    Severity,
    Status,
    UrgentSettings,
)
from rapport.audit.services import record
from rapport.core import i18n
from rapport.core.sms import SMSError, send_sms

log = logging.getLogger(__name__)

URGENT = "urgent"
ESCALATION = "escalation"

def _subject() -> str:
    return _("Rapport: an urgent alert is waiting")


def _link(alert: Alert) -> str:
    base = (getattr(settings, "RAPPORT_BASE_URL", "") or "").rstrip("/")
    return base + reverse("alerts-detail", args=[alert.code])


def _body(alert: Alert, reason: str) -> str:
    practice = alert.organisation.name
    if reason == ESCALATION:
        lead = _("An urgent alert at %(practice)s has not been acknowledged in time, and you are "
                 "the treating therapist's supervisor.") % {"practice": practice}
    else:
        lead = _("An urgent alert at %(practice)s needs attention today.") % {"practice": practice}
    return _("%(lead)s\n\nSign in to Rapport to see it: %(link)s\n\n"
             "For confidentiality this message says nothing about the client.") % {
        "lead": lead, "link": _link(alert)}


def _text(alert: Alert, reason: str) -> str:
    values = {"practice": alert.organisation.name, "link": _link(alert)}
    if reason == ESCALATION:
        return _("Rapport (%(practice)s): an urgent alert is not yet acknowledged. "
                 "Sign in: %(link)s") % values
    return _("Rapport (%(practice)s): an urgent alert is waiting. Sign in: %(link)s") % values


def _send(alert: Alert, reason: str, channel: str, to: str, language: str | None = None) -> bool:
    """Send one message unless it was sent before; True when sent now. In the recipient's
    language where they are a staff member (the duty contact's: the site's)."""
    to = to.strip()
    if not to:
        return False
    try:
        with transaction.atomic():
            note = Notification.objects.create(organisation_id=alert.organisation_id, alert=alert,
                                               reason=reason, channel=channel, to=to)
    except IntegrityError:
        note = Notification.objects.get(alert=alert, reason=reason, channel=channel, to=to)
        if note.sent_at is not None:
            return False  # sent already: a retry sends nothing
    try:
        with i18n.speaking(language):
            if channel == Channel.EMAIL:
                send_mail(_subject(), _body(alert, reason), None, [to])
            else:
                send_sms(to, _text(alert, reason))
    except (SMSError, OSError) as exc:
        # Kept unsent, so the next run tries again; the reason is recorded without the address.
        Notification.objects.filter(pk=note.pk).update(error=str(exc)[:200])
        log.warning("urgent alert %s: %s message not sent: %s", alert.code, channel, exc)
        return False
    Notification.objects.filter(pk=note.pk).update(sent_at=timezone.now(), error="")
    record(None, "alerts.alert.notified", alert, client=alert.episode.client,
           organisation=alert.organisation, actor_label="system",
           detail={"reason": reason, "channel": channel})
    return True


def urgent_settings(organisation) -> UrgentSettings:
    found = UrgentSettings.objects.filter(organisation=organisation).first()
    return found or UrgentSettings(organisation=organisation)


@transaction.atomic
def save_urgent_settings(request, organisation, data: dict) -> None:
    """An administrator's changes to the duty contact, escalation and crisis text; audited."""
    from rapport.checkins.services.consent import practice_settings

    options = urgent_settings(organisation)
    for name in ("duty_name", "duty_email", "duty_phone", "escalate_after_minutes"):
        setattr(options, name, data[name])
    options.save()
    checkin_settings = practice_settings(organisation)
    checkin_settings.crisis_resources = data["crisis_resources"]
    checkin_settings.save(update_fields=["crisis_resources"])
    record(request, "alerts.urgent_settings.changed", options, organisation=organisation,
           detail={"escalate_after_minutes": options.escalate_after_minutes,
                   "duty_email": bool(options.duty_email), "duty_phone": bool(options.duty_phone)})


def notify_urgent(alert: Alert) -> int:
    """Tell the therapist and the duty contact; returns how many messages were sent now."""
    if alert.severity != Severity.URGENT or alert.is_resolved:
        return 0
    options = urgent_settings(alert.organisation)
    therapist = alert.episode.therapist
    sent = _send(alert, URGENT, Channel.EMAIL, therapist.email, therapist.language)
    sent += _send(alert, URGENT, Channel.EMAIL, options.duty_email)
    sent += _send(alert, URGENT, Channel.SMS, options.duty_phone)
    return sent


def escalate(alert: Alert, now: datetime | None = None) -> int:
    """Send an unacknowledged urgent alert to the therapist's supervisors once it is overdue."""
    now = now or timezone.now()
    if alert.severity != Severity.URGENT or alert.status != Status.OPEN:
        return 0
    after = timedelta(minutes=urgent_settings(alert.organisation).escalate_after_minutes)
    if alert.opened_at + after > now:
        return 0
    supervisors = Supervision.objects.filter(
        organisation_id=alert.organisation_id, therapist_id=alert.episode.therapist_id,
    ).select_related("supervisor")
    return sum(_send(alert, ESCALATION, Channel.EMAIL, s.supervisor.email, s.supervisor.language)
               for s in supervisors if s.supervisor.is_active)


def notify_pending(alert_id: int) -> int:
    """The task's body: notify about one alert, found across practices by its id."""
    with scopes_disabled():
        alert = Alert.objects.select_related("organisation", "episode__therapist",
                                             "episode__client").filter(pk=alert_id).first()
    if alert is None:
        return 0
    with scope(organisation=alert.organisation_id):
        return notify_urgent(alert)


def escalate_overdue(now: datetime | None = None) -> int:
    """Every practice's overdue urgent alerts (a periodic job); also retries unsent messages."""
    now = now or timezone.now()
    sent = 0
    with scopes_disabled():
        alerts = list(Alert.objects.filter(severity=Severity.URGENT).unresolved()
                      .select_related("organisation", "episode__therapist", "episode__client"))
    for alert in alerts:
        with scope(organisation=alert.organisation_id):
            sent += notify_urgent(alert)  # a message that failed before is tried again
            sent += escalate(alert, now)
    return sent
