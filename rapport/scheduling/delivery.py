"""Sending one message about one session to its client, once: session reminders and check-in
invitations share it (rapport.scheduling.reminders, rapport.scheduling.checkin_invitations).

A `SentReminder` row per session and kind is the idempotency key: it is claimed before sending and
marked sent after, so a task run twice, or two workers at once, send one message. A claim left
unsent for CLAIM_TIMEOUT belongs to a worker that died: the next run takes it over, so nothing is
lost (in that rare case the client may get it twice, if the provider had sent it already).

What is not sent is recorded with its reason (the client opted out, no address, the practice
turned it off, the provider refused), once, so the episode page can show why. In quiet hours (in
the client's own time zone) a message is held, and the first run after them sends it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from rapport.audit.services import record
from rapport.care.models import Channel, Session
from rapport.core import i18n
from rapport.core.sms import SMSError, send_sms
from rapport.scheduling.models import Delivery, ReminderPolicy, SentReminder

CLAIM_TIMEOUT = timedelta(minutes=10)
FINAL = (Delivery.SENT, Delivery.NOT_SENT)

# compose(session, channel) -> (subject, body); called only once the message is claimed.
Composer = Callable[[Session, str], tuple[str, str]]


def day_format() -> str:
    # Translators: a Django date format for the weekday, day and month ("Tuesday 6 October");
    # escape literal letters with a backslash, e.g. Spanish "l j \\d\\e F".
    return pgettext("date format", "l j F")


def local_when(at: datetime) -> str:
    """A session's time as its client reads it (in the active language): "Tuesday 6 October at 18:00"."""
    return _("%(day)s at %(time)s") % {"day": formats.date_format(at, day_format()),
                                        "time": formats.time_format(at, "H:i")}


def policy_for(organisation) -> ReminderPolicy:
    found = ReminderPolicy.objects.filter(organisation=organisation).first()
    return found or ReminderPolicy(organisation=organisation)  # the defaults, unsaved


def client_zone(client) -> ZoneInfo:
    try:
        return ZoneInfo(client.time_zone or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def _as_time(value) -> time:
    return value if isinstance(value, time) else time.fromisoformat(value)


def in_quiet_hours(at: datetime, policy: ReminderPolicy, zone: ZoneInfo) -> bool:
    now = at.astimezone(zone).time()
    start, end = _as_time(policy.quiet_from), _as_time(policy.quiet_until)
    if start == end:
        return False
    if start < end:
        return start <= now < end
    return now >= start or now < end  # over midnight


def settled(sessions, kind: str, now: datetime) -> set[int]:
    """Of these sessions, those whose message of this kind is done or in a live worker's hands."""
    stale = now - CLAIM_TIMEOUT
    rows = SentReminder.objects.filter(session__in=sessions, kind=kind).values_list(
        "session_id", "status", "claimed_at")
    return {sid for sid, status, claimed in rows
            if status in FINAL or (status == Delivery.SENDING and claimed > stale)}


def _claim(session: Session, kind: str, channel: str, now: datetime) -> SentReminder | None:
    """Take the message for this worker, or None when another has it (or it is settled)."""
    with transaction.atomic():
        existing = SentReminder.objects.select_for_update(no_key=True).filter(session=session, kind=kind).first()
        if existing is None:
            try:
                with transaction.atomic():
                    return SentReminder.objects.create(organisation=session.organisation, session=session,
                                                       kind=kind, channel=channel, claimed_at=now)
            except IntegrityError:
                return None
        takeable = existing.status == Delivery.HELD or (
            existing.status == Delivery.SENDING and existing.claimed_at <= now - CLAIM_TIMEOUT)
        if takeable:
            existing.status, existing.claimed_at, existing.channel = Delivery.SENDING, now, channel
            existing.save(update_fields=["status", "claimed_at", "channel"])
            return existing
    return None


def _hold(session: Session, kind: str, channel: str, now: datetime) -> None:
    try:
        with transaction.atomic():
            SentReminder.objects.create(
                organisation=session.organisation, session=session, kind=kind, channel=channel,
                claimed_at=now, status=Delivery.HELD,
                reason=_("Held: it fell in the practice's quiet hours."))
    except IntegrityError:
        pass  # held already, or taken by another worker


def _finish(claim: SentReminder, status: str, reason: str = "") -> None:
    session = claim.session
    with transaction.atomic():
        claim.status = status
        if status == Delivery.SENT:
            claim.sent_at = timezone.now()
        if reason or status == Delivery.NOT_SENT:
            claim.reason = reason
        claim.save(update_fields=["status", "sent_at", "reason"])
        action = "scheduling.reminder.sent" if status == Delivery.SENT else "scheduling.reminder.not_sent"
        record(None, action, session, client=session.episode.client, actor_label="reminders",
               organisation=session.organisation,
               detail={"kind": claim.kind, "channel": claim.channel, "reason": reason})


def refusal(client, policy: ReminderPolicy, kind: str) -> str:
    """Why this client is not to get this kind of message, or "" when they may."""
    if client.reminders_opt_out:
        return _("The client asked not to receive reminders or invitations.")
    if kind.startswith("checkin") and not policy.checkin_invitations:
        return _("The practice has turned automatic check-in invitations off.")
    address = client.phone if client.preferred_channel == Channel.TEXT else client.email
    if not address:
        return _("No address for the client's preferred channel.")
    return ""


def deliver(session: Session, kind: str, now: datetime, policy: ReminderPolicy,
            compose: Composer) -> bool:
    """Send the session's message of this kind once (or hold it, or record why not)."""
    client = session.episode.client
    channel = client.preferred_channel
    if in_quiet_hours(now, policy, client_zone(client)):
        _hold(session, kind, channel, now)
        return False
    claim = _claim(session, kind, channel, now)
    if claim is None:
        return False
    held = claim.reason
    why_not = refusal(client, policy, kind)
    if why_not:
        _finish(claim, Delivery.NOT_SENT, why_not)
        return False
    with i18n.speaking(client.language, client.time_zone):
        subject, body = compose(session, channel)
    try:
        if channel == Channel.TEXT:
            send_sms(client.phone, body)
        else:
            send_mail(subject, body, None, [client.email])
    except SMSError as exc:  # no provider configured, or it refused: say so, do not retry
        _finish(claim, Delivery.NOT_SENT, _("The text-message provider refused it: %(error)s") % {"error": exc})
        return False
    _finish(claim, Delivery.SENT, held)
    return True


def history(episode) -> list[SentReminder]:
    """Every reminder and invitation of the episode's sessions, newest first (the episode page)."""
    return list(SentReminder.objects.filter(session__episode=episode)
                .select_related("session").order_by("-claimed_at", "-pk"))
