"""The demo practice: its shape and its realism (reproducibility: test_demo_reproducible.py)."""

from collections import Counter
from datetime import date, datetime, time

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from django_scopes import scopes_disabled

from rapport.accounts.models import Membership, Role, Supervision
from rapport.care.models import Attendance, CareEpisode, Client, EpisodeStatus, Session
from rapport.demo.generator import STORIES
from rapport.scheduling.models import Delivery, SentReminder
from rapport.scheduling.tasks import send_checkin_invitations, send_session_reminders
from tests.conftest import built_once_per_module, fresh
from tests.demo_snapshot import load_demo

TODAY = date(2026, 11, 25)


# Built once for the module's tests, which only read it (see built_once_per_module).
demo_built = built_once_per_module(lambda: load_demo(seed=7, today=TODAY))


@pytest.fixture
def demo(demo_built, db):
    return fresh(demo_built)


def test_demo_has_the_promised_people(demo):
    roles = Counter(Membership.objects.filter(organisation=demo.organisation).values_list("role", flat=True))
    assert roles == {Role.ADMIN: 1, Role.SUPERVISOR: 1, Role.THERAPIST: 3}
    assert Supervision.objects.count() == 2
    with scopes_disabled():
        assert Client.objects.count() == 36
        assert CareEpisode.objects.count() == 36
        # Caseloads are shared evenly between the three therapists.
        per_therapist = Counter(CareEpisode.objects.values_list("therapist_id", flat=True))
        assert sorted(per_therapist.values()) == [12, 12, 12]


def test_demo_spans_six_months_with_realistic_attendance(demo):
    with scopes_disabled():
        first = min(e.started_on for e in CareEpisode.objects.all())
        past = Session.objects.exclude(attendance=Attendance.SCHEDULED)
        counts = Counter(past.values_list("attendance", flat=True))
        upcoming = Session.objects.filter(attendance=Attendance.SCHEDULED)
        dropped = CareEpisode.objects.filter(status=EpisodeStatus.DROPPED_OUT).count()
        assert all(s.scheduled_at.date() > TODAY for s in upcoming)
    assert (TODAY - first).days >= 150
    share_attended = counts[Attendance.ATTENDED] / sum(counts.values())
    assert 0.70 <= share_attended <= 0.92
    assert counts[Attendance.NO_SHOW] > 0 and counts[Attendance.CANCELLED_CLIENT] > 0
    assert dropped == STORIES.count("dropping_out")


def test_every_client_has_a_story(demo):
    assert Counter(p.story for p in demo.plans) == Counter(STORIES)


def test_active_episodes_are_current(demo):
    """An active episode has met within the last fortnight and has its next appointment booked."""
    for plan in demo.plans:
        if plan.episode.status != EpisodeStatus.ACTIVE:
            continue
        past = [s.scheduled_at.date() for s in plan.sessions if s.attendance != Attendance.SCHEDULED]
        upcoming = [s for s in plan.sessions if s.attendance == Attendance.SCHEDULED]
        assert past and (TODAY - max(past)).days <= 14, plan.story
        assert upcoming, plan.story


def test_therapist_one_has_the_unrepaired_rupture_and_not_the_risk(demo):
    """The demo's story: Sam Rivera's caseload opens on the rupture; risk is elsewhere."""
    first = demo.staff.therapists[0]
    mine = Counter(p.story for p in demo.plans if p.episode.therapist_id == first.pk)
    assert mine["rupture_unrepaired"] == 1 and mine["rupture_repaired"] == 1
    assert mine["deteriorating"] == 0 and mine["stalling"] == 0


def test_most_ended_episodes_are_planned_endings(demo):
    """About 20% of adults drop out (DESIGN.md): most ended episodes are completed, 12-16 sessions."""
    ended = [p for p in demo.plans if p.episode.status != EpisodeStatus.ACTIVE]
    dropped = [p for p in ended if p.episode.status == EpisodeStatus.DROPPED_OUT]
    assert ended and len(dropped) / len(ended) <= 1 / 3
    for plan in ended:
        if plan.episode.status == EpisodeStatus.COMPLETED:
            past = [s for s in plan.sessions if s.attendance != Attendance.SCHEDULED]
            assert 12 <= len(past) <= 16


def test_the_demo_scheduler_has_reminders_and_invitations_to_send_at_any_hour(demo):
    """`make demo` shows the scheduler at work within its first minute: the demo practice reminds
    and invites two days ahead with no quiet hours, and its appointments start the next day."""
    late = datetime.combine(TODAY, time(23, 30), tzinfo=timezone.get_current_timezone())
    with time_machine.travel(late, tick=False):
        send_session_reminders.apply()
        send_checkin_invitations.apply()
    subjects = [m.subject for m in mail.outbox]
    assert any("reminder" in s for s in subjects), subjects
    assert any("check-in" in s for s in subjects), subjects
    with scopes_disabled():
        assert not SentReminder.objects.filter(status=Delivery.HELD).exists()
        sent = SentReminder.objects.filter(status=Delivery.SENT)
        assert {r.session.scheduled_at > late for r in sent} == {True}
