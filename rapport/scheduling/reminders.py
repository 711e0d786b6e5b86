"""Session reminders: due ones sent once (rapport.scheduling.delivery), quiet hours, opt-out. Plain
functions that a Celery task calls (rapport/scheduling/tasks.py); running them twice sends nothing
twice.

Due: a scheduled (not cancelled) session starting within the practice's `hours_before`. What
becomes of it (sent, held for quiet hours, not sent and why) is in its `SentReminder` row.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scope, scopes_disabled

from rapport.accounts.models import Organisation
from rapport.care.models import Attendance, Session
from rapport.scheduling.delivery import client_zone, deliver, local_when, policy_for, settled

KIND = "session"


def due(organisation, now: datetime) -> list[Session]:
    policy = policy_for(organisation)
    sessions = list(
        Session.objects.filter(attendance=Attendance.SCHEDULED, scheduled_at__gt=now,
                               scheduled_at__lte=now + timedelta(hours=policy.hours_before))
        .select_related("episode__client", "organisation")
    )
    done = settled(sessions, KIND, now)
    return [s for s in sessions if s.pk not in done]


def message(session: Session, channel: str = "email") -> tuple[str, str]:
    client = session.episode.client
    when = timezone.localtime(session.scheduled_at, client_zone(client))
    body = _("Hello %(name)s, a reminder of your session with %(practice)s on %(when)s.") % {
        "name": client.display_name, "practice": session.organisation.name,
        "when": local_when(when)}
    if session.telehealth_url:
        body += " " + _("Video link: %(url)s") % {"url": session.telehealth_url}
    return _("%(practice)s: your session reminder") % {"practice": session.organisation.name}, body


def send_due_reminders(now: datetime | None = None) -> int:
    """Send every due reminder in every practice. Returns how many were sent."""
    now = now or timezone.now()
    sent = 0
    with scopes_disabled():
        organisations = list(Organisation.objects.all())
    for organisation in organisations:
        with scope(organisation=[organisation]):
            policy = policy_for(organisation)
            for session in due(organisation, now):
                sent += deliver(session, KIND, now, policy, message)
    return sent
