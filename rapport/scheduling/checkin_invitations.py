"""Check-in invitations timed to the session, by the practice's rules (ReminderPolicy):

- before: the pre-session check-in, `checkin_hours_before` hours before the session;
- after: the post-session rating, as soon as the session has ended (not more than AFTER_WINDOW
  late: a worker that was down for a day does not send "how was your session" days after it);
- one follow-up of each, `followup_hours` after the first when the check-in is still unanswered
  and can still be answered (a pre-session one only while the session is ahead).

Each is a `SentReminder` row (kinds "checkin-before", "checkin-after", "...-followup") sent
through rapport.scheduling.delivery: once, in the client's preferred channel, outside quiet hours
in the client's time zone, never to a client who opted out or when the practice turned automatic
invitations off (recorded with the reason). The message names the practice and the time, never
what is asked; the link is a fresh single-use invitation (rapport.checkins).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scope, scopes_disabled

from rapport.accounts.models import Organisation
from rapport.care.models import Attendance, EpisodeStatus, Session
from rapport.checkins.models import CheckIn, Respondent, When
from rapport.checkins.services.invitations import absolute, create_invitation, invitation_path
from rapport.checkins.services.schedule import DUE_WINDOW, plan_session
from rapport.scheduling.delivery import client_zone, deliver, local_when, policy_for, settled
from rapport.scheduling.models import Delivery, ReminderPolicy, SentReminder

BEFORE, AFTER = "checkin-before", "checkin-after"
FOLLOWUP = "-followup"
KINDS = {BEFORE: When.BEFORE, AFTER: When.AFTER}
AFTER_WINDOW = timedelta(hours=24)
LONGEST_SESSION = timedelta(hours=8)  # the booking form's maximum length


def open_checkin(session: Session, when: str) -> CheckIn | None:
    return CheckIn.objects.filter(session=session, when=when, respondent=Respondent.CLIENT,
                                  completed_at__isnull=True).first()


def _with_open_checkin(sessions, when: str) -> list[Session]:
    open_ids = set(CheckIn.objects.filter(session__in=sessions, when=when, respondent=Respondent.CLIENT,
                                          completed_at__isnull=True).values_list("session_id", flat=True))
    return [s for s in sessions if s.pk in open_ids]


def _sessions(**filters) -> list[Session]:
    return list(Session.objects.filter(episode__status=EpisodeStatus.ACTIVE, **filters)
                .select_related("episode__client", "organisation"))


def before_due(now: datetime, policy: ReminderPolicy) -> list[Session]:
    sessions = _sessions(attendance=Attendance.SCHEDULED, scheduled_at__gt=now,
                         scheduled_at__lte=now + timedelta(hours=policy.checkin_hours_before))
    return _first_time(sessions, BEFORE, When.BEFORE, now)


def after_due(now: datetime) -> list[Session]:
    sessions = _sessions(attendance__in=[Attendance.SCHEDULED, Attendance.ATTENDED],
                         scheduled_at__lte=now,
                         scheduled_at__gt=now - AFTER_WINDOW - LONGEST_SESSION)
    ended = [s for s in sessions if now - AFTER_WINDOW < s.ends_at <= now]
    return _first_time(ended, AFTER, When.AFTER, now)


def _first_time(sessions: list[Session], kind: str, when: str, now: datetime) -> list[Session]:
    done = settled(sessions, kind, now)
    fresh = [s for s in sessions if s.pk not in done]
    for session in fresh:
        plan_session(session)  # the session's check-ins, made by the schedule if not yet made
    return _with_open_checkin(fresh, when)


def followups_due(kind: str, now: datetime, policy: ReminderPolicy) -> list[Session]:
    wait = timedelta(hours=policy.followup_hours)
    first = (SentReminder.objects.filter(kind=kind, status=Delivery.SENT, sent_at__lte=now - wait,
                                         sent_at__gt=now - wait - DUE_WINDOW - AFTER_WINDOW)
             .values_list("session_id", flat=True))
    sessions = _sessions(pk__in=list(first))
    if kind == BEFORE:
        sessions = [s for s in sessions if s.scheduled_at > now and s.attendance == Attendance.SCHEDULED]
    else:
        sessions = [s for s in sessions if s.ends_at > now - DUE_WINDOW and not s.is_cancelled]
    done = settled(sessions, kind + FOLLOWUP, now)
    return _with_open_checkin([s for s in sessions if s.pk not in done], KINDS[kind])


def composer(kind: str):
    """The message for one kind: the practice, the session's time and a fresh link; nothing else."""
    when = KINDS[kind.removesuffix(FOLLOWUP)]

    def compose(session: Session, channel: str) -> tuple[str, str]:
        client = session.episode.client
        checkin = open_checkin(session, when)
        _invitation, token = create_invitation(checkin, channel=channel)
        at = timezone.localtime(session.scheduled_at, client_zone(client))
        facts = {"name": client.display_name, "practice": session.organisation.name,
                 "when": local_when(at), "url": absolute(None, invitation_path(token))}
        if when == When.BEFORE:
            body = _("Hello %(name)s, %(practice)s asks you to answer a short check-in before your "
                     "session on %(when)s: %(url)s") % facts
        else:
            body = _("Hello %(name)s, how was your session on %(when)s? %(practice)s asks you to "
                     "answer a short check-in: %(url)s") % facts
        if kind.endswith(FOLLOWUP):
            body = _("A gentle reminder, sent once.") + " " + body
        return _("%(practice)s: a short check-in") % facts, body

    return compose


def send_due_invitations(now: datetime | None = None) -> int:
    """Send every due check-in invitation and follow-up in every practice; returns how many."""
    now = now or timezone.now()
    sent = 0
    with scopes_disabled():
        organisations = list(Organisation.objects.all())
    for organisation in organisations:
        with scope(organisation=[organisation]):
            policy = policy_for(organisation)
            batches = [(BEFORE, before_due(now, policy)), (AFTER, after_due(now))]
            batches += [(kind + FOLLOWUP, followups_due(kind, now, policy)) for kind in KINDS]
            for kind, sessions in batches:
                for session in sessions:
                    sent += deliver(session, kind, now, policy, composer(kind))
    return sent
