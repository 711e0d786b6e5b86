"""Session reminders: what is due, sending each once, quiet hours, opt-out. Plain functions that a
Celery task calls (rapport/scheduling/tasks.py); running them twice sends nothing twice.

Due: a scheduled (not cancelled) session starting within the practice's `hours_before`, whose
client has not opted out and has a way to be reached by their preferred channel. A reminder is
not sent in the practice's quiet hours in the client's own time zone (the practice's when the
client has none): the next run after them sends it, if the session is still ahead.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django_scopes import scope, scopes_disabled

from rapport.accounts.models import Organisation
from rapport.audit.services import record
from rapport.care.models import Attendance, Channel, Session
from rapport.core import i18n
from rapport.scheduling.models import ReminderPolicy, SentReminder
from rapport.scheduling.text_messages import send_text

KIND = "session"
CLAIM_TIMEOUT = timedelta(minutes=10)


def DAY_FORMAT() -> str:  # noqa: N802 (a constant that depends on the active language)
    # Translators: a Django date format for the weekday, day and month ("Tuesday 6 October");
    # escape literal letters with a backslash, e.g. Spanish "l j \d\e F".
    return pgettext("date format", "l j F")


def policy_for(organisation) -> ReminderPolicy:
    found = ReminderPolicy.objects.filter(organisation=organisation).first()
    return found or ReminderPolicy(organisation=organisation)  # the defaults, unsaved


def client_zone(client) -> ZoneInfo:
    try:
        return ZoneInfo(client.time_zone or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def in_quiet_hours(at: datetime, policy: ReminderPolicy, zone: ZoneInfo) -> bool:
    now = at.astimezone(zone).time()
    start, end = _as_time(policy.quiet_from), _as_time(policy.quiet_until)
    if start == end:
        return False
    if start < end:
        return start <= now < end
    return now >= start or now < end  # over midnight


def _as_time(value) -> time:
    return value if isinstance(value, time) else time.fromisoformat(value)


def due(organisation, now: datetime) -> list[Session]:
    policy = policy_for(organisation)
    stale = now - CLAIM_TIMEOUT
    sessions = (
        Session.objects.filter(attendance=Attendance.SCHEDULED, scheduled_at__gt=now,
                               scheduled_at__lte=now + timedelta(hours=policy.hours_before),
                               episode__client__reminders_opt_out=False)
        .exclude(Q(reminders__kind=KIND, reminders__sent_at__isnull=False)
                 | Q(reminders__kind=KIND, reminders__claimed_at__gt=stale))
        .select_related("episode__client", "organisation")
    )
    return [s for s in sessions if not in_quiet_hours(now, policy, client_zone(s.episode.client))]


def _claim(session: Session, channel: str, now: datetime) -> SentReminder | None:
    """Take the reminder for this worker, or None when another has it (or it went already)."""
    with transaction.atomic():
        existing = SentReminder.objects.select_for_update().filter(session=session, kind=KIND).first()
        if existing is None:
            try:
                with transaction.atomic():
                    return SentReminder.objects.create(organisation=session.organisation, session=session,
                                                       kind=KIND, channel=channel, claimed_at=now)
            except IntegrityError:
                return None
        if existing.sent_at is None and existing.claimed_at <= now - CLAIM_TIMEOUT:
            existing.claimed_at = now
            existing.save(update_fields=["claimed_at"])
            return existing
    return None


def message(session: Session) -> str:
    """The reminder's text, in the client's language, the time in their time zone."""
    client = session.episode.client
    when = timezone.localtime(session.scheduled_at, client_zone(client))
    text = _("Hello %(name)s, a reminder of your session with %(practice)s on %(day)s at "
             "%(time)s.") % {
        "name": client.display_name, "practice": session.organisation.name,
        "day": formats.date_format(when, DAY_FORMAT()), "time": formats.time_format(when, "H:i")}
    if session.telehealth_url:
        text += " " + _("Video link: %(url)s") % {"url": session.telehealth_url}
    return text


def send_one(session: Session, now: datetime) -> bool:
    client = session.episode.client
    channel = client.preferred_channel
    address = client.phone if channel == Channel.TEXT else client.email
    if not address:
        return False
    claim = _claim(session, channel, now)
    if claim is None:
        return False
    with i18n.speaking(client.language):
        body = message(session)
        subject = _("%(practice)s: your session reminder") % {"practice": session.organisation.name}
    if channel == Channel.TEXT:
        send_text(address, body)
    else:
        send_mail(subject, body, None, [address])
    with transaction.atomic():
        claim.sent_at = timezone.now()
        claim.save(update_fields=["sent_at"])
        record(None, "scheduling.reminder.sent", session, client=client, actor_label="reminders",
               detail={"kind": KIND, "channel": channel})
    return True


def send_due_reminders(now: datetime | None = None) -> int:
    """Send every due reminder in every practice. Returns how many were sent."""
    now = now or timezone.now()
    sent = 0
    with scopes_disabled():
        organisations = list(Organisation.objects.all())
    for organisation in organisations:
        with scope(organisation=[organisation]):
            for session in due(organisation, now):
                sent += send_one(session, now)
    return sent
