"""Helpers for the alerts tests: raise alerts, add sessions, store check-ins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django_scopes import scope

from rapport.alerts import services
from rapport.care.models import Attendance, Session

COMPONENTS = ("trust", "empathy", "genuineness", "respect", "listening", "safety", "goals")


@pytest.fixture
def in_scope(practice):
    """Run the test body inside the practice's organisation scope (as a request would)."""
    with scope(organisation=practice.org):
        yield practice


def make_alert(practice, *, kind="rupture", severity="warning", key=None, evidence=None,
               episode=None, **kwargs):
    episode = episode or practice.episode
    with scope(organisation=practice.org):
        return services.raise_alert(
            episode=episode, kind=kind, severity=severity,
            key=key or f"{kind}:relationship-checkin:5",
            evidence=evidence if evidence is not None else {"score": 40, "usual": 80},
            **kwargs,
        )


def add_sessions(practice, count: int, *, episode=None, start=None) -> list[Session]:
    """`count` weekly attended sessions after the fixture's first one."""
    episode = episode or practice.episode
    start = start or datetime(2026, 9, 8, 10, tzinfo=UTC)
    with scope(organisation=practice.org):
        return [
            Session.objects.create(
                organisation=practice.org, episode=episode,
                scheduled_at=start + timedelta(weeks=i), attendance=Attendance.ATTENDED,
            )
            for i in range(count)
        ]


def checkin_answers(level: int, **overrides) -> dict:
    answers = {name: level for name in COMPONENTS}
    answers.update(overrides)
    return answers
