"""Booking, moving and cancelling sessions: atomic, audited, and never double-booked.

Conflicts are checked for the therapist (any of their clients) and for the client (any of their
episodes) with both rows locked, so two bookings made at once for the same person are checked one
after the other. Times are entered and repeated in the practice's time zone (settings.TIME_ZONE):
a weekly session at 09:00 stays at 09:00 across a daylight-saving change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from rapport.accounts.models import User
from rapport.audit.services import record
from rapport.care.models import Attendance, CareEpisode, Client, EpisodeStatus, Session
from rapport.scheduling.models import Availability, Booking, Repeat

CANCELLED = (Attendance.CANCELLED_CLIENT, Attendance.CANCELLED_CLINIC)
LONGEST_SESSION = timedelta(minutes=480)  # the booking form's maximum; bounds the clash search
STEP = {Repeat.ONCE: 0, Repeat.WEEKLY: 1, Repeat.FORTNIGHTLY: 2}  # weeks between sessions


class BookingError(ValueError):
    """A booking, move or cancellation refused; `problems` are sentences for the person booking."""

    def __init__(self, *problems: str):
        super().__init__(" ".join(problems))
        self.problems = list(problems)


def local(dt: datetime) -> datetime:
    return timezone.localtime(dt)


def describe(start: datetime, minutes: int) -> str:
    start = local(start)
    end = start + timedelta(minutes=minutes)
    # In the reader's language: "Tuesday 6 October 2026, 18:00–18:50".
    return _("%(day)s, %(start)s–%(end)s") % {
        "day": formats.date_format(start, pgettext("date format", "l j F Y")),
        "start": formats.time_format(start, "H:i"),
        "end": formats.time_format(end, "H:i")}


def occurrences(start: datetime, repeat: str, count: int) -> list[datetime]:
    """The start of every session in a series, at the same wall-clock time each week."""
    if repeat == Repeat.ONCE:
        return [start]
    wall = timezone.make_naive(start)
    return [timezone.make_aware(wall + timedelta(weeks=STEP[repeat] * n)) for n in range(count)]


def clashes(*, therapist: User, client: Client, start: datetime, minutes: int,
            exclude: Session | None = None) -> list[str]:
    """Sentences naming each session of the therapist or the client that overlaps this time."""
    end = start + timedelta(minutes=minutes)
    nearby = (
        Session.objects.filter(scheduled_at__lt=end, scheduled_at__gt=start - LONGEST_SESSION)
        .filter(Q(episode__therapist=therapist) | Q(episode__client=client))
        .exclude(attendance__in=CANCELLED)
        .select_related("episode")
    )
    if exclude is not None:
        nearby = nearby.exclude(pk=exclude.pk)
    problems = []
    for other in nearby:
        if other.ends_at <= start:
            continue
        when = describe(other.scheduled_at, other.duration_minutes)
        if other.episode.therapist_id == therapist.pk:
            problems.append(_("%(therapist)s already has a session on %(when)s.")
                            % {"therapist": therapist, "when": when})
        else:  # only the client matched
            problems.append(_("The client already has a session with another therapist on %(when)s.")
                            % {"when": when})
    return problems


def _lock(episode: CareEpisode) -> None:
    # The therapist first, then the client, always in that order (no deadlock between bookings).
    list(User.objects.select_for_update(no_key=True).filter(pk=episode.therapist_id))
    list(Client.objects.select_for_update(no_key=True).filter(pk=episode.client_id))


def outside_availability(client: Client, starts: list[datetime], minutes: int) -> list[datetime]:
    """The times (of those given) that fall outside what the client said suits them.

    A client who has stated no availability has nothing to fall outside of: the list is empty.
    """
    slots = list(Availability.objects.filter(client=client))
    if not slots:
        return []
    outside = []
    for start in starts:
        begin = local(start)
        finish = begin + timedelta(minutes=minutes)
        fits = any(
            s.weekday == begin.weekday() and s.starts <= begin.time()
            and finish.date() == begin.date() and finish.time() <= s.ends
            for s in slots
        )
        if not fits:
            outside.append(start)
    return outside


@dataclass
class Booked:
    booking: Booking
    created: bool  # False when the same form had already been submitted


@transaction.atomic
def book(request: HttpRequest, episode: CareEpisode, *, start: datetime, minutes: int,
         repeat: str, count: int, telehealth_url: str, key: UUID) -> Booked:
    """Book one session or a series; all of it or, on any conflict, none of it."""
    _lock(episode)
    earlier = Booking.objects.filter(key=key).first()
    if earlier is not None:
        return Booked(earlier, created=False)
    if episode.status != EpisodeStatus.ACTIVE:
        raise BookingError(_("This episode has ended: sessions can be booked only in an active episode."))
    if start <= timezone.now():
        raise BookingError(_("%(when)s has already passed.") % {"when": describe(start, minutes)})
    starts = occurrences(start, repeat, count)
    problems = []
    for when in starts:
        problems += clashes(therapist=episode.therapist, client=episode.client, start=when,
                            minutes=minutes)
    if problems:
        raise BookingError(*problems)
    try:
        with transaction.atomic():
            booking = Booking.objects.create(
                organisation=episode.organisation, key=key, episode=episode, repeat=repeat,
                created_by=request.user,
            )
    except IntegrityError:  # the same form, submitted at the same instant
        return Booked(Booking.objects.get(key=key), created=False)
    sessions = [
        Session.objects.create(organisation=episode.organisation, episode=episode, scheduled_at=when,
                               duration_minutes=minutes, telehealth_url=telehealth_url)
        for when in starts
    ]
    booking.sessions.set(sessions)
    record(request, "scheduling.booking.created", booking, client=episode.client,
           detail={"repeat": repeat, "sessions": [str(s.code) for s in sessions],
                   "first": start.isoformat(), "minutes": minutes})
    return Booked(booking, created=True)


@transaction.atomic
def move(request: HttpRequest, session: Session, *, start: datetime, minutes: int,
         telehealth_url: str) -> None:
    """Change a session's time, length or video link; refused if it clashes or has been cancelled."""
    episode = session.episode
    _lock(episode)
    session.refresh_from_db()
    if session.is_cancelled:
        raise BookingError(_("This session was cancelled: book a new one instead."))
    if session.attendance != Attendance.SCHEDULED:
        raise BookingError(_("This session has taken place (its attendance is recorded): it cannot move."))
    changed_time = start != session.scheduled_at or minutes != session.duration_minutes
    if changed_time:
        if start <= timezone.now():
            raise BookingError(_("%(when)s has already passed.") % {"when": describe(start, minutes)})
        problems = clashes(therapist=episode.therapist, client=episode.client, start=start,
                           minutes=minutes, exclude=session)
        if problems:
            raise BookingError(*problems)
    detail = {"from": session.scheduled_at.isoformat(), "to": start.isoformat(),
              "minutes": minutes, "telehealth_link_changed": telehealth_url != session.telehealth_url}
    session.scheduled_at, session.duration_minutes = start, minutes
    session.telehealth_url = telehealth_url
    session.save(update_fields=["scheduled_at", "duration_minutes", "telehealth_url"])
    record(request, "scheduling.session.moved" if changed_time else "scheduling.session.changed",
           session, client=episode.client, detail=detail)


@transaction.atomic
def cancel(request: HttpRequest, session: Session, *, by_client: bool, rest_of_series: bool = False
           ) -> list[Session]:
    """Cancel a session (and, if asked, the later sessions of its series). Returns those cancelled."""
    session.refresh_from_db()
    if session.attendance != Attendance.SCHEDULED:
        raise BookingError(_("This session is already marked “%(attendance)s”.")
                           % {"attendance": session.get_attendance_display()})
    targets = [session]
    if rest_of_series:
        later = Session.objects.filter(
            bookings__sessions=session, scheduled_at__gt=session.scheduled_at,
            attendance=Attendance.SCHEDULED,
        ).distinct()
        targets += list(later)
    now = timezone.now()
    status = Attendance.CANCELLED_CLIENT if by_client else Attendance.CANCELLED_CLINIC
    for target in targets:
        target.attendance, target.cancelled_at = status, now
        target.save(update_fields=["attendance", "cancelled_at"])
        record(request, "scheduling.session.cancelled", target, client=session.episode.client,
               detail={"by": "client" if by_client else "practice",
                       "late": target.is_late_cancellation})
    return targets


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week(therapist: User, monday: date) -> list[tuple[date, list[Session]]]:
    """The therapist's sessions of one week (cancelled ones included), day by day."""
    tz = timezone.get_current_timezone()
    begin = datetime.combine(monday, time(), tzinfo=tz)
    end = datetime.combine(monday + timedelta(days=7), time(), tzinfo=tz)
    sessions = (
        Session.objects.filter(episode__therapist=therapist, scheduled_at__gte=begin,
                               scheduled_at__lt=end)
        .select_related("episode", "episode__client")
        .order_by("scheduled_at")
    )
    days: dict[date, list[Session]] = {monday + timedelta(days=n): [] for n in range(7)}
    for session in sessions:
        days[local(session.scheduled_at).date()].append(session)
    return list(days.items())
