"""A small hand-built practice for the analytics tests, with answers known in advance.

`known` adds to the shared `practice` fixture (period: 2026-01-01 to 2026-11-20):

therapist (supervised by `supervisor`):
- `improver` (the fixture's episode): PHQ-9 20 -> 8 (reliable recovery), 6 attended sessions,
  relationship ratings 80 80 80 80 80 80 (mean 80); 4 client check-ins due, 3 completed.
- `deteriorator`: PHQ-9 12 -> 19 (reliable deterioration); relationship 80 80 80 80 40 80 80:
  a rupture at session 5, repaired (back at the usual level at 6 and 7); 7 attended sessions.
- `dropout`: dropped out on 2026-10-01, PHQ-9 15 -> 14 (no reliable change); relationship
  80 80 80 80 40 42 40: a rupture at session 5, not repaired; 1 check-in due, not completed.
colleague: their fixture episode, completed on 2026-10-15, PHQ-9 9 -> 3 (reliable improvement;
  not a case at intake).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.cache import cache
from django_scopes import scope

from rapport.care.models import Attendance, CareEpisode, Client, EpisodeStatus, Session
from rapport.checkins.models import CheckIn, Respondent, Response, When

PERIOD = {"date_from": "2026-01-01", "date_to": "2026-11-20"}


def add_sessions(episode, count: int, *, start: datetime | None = None) -> list[Session]:
    """`count` weekly attended sessions, the first at `start` (or the episode's first day)."""
    start = start or datetime.combine(episode.started_on, datetime.min.time(), tzinfo=UTC)
    return [
        Session.objects.create(organisation=episode.organisation, episode=episode,
                               scheduled_at=start + timedelta(days=7 * i, hours=10),
                               attendance=Attendance.ATTENDED)
        for i in range(count)
    ]


def score(session: Session, instrument: str, total: float, *, respondent=Respondent.CLIENT) -> Response:
    return Response.objects.create(
        organisation=session.organisation, episode=session.episode, session=session,
        instrument_id=instrument, instrument_version="1", respondent=respondent, total=total,
        submitted_at=session.scheduled_at + timedelta(hours=1),
    )


def scores(sessions: list[Session], instrument: str, totals: list[float | None]) -> None:
    for session, total in zip(sessions, totals, strict=False):
        if total is not None:
            score(session, instrument, total)


def checkin(session: Session, *, done: bool) -> CheckIn:
    return CheckIn.objects.create(
        organisation=session.organisation, episode=session.episode, session=session,
        when=When.BEFORE, respondent=Respondent.CLIENT, instruments=["phq9"],
        completed_at=session.scheduled_at if done else None,
    )


def new_episode(practice, therapist, name: str, *, started: date, status=EpisodeStatus.ACTIVE,
                ended: date | None = None) -> CareEpisode:
    client = Client.objects.create(organisation=practice.org, name=name)
    return CareEpisode.objects.create(
        organisation=practice.org, client=client, therapist=therapist, started_on=started,
        status=status, ended_on=ended, presenting_concerns="private",
    )


@dataclass
class Known:
    practice: object
    improver: CareEpisode
    deteriorator: CareEpisode
    dropout: CareEpisode
    colleague: CareEpisode


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Expected-treatment-response curves are cached per practice; start every test cold.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def known(practice) -> Known:
    p = practice
    with scope(organisation=p.org):
        # The fixture's episode already has one (scheduled) session on 2026-09-01: make it the
        # first attended one and add five more.
        first = p.session
        first.attendance = Attendance.ATTENDED
        first.save()
        s = [first, *add_sessions(p.episode, 5, start=datetime(2026, 9, 8, tzinfo=UTC))]
        scores(s, "phq9", [20, 17, 14, 12, 10, 8])
        scores(s, "relationship-checkin", [80] * 6)
        for session, done in zip(s[:4], [True, True, True, False], strict=True):
            checkin(session, done=done)

        det = new_episode(p, p.therapist, "Deteriorating Client", started=date(2026, 8, 3))
        s = add_sessions(det, 7)
        scores(s, "phq9", [12, 13, 15, 16, 17, 18, 19])
        scores(s, "relationship-checkin", [80, 80, 80, 80, 40, 80, 80])

        drop = new_episode(p, p.therapist, "Leaving Client", started=date(2026, 7, 27),
                           status=EpisodeStatus.DROPPED_OUT, ended=date(2026, 10, 1))
        s = add_sessions(drop, 7)
        scores(s, "phq9", [15, None, None, None, None, None, 14])
        scores(s, "relationship-checkin", [80, 80, 80, 80, 40, 42, 40])
        checkin(s[0], done=False)

        col = p.colleague_episode
        col.status, col.ended_on = EpisodeStatus.COMPLETED, date(2026, 10, 15)
        col.save()
        s = [p.colleague_session, *add_sessions(col, 3, start=datetime(2026, 9, 8, tzinfo=UTC))]
        scores(s, "phq9", [9, 7, 5, 3])
    return Known(p, p.episode, det, drop, col)


def cells(response, caption: str, label: str) -> list:
    """The cells of one row (by its label's start) of one table (by caption) on the page."""
    for table in response.context["tables"]:
        if table["caption"] == caption:
            for row in table["rows"]:
                if row["label"].startswith(label):
                    return row["cells"]
    raise AssertionError(f"no row {label!r} in {caption!r}")


def columns(response, caption: str = "Caseload") -> list[str]:
    return next(t["columns"] for t in response.context["tables"] if t["caption"] == caption)
