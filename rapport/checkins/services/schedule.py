"""The check-in schedule: which questionnaires each session asks, and which are due now.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from rapport import instruments
from rapport.care.models import Attendance, CareEpisode, Client, Session
from rapport.checkins.models import (
    CheckIn,
    Respondent,
    Schedule,
    When,
)
from rapport.checkins.services.answers import GOAL_PROGRESS, goals_to_rate
from rapport.checkins.services.consent import practice_settings

# -- the schedule ----------------------------------------------------------------------------


def schedule_for(episode: CareEpisode) -> Schedule:
    """The episode's schedule, created from the practice defaults on first use."""
    found = Schedule.objects.filter(episode=episode).first()
    if found is None:
        found, _ = Schedule.objects.get_or_create(
            episode=episode,
            defaults={"organisation_id": episode.organisation_id,
                      "rules": [dict(r) for r in practice_settings(episode.organisation).rules]},
        )
    return found


def instruments_due(rules: list[dict], number: int, when: str) -> list[str]:
    """Instrument ids due at the `number`-th session (1-based) for `when`, in rule order.

    "intake" rules join the first session's "before" set; "discharge" rules ignore `number`.
    """
    due: list[str] = []
    for rule in rules:
        rule_when = rule.get("when")
        every = max(int(rule.get("every") or 1), 1)
        applies = (
            (rule_when == when and when != When.DISCHARGE and (number - 1) % every == 0)
            or (rule_when == "intake" and when == When.BEFORE and number == 1)
            or (rule_when == when == When.DISCHARGE)
        )
        if applies and rule["instrument"] not in due:
            due.append(rule["instrument"])
    return due


def respondent_of(instrument_id: str) -> str:
    return instruments.load(instrument_id).respondent or Respondent.CLIENT


CANCELLED = (Attendance.CANCELLED_CLIENT, Attendance.CANCELLED_CLINIC)


def session_number(session: Session) -> int:
    """The session's position in its episode, counting sessions that were not cancelled."""
    return (
        Session.objects.filter(episode_id=session.episode_id, scheduled_at__lte=session.scheduled_at)
        .exclude(attendance__in=CANCELLED)
        .count()
    ) or 1


def plan_session(session: Session, rules: list[dict] | None = None,
                 number: int | None = None, *, has_goals: bool | None = None) -> list[CheckIn]:
    """Create the session's check-ins (client before, client after, therapist after) if due.

    goal-progress is left out while the episode has no goal to rate (`has_goals`: whether it
    has, by default looked up now).
    """
    if rules is None:
        rules = schedule_for(session.episode).rules
    if number is None:
        number = session_number(session)
    planned = []
    for when in (When.BEFORE, When.AFTER):
        by_respondent: dict[str, list[str]] = {}
        for instrument_id in instruments_due(rules, number, when):
            if instrument_id == GOAL_PROGRESS:
                if has_goals is None:
                    has_goals = bool(goals_to_rate(session.episode))
                if not has_goals:
                    continue
            by_respondent.setdefault(respondent_of(instrument_id), []).append(instrument_id)
        for respondent, ids in by_respondent.items():
            checkin, _ = CheckIn.objects.get_or_create(
                session=session, when=when, respondent=respondent,
                defaults={"organisation_id": session.organisation_id,
                          "episode_id": session.episode_id, "instruments": ids},
            )
            planned.append(checkin)
    return planned


def discharge_checkin(episode: CareEpisode) -> CheckIn | None:
    ids = [i for i in instruments_due(schedule_for(episode).rules, 0, When.DISCHARGE)
           if respondent_of(i) == Respondent.CLIENT]
    if not ids:
        return None
    existing = CheckIn.objects.filter(episode=episode, when=When.DISCHARGE, completed_at__isnull=True).first()
    return existing or CheckIn.objects.create(
        organisation_id=episode.organisation_id, episode=episode, when=When.DISCHARGE,
        respondent=Respondent.CLIENT, instruments=ids,
    )


# A check-in is offered from a week before its session until a week after it; older ones lapse.
DUE_WINDOW = timedelta(days=7)


# A client's before-session check-in can be answered until an hour after its session starts.
BEFORE_GRACE = timedelta(hours=1)


def mark_missed(organisation, now: datetime | None = None) -> int:
    """Mark the practice's client check-ins that closed unanswered (a before-session one an hour
    after its session started, an after-session one DUE_WINDOW after it; cancelled sessions
    excepted) and send `checkin_missed` once for each. Returns how many."""
    from django.db import transaction
    from django.db.models import Q

    from rapport.checkins.signals import checkin_missed

    now = now or timezone.now()
    closed = (Q(when=When.BEFORE, session__scheduled_at__lte=now - BEFORE_GRACE)
              | Q(when=When.AFTER, session__scheduled_at__lte=now - DUE_WINDOW))
    with transaction.atomic():
        missed = list(
            CheckIn.objects.select_for_update(of=("self",), skip_locked=True, no_key=True)
            .filter(closed, organisation=organisation, respondent=Respondent.CLIENT,
                    completed_at__isnull=True, missed_at__isnull=True)
            .exclude(session__attendance__in=CANCELLED).select_related("episode"))
        CheckIn.objects.filter(pk__in=[c.pk for c in missed]).update(missed_at=now)
        for checkin in missed:
            checkin.missed_at = now
            checkin_missed.send(sender=CheckIn, checkin=checkin)
    return len(missed)


def due_checkins(client: Client, now: datetime | None = None):
    """The client's open check-ins that can still be answered, oldest first."""
    from django.db.models import Q

    now = now or timezone.now()
    window = (
        Q(session__isnull=True)
        | Q(when=When.BEFORE, session__scheduled_at__gt=now - BEFORE_GRACE,
            session__scheduled_at__lte=now + DUE_WINDOW)
        | Q(when=When.AFTER, session__scheduled_at__lte=now,
            session__scheduled_at__gt=now - DUE_WINDOW)
    )
    return (
        CheckIn.objects.filter(episode__client=client, respondent=Respondent.CLIENT,
                               completed_at__isnull=True)
        .filter(window)
        .exclude(session__attendance__in=CANCELLED)
        .select_related("session", "episode")
        .order_by("created_at")
    )
