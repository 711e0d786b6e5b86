"""Helpers for goal tests: scoped service calls and stored goal-progress ratings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django_scopes import scope

from rapport.care.models import Attendance, Session
from rapport.checkins.models import Respondent, Response
from rapport.checkins.signals import response_stored


@pytest.fixture
def in_org(practice):
    """Run the test body inside the practice's organisation scope."""
    with scope(organisation=[practice.org]):
        yield practice


def add_sessions(episode, count: int, attendance=Attendance.ATTENDED, start=None) -> list[Session]:
    """`count` weekly sessions after the episode's last one (or `start`)."""
    last = Session.objects.filter(episode=episode).order_by("-scheduled_at").first()
    at = start or (last.scheduled_at + timedelta(weeks=1))
    sessions = []
    for n in range(count):
        sessions.append(Session.objects.create(
            organisation=episode.organisation, episode=episode,
            scheduled_at=at + timedelta(weeks=n), attendance=attendance,
        ))
    return sessions


def rate(episode, ratings: dict, session=None, at=None) -> Response:
    """Store one goal-progress response as the check-in app stores it, and send its signal.

    Created directly: `checkins.services.submission.submit` does not accept goal-progress answers yet (its
    template item is reported missing); the stored shape (linkId = goal code -> 0-10) is the same.
    """
    response = Response(
        organisation=episode.organisation, episode=episode, session=session,
        instrument_id="goal-progress", instrument_version="1", respondent=Respondent.CLIENT,
        answers={str(k): v for k, v in ratings.items()},
        total=sum(ratings.values()) / len(ratings),
    )
    if at is not None:
        response.submitted_at = at
    elif session is not None:
        response.submitted_at = session.scheduled_at + timedelta(hours=1)
    response.save()
    response_stored.send(sender=Response, response=response)
    return response
