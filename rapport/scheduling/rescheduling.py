"""Clients asking, from the portal, to move a session; the therapist accepts one of their times,
proposes another (which the client may accept), or declines. Every step is audited and the
client is told by their preferred channel, without any clinical detail.

A move goes through rapport.scheduling.services.move, so it is refused on a clash with a clear
sentence, exactly as a move made on the session page. State changes lock the request's row, so a
double click accepts once and tells the client once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from uuid import UUID

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from rapport.audit.services import record
from rapport.care.models import Attendance, Channel, Session
from rapport.core import i18n
from rapport.core.sms import SMSError, send_sms
from rapport.core.tasks import queue_email
from rapport.scheduling import services
from rapport.scheduling.delivery import client_zone, local_when
from rapport.scheduling.models import Availability, MoveStatus, RescheduleRequest

MAX_OPTIONS = 3
SUGGESTION_DAYS = 21
PER_DAY = 2


def suggestions(session: Session, today: date | None = None, limit: int = 8) -> list[datetime]:
    """Free times in the next three weeks (on the hour, at most PER_DAY a day) within the hours the
    client said suit them, at which neither the client nor the therapist has a session."""
    client, therapist = session.episode.client, session.episode.therapist
    slots = list(Availability.objects.filter(client=client))
    today = today or timezone.localdate()
    length = timedelta(minutes=session.duration_minutes)
    found: list[datetime] = []
    for offset in range(1, SUGGESTION_DAYS + 1):
        day = today + timedelta(days=offset)
        that_day: list[datetime] = []
        for slot in (s for s in slots if s.weekday == day.weekday()):
            start = timezone.make_aware(datetime.combine(day, slot.starts))
            end = timezone.make_aware(datetime.combine(day, slot.ends))
            while start + length <= end and len(that_day) < PER_DAY:
                if start != session.scheduled_at and not services.clashes(
                        therapist=therapist, client=client, start=start,
                        minutes=session.duration_minutes, exclude=session):
                    that_day.append(start)
                start += timedelta(hours=1)
        found += that_day
        if len(found) >= limit:
            return found[:limit]
    return found


def pending_for(session: Session) -> RescheduleRequest | None:
    return RescheduleRequest.objects.filter(session=session, status__in=[MoveStatus.OPEN,
                                                                         MoveStatus.PROPOSED]).first()


def ask(request: HttpRequest, session: Session, *, reason: str, options: list[datetime],
        key: UUID) -> tuple[RescheduleRequest, bool]:
    """The client's request (idempotent on `key`); returns (request, created)."""
    with transaction.atomic():
        earlier = RescheduleRequest.objects.filter(key=key).first()
        if earlier is not None:
            return earlier, False
        locked = Session.objects.select_for_update(no_key=True).get(pk=session.pk)
        if locked.attendance != Attendance.SCHEDULED or locked.scheduled_at <= timezone.now():
            raise services.BookingError(_("This session can no longer be moved from here: please "
                                          "contact the practice."))
        if pending_for(locked) is not None:
            raise services.BookingError(_("You have already asked to move this session; the "
                                          "therapist will answer soon."))
        if not options or any(o <= timezone.now() for o in options):
            raise services.BookingError(_("Choose at least one time that is still ahead."))
        try:
            with transaction.atomic():
                move = RescheduleRequest.objects.create(
                    organisation=locked.organisation, key=key, session=locked, reason=reason,
                    options=[o.isoformat() for o in options[:MAX_OPTIONS]])
        except IntegrityError:  # the same form at the same instant
            return RescheduleRequest.objects.get(key=key), False
        record(request, "scheduling.reschedule.requested", move, client=locked.episode.client,
               detail={"session": str(locked.code), "reason": reason, "options": move.options})
    return move, True


def option_times(move: RescheduleRequest) -> list[datetime]:
    return [datetime.fromisoformat(o) for o in move.options]


def _locked(move: RescheduleRequest, *statuses: str) -> RescheduleRequest:
    fresh = RescheduleRequest.objects.select_for_update(no_key=True).select_related(
        "session__episode__client", "session__episode__therapist", "organisation").get(pk=move.pk)
    if fresh.status not in statuses:
        raise services.BookingError(_("This request has been answered already."))
    return fresh


def _move_session(request: HttpRequest, move: RescheduleRequest, start: datetime) -> None:
    session = move.session
    services.move(request, session, start=start, minutes=session.duration_minutes,
                  telehealth_url=session.telehealth_url)


@transaction.atomic
def accept(request: HttpRequest, move: RescheduleRequest, start: datetime) -> RescheduleRequest:
    """The therapist accepts one of the client's times: the session moves (or a clash refuses)."""
    move = _locked(move, MoveStatus.OPEN)
    if start not in option_times(move):
        raise services.BookingError(_("That is not one of the times the client offered."))
    _move_session(request, move, start)
    _close(request, move, MoveStatus.ACCEPTED, {"to": start.isoformat()})
    notify(move, lambda: _("Your session has moved to %(when)s.") % {"when": _when(move, start)})
    return move


@transaction.atomic
def propose(request: HttpRequest, move: RescheduleRequest, start: datetime) -> RescheduleRequest:
    """The therapist offers another time; the session stays where it is until the client accepts."""
    move = _locked(move, MoveStatus.OPEN, MoveStatus.PROPOSED)
    session = move.session
    if start <= timezone.now():
        raise services.BookingError(_("%(when)s has already passed.") % {
            "when": services.describe(start, session.duration_minutes)})
    problems = services.clashes(therapist=session.episode.therapist, client=session.episode.client,
                                start=start, minutes=session.duration_minutes, exclude=session)
    if problems:
        raise services.BookingError(*problems)
    move.status, move.proposed_at = MoveStatus.PROPOSED, start
    move.decided_by = request.user
    move.save(update_fields=["status", "proposed_at", "decided_by"])
    record(request, "scheduling.reschedule.proposed", move, client=session.episode.client,
           detail={"proposed": start.isoformat()})
    notify(move, lambda: _("Your therapist proposes %(when)s instead. You can accept it in your portal.")
           % {"when": _when(move, start)})
    return move


@transaction.atomic
def decline(request: HttpRequest, move: RescheduleRequest) -> RescheduleRequest:
    move = _locked(move, MoveStatus.OPEN, MoveStatus.PROPOSED)
    _close(request, move, MoveStatus.DECLINED, {})
    notify(move, lambda: _("Your session stays at %(when)s. Please contact the practice if you cannot "
                   "come.") % {"when": _when(move, move.session.scheduled_at)})
    return move


@transaction.atomic
def client_accepts(request: HttpRequest, move: RescheduleRequest) -> RescheduleRequest:
    """The client accepts the therapist's proposal: the session moves (a clash since refuses)."""
    move = _locked(move, MoveStatus.PROPOSED)
    _move_session(request, move, move.proposed_at)
    _close(request, move, MoveStatus.ACCEPTED, {"to": move.proposed_at.isoformat(), "by": "client"})
    notify(move, lambda: _("Your session has moved to %(when)s.") % {"when": _when(move, move.proposed_at)})
    return move


def _close(request: HttpRequest, move: RescheduleRequest, status: str, detail: dict) -> None:
    move.status, move.decided_at = status, timezone.now()
    if request.user.is_authenticated:
        move.decided_by = request.user
    move.save(update_fields=["status", "decided_at", "decided_by"])
    record(request, f"scheduling.reschedule.{status}", move, client=move.session.episode.client,
           detail=detail)


def _when(move: RescheduleRequest, start: datetime) -> str:
    return local_when(timezone.localtime(start, client_zone(move.session.episode.client)))


def notify(move: RescheduleRequest, news: Callable[[], str]) -> None:
    """Tell the client, after the commit, by their channel: the practice, the time, nothing else."""
    client = move.session.episode.client
    practice = move.organisation.name
    with i18n.speaking(client.language, client.time_zone):  # the client's language, whoever decided
        body = _("Hello %(name)s, about your request to move a session with %(practice)s: %(news)s") % {
            "name": client.display_name, "practice": practice, "news": news()}
        subject = _("%(practice)s: your session") % {"practice": practice}
    channel = client.preferred_channel

    def send() -> None:
        try:
            if channel == Channel.TEXT:
                send_sms(client.phone, body)
            elif client.email:
                queue_email(subject, body, [client.email])
            else:
                raise SMSError("no email address")
        except SMSError as exc:
            record(None, "scheduling.reschedule.not_notified", move, client=client,
                   actor_label="reminders", detail={"channel": channel, "reason": str(exc)})
            return
        record(None, "scheduling.reschedule.notified", move, client=client, actor_label="reminders",
               detail={"channel": channel})

    transaction.on_commit(send)
