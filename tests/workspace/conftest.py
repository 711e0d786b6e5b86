"""Helpers for the workspace tests: episodes with sessions, scores, ratings, goals and alerts,
all built through the services (check-in submission, alerts, goals)."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone
from django_scopes import scope

from rapport.alerts.services import raise_alert
from rapport.care.models import Attendance, CareEpisode, Client, Session
from rapport.checkins.models import CheckIn, Respondent, When
from rapport.checkins.services import submission

COMPONENTS = ("trust", "empathy", "genuineness", "respect", "listening", "safety", "goals")


def relationship(level: int, **overrides) -> dict:
    return {**dict.fromkeys(COMPONENTS, level), **overrides}


def reflection(level: int) -> dict:
    return dict.fromkeys((*COMPONENTS, "warmth", "acceptance", "authenticity", "self-awareness"), level)


def phq9(total: int) -> dict:
    """PHQ-9 answers adding up to `total` (0-27), item 9 (risk) always 0."""
    values = [min(3, max(0, total - 3 * i)) for i in range(8)]
    return {f"phq9-{i + 1}": v for i, v in enumerate(values)} | {"phq9-9": 0}


def gad7(total: int) -> dict:
    values = [min(3, max(0, total - 3 * i)) for i in range(7)]
    return {f"gad7-{i + 1}": v for i, v in enumerate(values)}


def new_episode(practice, name: str, *, therapist=None, past: int = 2, future: int = 1,
                concerns: str = "") -> tuple[CareEpisode, list[Session]]:
    """An active episode with `past` attended weekly sessions up to last week and `future`
    booked ones from next week."""
    now = timezone.now()
    with scope(organisation=practice.org):
        client = Client.objects.create(organisation=practice.org, name=name)
        episode = CareEpisode.objects.create(
            organisation=practice.org, client=client, therapist=therapist or practice.therapist,
            started_on=date.today() - timedelta(weeks=past + 1), presenting_concerns=concerns,
        )
        sessions = [
            Session.objects.create(organisation=practice.org, episode=episode,
                                   scheduled_at=now - timedelta(weeks=past - i) + timedelta(days=2),
                                   attendance=Attendance.ATTENDED)
            for i in range(past)
        ] + [
            Session.objects.create(organisation=practice.org, episode=episode,
                                   scheduled_at=now + timedelta(weeks=i + 1))
            for i in range(future)
        ]
    return episode, sessions


def submit(practice, episode, session, instrument: str, answers: dict, *, user=None, days=0):
    with scope(organisation=practice.org):
        return submission.submit(episode=episode, instrument_id=instrument,
            answers=answers, session=session,
            source=submission.Source(respondent=Respondent.THERAPIST if user else Respondent.CLIENT,
                user=user, at=session.scheduled_at + timedelta(hours=2, days=days))).response


def alert(practice, episode, severity: str, kind: str = "rupture", **kwargs):
    with scope(organisation=practice.org):
        return raise_alert(episode=episode, kind=kind, severity=severity,
                           key=f"{kind}:{severity}:{episode.code}", evidence={"score": 40}, **kwargs)


def open_checkin(practice, episode, session, when=When.BEFORE):
    with scope(organisation=practice.org):
        return CheckIn.objects.create(organisation=practice.org, episode=episode, session=session,
                                      when=when, respondent=Respondent.CLIENT, instruments=["phq9"])
