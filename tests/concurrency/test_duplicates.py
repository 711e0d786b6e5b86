"""Simultaneous submissions of one answer store one response (issue 7, item 7).

Eight callers submit at the same moment; the database's unique constraints decide, and every
caller must get the stored response back: no error, no second row, one audit event, one alert.
"""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.test import Client as HttpClient
from django_scopes import scope

from rapport.alerts.models import Alert
from rapport.audit.models import AuditEvent
from rapport.care.models import Session
from rapport.checkins.models import Response
from rapport.checkins.services import submission
from tests.checkins.conftest import accept_consent, make_link
from tests.concurrency.conftest import PHQ9_MILD, PHQ9_RISK, at_once, phq9_checkin, phq9_form

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

N = 8


def stored(practice, checkin):
    with scope(organisation=[practice.org]):
        responses = list(Response.objects.filter(checkin=checkin))
        alerts = list(Alert.objects.filter(episode=checkin.episode, kind="risk"))
    events = AuditEvent.objects.filter(action="checkins.response.submitted")
    return responses, alerts, list(events)


@pytest.fixture
def all_past_the_lookup(monkeypatch):
    """Hold every caller after submit's look-up of its token until all have made it.

    Without this the first caller often commits before the last one looks, and the race is
    decided by the look-up; with it, every caller reaches the insert and the unique
    constraint has to decide.
    """
    barriers = {}
    real = submission.check_answers

    def check_answers(instrument, answers):
        barrier = barriers.get("now")
        if barrier is not None:
            barrier.wait()
        return real(instrument, answers)

    monkeypatch.setattr(submission, "check_answers", check_answers)
    return barriers


def test_the_same_token_at_once_through_submit_stores_one(practice, all_past_the_lookup):
    checkin = phq9_checkin(practice)
    token = uuid.uuid4()

    def work(i, barrier):
        barrier.wait()
        with scope(organisation=[practice.org]):
            return submission.submit(episode=practice.episode, instrument_id="phq9",
                answers=PHQ9_RISK, checkin=checkin,
                source=submission.Source(token=token))

    all_past_the_lookup["now"] = threading.Barrier(N, timeout=20)
    results, errors = at_once(N, work)

    assert errors == []
    responses, alerts, events = stored(practice, checkin)
    assert len(responses) == 1
    [response] = responses
    assert response.submission_token == token
    assert {r.response.pk for r in results} == {response.pk}
    assert sum(r.created for r in results) == 1
    assert [e.object_code for e in events] == [str(response.code)]
    assert [a.key for a in alerts] == [f"risk:{response.code}"]
    checkin.refresh_from_db()
    assert checkin.completed_at == response.submitted_at


def test_two_tokens_for_one_questionnaire_at_once_store_one(practice, all_past_the_lookup):
    """Two devices answer the same check-in at once: the first answer stands, the other caller
    learns that its answers were not the ones stored (created=False, another token)."""
    checkin = phq9_checkin(practice)
    tokens = [uuid.uuid4() for _ in range(N)]

    def work(i, barrier):
        barrier.wait()
        with scope(organisation=[practice.org]):
            return submission.submit(episode=practice.episode, instrument_id="phq9",
                answers=PHQ9_MILD, checkin=checkin,
                source=submission.Source(token=tokens[i]))

    all_past_the_lookup["now"] = threading.Barrier(N, timeout=20)
    results, errors = at_once(N, work)

    assert errors == []
    responses, _, events = stored(practice, checkin)
    assert len(responses) == 1 and len(events) == 1
    [response] = responses
    winners = [i for i, r in enumerate(results) if r.created]
    assert len(winners) == 1
    assert response.submission_token == tokens[winners[0]]
    for i, result in enumerate(results):
        assert result.response.pk == response.pk
        if i not in winners:
            assert result.response.submission_token != tokens[i]


def test_the_same_tap_at_once_through_the_link_thanks_everyone(practice):
    """Eight posts of one form (a double tap, a flaky network resending) from separate
    connections: one response, and every one of them is thanked (none sees an error)."""
    accept_consent(practice)
    checkin = phq9_checkin(practice)
    link = make_link(practice, checkin)
    data = phq9_form(PHQ9_RISK, str(uuid.uuid4()))

    def work(i, barrier):
        web = HttpClient()
        barrier.wait()
        page = web.post(link, data)
        return page.status_code, page.content

    results, errors = at_once(N, work)

    assert errors == []
    assert [status for status, _ in results] == [200] * N
    assert all(b"your answers have been sent" in content for _, content in results)
    assert all(b"Your therapist has been alerted" in content for _, content in results)
    responses, alerts, events = stored(practice, checkin)
    assert len(responses) == 1 and len(events) == 1 and len(alerts) == 1
    assert str(responses[0].submission_token) == data["submission"]


def test_two_devices_at_once_through_the_link_one_is_told(practice):
    """Two phones post different answers to the same link at once: one is stored and thanked;
    the other is told the check-in was already answered, never thanked for answers not kept."""
    accept_consent(practice)
    checkin = phq9_checkin(practice)
    link = make_link(practice, checkin)
    forms = [phq9_form(PHQ9_MILD | {"phq9-1": i % 4}, str(uuid.uuid4())) for i in range(N)]

    def work(i, barrier):
        web = HttpClient()
        barrier.wait()
        page = web.post(link, forms[i])
        return page.status_code, page.content

    results, errors = at_once(N, work)

    assert errors == []
    responses, _, events = stored(practice, checkin)
    assert len(responses) == 1 and len(events) == 1
    winner = next(i for i, f in enumerate(forms)
                  if f["submission"] == str(responses[0].submission_token))
    for i, (status, content) in enumerate(results):
        if i == winner:
            assert status == 200 and b"your answers have been sent" in content
        else:
            assert status == 410 and b"already been used" in content


def test_two_steps_of_one_check_in_at_once_complete_it(practice, all_past_the_lookup):
    """The portal and a link store different questionnaires of one check-in at the same moment:
    both are stored and the check-in ends complete (the check-in row is locked while the
    second one looks at what has been answered)."""
    with scope(organisation=[practice.org]):
        from rapport.checkins.models import CheckIn, Respondent, When

        checkin = CheckIn.objects.create(
            organisation=practice.org, episode=practice.episode, session=practice.session,
            when=When.BEFORE, respondent=Respondent.CLIENT, instruments=["phq9", "session-prep"])
    answers = {"phq9": PHQ9_MILD, "session-prep": {"focus": "sleep", "since-last": 5}}

    def work(i, barrier):
        barrier.wait()
        instrument = ["phq9", "session-prep"][i]
        with scope(organisation=[practice.org]):
            return submission.submit(episode=practice.episode, instrument_id=instrument,
                answers=answers[instrument], checkin=checkin,
                source=submission.Source(token=uuid.uuid4()))

    all_past_the_lookup["now"] = threading.Barrier(2, timeout=20)
    results, errors = at_once(2, work)
    assert errors == []
    responses, _, _ = stored(practice, checkin)
    assert sorted(r.instrument_id for r in responses) == ["phq9", "session-prep"]
    checkin.refresh_from_db()
    assert checkin.completed_at is not None


def test_different_checkins_at_once_keep_the_audit_chain_whole(practice):
    """Eight clients' links answered at once (each answer's statement also takes the audit
    chain's lock and reads its head) while staff actions append events the usual way: every
    answer is stored with its one event, and the chain stays gapless and intact."""
    from rapport.audit import chain
    from rapport.audit.services import record

    accept_consent(practice)
    with scope(organisation=[practice.org]):  # one before-session check-in per session
        sessions = [Session.objects.create(
            organisation=practice.org, episode=practice.episode,
            scheduled_at=practice.session.scheduled_at + timedelta(days=7 * (n + 1)))
            for n in range(N // 2)]
    links = [make_link(practice, phq9_checkin(practice, session=s)) for s in sessions]

    def work(i, barrier):
        barrier.wait()
        if i % 2:  # a staff action's event, appended by record() alone
            with scope(organisation=[practice.org]):
                return record(None, "care.episode.viewed", practice.episode,
                              actor_label="system").seq
        page = HttpClient().post(links[i // 2], phq9_form(PHQ9_MILD, str(uuid.uuid4())))
        return page.status_code

    results, errors = at_once(N, work)

    assert errors == []
    assert [results[i] for i in range(0, N, 2)] == [200] * (N // 2)
    with scope(organisation=[practice.org]):
        assert Response.objects.count() == N // 2
        assert AuditEvent.objects.filter(action="checkins.response.submitted").count() == N // 2
        report = chain.verify(AuditEvent)
        seqs = sorted(AuditEvent.objects.values_list("seq", flat=True))
    assert report.intact, report.problems
    assert seqs == list(range(1, len(seqs) + 1))


def _locked_then_audited(practice, lock, link):
    """Two transactions at once: one locks a row (`lock()`) and, once the other is done or
    waits for a lock, appends to the audit trail; the other answers `link`. Returns their
    results and errors."""
    import threading

    from django.db import connection, transaction

    from rapport.audit.services import record

    answered = threading.Event()

    def someone_waits() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                           "current_database() AND wait_event_type = 'Lock'")
            return cursor.fetchone()[0] > 0

    locked = threading.Event()

    def work(i, barrier):
        barrier.wait()
        if i == 0:
            with scope(organisation=[practice.org]), transaction.atomic():
                lock()
                locked.set()
                for _ in range(200):  # until the answer is stored, or waits for this row
                    if answered.wait(0.05) or someone_waits():
                        break
                return record(None, "care.episode.viewed", practice.episode,
                              actor_label="system").seq
        locked.wait(10)
        try:
            return HttpClient().post(link, phq9_form(PHQ9_MILD, str(uuid.uuid4()))).status_code
        finally:
            answered.set()

    return at_once(2, work)


def _both_went_through(practice, results, errors) -> None:
    from rapport.audit import chain

    assert errors == []
    assert results[1] == 200
    with scope(organisation=[practice.org]):
        assert Response.objects.count() == 1
        assert AuditEvent.objects.filter(action="checkins.response.submitted").count() == 1
        assert chain.verify(AuditEvent).intact


def test_an_answer_goes_through_while_its_episode_is_locked_for_an_audited_change(practice):
    """A findings refresh holds the episode's row (to sync its alerts) and raises an alert,
    appending to the audit trail, while the client's answer is stored: the answer's foreign
    keys, checked at its commit under the chain's lock, take FOR KEY SHARE on the episode,
    which the refresh's FOR NO KEY UPDATE lets through. (Under FOR UPDATE the two waited for
    each other until PostgreSQL failed one.)"""
    from rapport.alerts import reads

    accept_consent(practice)
    link = make_link(practice, phq9_checkin(practice))
    results, errors = _locked_then_audited(
        practice, lambda: reads.lock_episode(practice.episode), link)
    _both_went_through(practice, results, errors)


def test_an_answer_waits_for_its_check_in_without_holding_the_audit_chain(practice):
    """A change that locks the check-in's row and then appends to the audit trail (storing
    another step of the check-in), while the link is answered: the answer waits for the row
    before it takes the chain's lock, so the change appends and commits, then the answer.
    (When the answer's statement took the chain's lock first, each waited for the other.)"""
    from rapport.checkins.models import CheckIn

    accept_consent(practice)
    checkin = phq9_checkin(practice)
    link = make_link(practice, checkin)
    results, errors = _locked_then_audited(
        practice, lambda: CheckIn.objects.select_for_update(no_key=True).get(pk=checkin.pk), link)
    _both_went_through(practice, results, errors)
    with scope(organisation=[practice.org]):
        submitted = AuditEvent.objects.get(action="checkins.response.submitted")
    assert submitted.seq > results[0]  # appended after the change that held the row


def test_a_findings_sync_and_a_step_on_one_of_its_alerts_take_turns(practice):
    """A clinician's step on an alert locks it, then appends to the audit trail (as
    `alerts.services.transition` does); a findings sync of the episode appends (an alert it
    raises or updates) and then saves its other alerts. The sync locks the alerts when it reads
    them, so it waits for the step's row before it appends. (When it read them unlocked, the
    step waited for the sync's audit lock and the sync for the step's alert: PostgreSQL failed
    one of them.)"""
    import threading

    from django.db import connection, transaction
    from django.utils import timezone

    from rapport.alerts import reads
    from rapport.alerts.models import Alert
    from rapport.audit.services import record
    from tests.alerts.conftest import make_alert

    with scope(organisation=[practice.org]):
        alert = make_alert(practice)
    stepped, appended = threading.Event(), threading.Event()

    def someone_waits() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                           "current_database() AND wait_event_type = 'Lock'")
            return cursor.fetchone()[0] > 0

    def work(i, barrier):
        barrier.wait()
        with scope(organisation=[practice.org]), transaction.atomic():
            if i == 0:  # the step: the alert's row, then the trail
                Alert.objects.select_for_update(no_key=True).get(pk=alert.pk)
                stepped.set()
                for _ in range(200):  # until the sync has appended, or waits for this row
                    if appended.wait(0.05) or someone_waits():
                        break
                return record(None, "alerts.alert.acknowledged", alert, actor_label="system").seq
            stepped.wait(10)  # the sync: the episode and its alerts, the trail, then the alerts
            reads.lock_episode(practice.episode)
            read = reads.alerts_of(practice.episode)
            seq = record(None, "alerts.alert.updated", alert, actor_label="system").seq
            appended.set()
            Alert.objects.filter(pk__in=[a.pk for a in read]).update(last_seen_at=timezone.now())
            return seq

    results, errors = at_once(2, work)

    assert errors == []
    assert results[1] > results[0]  # the sync appended after the step it waited for
