"""A new response updates its episode's findings at once, through the check-in service."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django_scopes import scope

from rapport.alerts import findings as glue
from rapport.alerts.models import Alert
from rapport.care.models import Attendance, Session
from rapport.checkins.services import submission
from tests.alerts.conftest import add_sessions, checkin_answers


@pytest.fixture
def sessions(practice):
    return [practice.session, *add_sessions(practice, 7)]


def submit(practice, session, level, *, instrument="relationship-checkin", answers=None,
           supersedes=None, episode=None):
    with scope(organisation=practice.org):
        return submission.submit(
            episode=episode or practice.episode, instrument_id=instrument,
            answers=answers if answers is not None else checkin_answers(level),
            session=session, supersedes=supersedes,
        ).response


def alerts(practice, **filters):
    with scope(organisation=practice.org):
        return list(Alert.objects.filter(episode=practice.episode, **filters))


def test_a_rupture_appears_as_soon_as_the_response_is_stored(
        practice, sessions, django_capture_on_commit_callbacks):
    for s, level in zip(sessions[:4], (8, 9, 8, 9), strict=True):
        with django_capture_on_commit_callbacks(execute=True):
            submit(practice, s, level)
    assert alerts(practice) == []
    with django_capture_on_commit_callbacks(execute=True):
        submit(practice, sessions[4], 3, answers=checkin_answers(5, goals=0))
    (rupture,) = alerts(practice, kind="rupture")
    assert rupture.session == sessions[4]
    assert rupture.session_number == 5
    assert rupture.severity == "warning" and rupture.status == "open"
    assert rupture.evidence["score"] == round((6 * 5 + 0) / 7 * 10, 2)  # item mean times 10
    assert rupture.evidence["weakest_component"] == "goals"
    assert any("Revisit the goals together" in s for s in rupture.suggestions)


def test_nothing_happens_before_the_response_commits(
        practice, sessions, django_capture_on_commit_callbacks):
    for s, level in zip(sessions[:4], (8, 9, 8, 9), strict=True):
        with django_capture_on_commit_callbacks(execute=True):
            submit(practice, s, level)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        submit(practice, sessions[4], 2)
    assert alerts(practice) == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(alerts(practice, kind="rupture")) == 1


def test_a_repair_is_noted_on_the_open_rupture(practice, sessions,
                                               django_capture_on_commit_callbacks):
    for s, level in zip(sessions[:6], (8, 9, 8, 9, 2, 9), strict=True):
        with django_capture_on_commit_callbacks(execute=True):
            submit(practice, s, level)
    (rupture,) = alerts(practice, kind="rupture")
    with scope(organisation=practice.org):
        notes = list(rupture.steps.all())
    assert len(notes) == 1 and notes[0].is_note and "session 6" in notes[0].note
    assert alerts(practice, kind="rupture_repaired") == []


def test_a_superseded_response_no_longer_counts(practice, sessions,
                                                django_capture_on_commit_callbacks):
    for s, level in zip(sessions[:4], (8, 9, 8, 9), strict=True):
        with django_capture_on_commit_callbacks(execute=True):
            submit(practice, s, level)
    with django_capture_on_commit_callbacks(execute=True):
        wrong = submit(practice, sessions[4], 1)
    (alert,) = alerts(practice, kind="rupture")
    with django_capture_on_commit_callbacks(execute=True):
        submit(practice, sessions[4], 9, supersedes=wrong)
    alert.refresh_from_db()
    assert alert.ongoing is False  # no longer found; a person closes it
    assert alert.status == "open"


def test_a_risk_answer_raises_one_urgent_alert_not_two(practice, sessions,
                                                       django_capture_on_commit_callbacks):
    answers = {f"phq9-{n}": 1 for n in range(1, 10)}
    for s in sessions[:3]:
        with django_capture_on_commit_callbacks(execute=True):
            submit(practice, s, 0, instrument="phq9", answers=answers)
    risk = alerts(practice, kind="risk")
    assert len(risk) == 3  # one per response (the check-in path), none from the core
    assert {a.severity for a in risk} == {"urgent"}


def test_outcome_deterioration_is_found(practice, sessions, django_capture_on_commit_callbacks):
    for s, total in zip(sessions[:4], (8, 10, 14, 16), strict=True):
        answers = {f"phq9-{n}": 0 for n in range(1, 10)}
        for n in range(1, 1 + total // 2):
            answers[f"phq9-{n}"] = 2
        with django_capture_on_commit_callbacks(execute=True):
            submit(practice, s, 0, instrument="phq9", answers=answers)
    kinds = {a.kind for a in alerts(practice)}
    assert "reliable_deterioration" in kinds


def test_sessions_are_numbered_without_cancellations(practice, sessions):
    with scope(organisation=practice.org):
        Session.objects.filter(pk=sessions[1].pk).update(attendance=Attendance.CANCELLED_CLIENT)
        data = glue.build_history(practice.episode)
    assert data.sessions[1] == sessions[0]
    assert data.sessions[2] == sessions[2]
    assert sessions[1] not in data.sessions.values()


def test_the_history_reads_components_on_their_own_scale(practice, sessions):
    submit(practice, sessions[0], 7, answers=checkin_answers(7, safety=3))
    with scope(organisation=practice.org):
        history = glue.build_history(practice.episode).history
    (series,) = history.alliance
    assert series.totals[0] == pytest.approx((6 * 7 + 3) / 7 * 10, abs=0.01)
    assert series.components["safety"] == (3.0,)
    assert (series.scale_min, series.scale_max) == (0.0, 100.0)
    assert (series.component_min, series.component_max) == (0.0, 10.0)


def test_refresh_findings_covers_every_practice(practice, other_practice, sessions):
    for s, level in zip(sessions[:5], (8, 9, 8, 9, 2), strict=True):
        submit(practice, s, level)  # no commit callbacks run here: the command catches up
    other_sessions = [other_practice.session, *add_sessions(other_practice, 4)]
    for s, level in zip(other_sessions, (9, 8, 9, 8, 1), strict=True):
        submit(other_practice, s, level, episode=other_practice.episode)
    assert alerts(practice) == []
    call_command("refresh_findings", verbosity=0)
    assert len(alerts(practice, kind="rupture")) == 1
    with scope(organisation=other_practice.org):
        assert Alert.objects.filter(episode=other_practice.episode, kind="rupture").count() == 1
    call_command("refresh_findings", verbosity=0)  # idempotent
    assert len(alerts(practice)) == len({a.key for a in alerts(practice)})


def test_a_failing_refresh_never_loses_the_response(practice, sessions, monkeypatch,
                                                    django_capture_on_commit_callbacks, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("monitoring failed")

    monkeypatch.setattr(glue, "refresh_episode", broken)
    with django_capture_on_commit_callbacks(execute=True):
        response = submit(practice, sessions[0], 8)
    assert response.pk is not None
    assert "monitoring failed" in caplog.text


def test_practice_curves_are_cached(practice, sessions, django_assert_max_num_queries):
    with scope(organisation=practice.org):
        glue.trajectories_for(practice.org, refit=True)
        with django_assert_max_num_queries(0):
            glue.trajectories_for(practice.org)


def test_an_old_start_date_does_not_matter(practice):
    # Sessions in the past and future both count by order, not by date.
    later = add_sessions(practice, 2, start=datetime(2030, 1, 1, 9, tzinfo=UTC))
    with scope(organisation=practice.org):
        numbers = glue.build_history(practice.episode).sessions
    assert numbers == {1: practice.session, 2: later[0], 3: later[1]}


def test_the_history_has_the_client_check_ins_due_at_past_sessions(practice, sessions):
    """A client check-in planned for a session that has taken place was due there, answered or
    not; one for a session still to come, and the therapist's own, were not."""
    from datetime import timedelta

    from django.utils import timezone

    from rapport import monitoring as mon
    from rapport.checkins.models import CheckIn

    (later,) = add_sessions(practice, 1, start=timezone.now() + timedelta(days=7))
    with scope(organisation=practice.org):
        for session, respondent, answered in ((sessions[0], "client", True),
                                              (sessions[1], "client", False),
                                              (sessions[2], "therapist", False),
                                              (later, "client", False)):
            CheckIn.objects.create(
                organisation=practice.org, episode=practice.episode, session=session,
                when="before", respondent=respondent, instruments=["phq9"],
                completed_at=timezone.now() if answered else None)
        history = glue.build_history(practice.episode).history
    assert history.checkins == (mon.CheckIn(1, True), mon.CheckIn(2, False))
