"""The submit service: validation, immutability, idempotency, audit, signal and the risk alert."""

from __future__ import annotations

import json
import uuid

import pytest
from django.db import connection
from django_scopes import scope

from rapport.alerts.models import Alert
from rapport.audit.models import AuditEvent
from rapport.checkins.models import Response, ResponseError
from rapport.checkins.services import submission
from rapport.checkins.services.answers import InvalidAnswers
from rapport.checkins.services.consent import accept_statement, needs_consent, publish_statement
from rapport.checkins.services.schedule import instruments_due, plan_session
from rapport.checkins.signals import response_stored
from tests.checkins.conftest import PHQ9_MILD, make_checkin


def test_it_stores_a_scored_response_with_audit_and_signal(practice):
    seen = []

    def receiver(sender, response, **kwargs):
        seen.append(response)

    response_stored.connect(receiver)
    try:
        with scope(organisation=[practice.org]):
            result = submission.submit(episode=practice.episode, instrument_id="phq9",
                                     answers=PHQ9_MILD, session=practice.session)
    finally:
        response_stored.disconnect(receiver)
    response = result.response
    assert result.created
    assert seen == [response]
    assert response.total == sum(PHQ9_MILD.values())
    assert response.severity_label == "mild" and response.severity_band == 1
    assert response.instrument_version == "1"
    assert response.flags == []
    assert response.answers["phq9-1"] == 1
    event = AuditEvent.objects.get(action="checkins.response.submitted")
    assert event.object_code == str(response.code)
    assert event.client_code == practice.client.code
    assert event.actor_label == f"client:{practice.client.code}"


def test_invalid_answers_store_nothing_and_say_which_item(practice):
    answers = PHQ9_MILD | {"phq9-3": 7}
    del answers["phq9-4"]
    with scope(organisation=[practice.org]):
        with pytest.raises(InvalidAnswers) as exc:
            submission.submit(episode=practice.episode, instrument_id="phq9", answers=answers)
        assert Response.objects.count() == 0
    assert set(exc.value.errors) == {"phq9-3", "phq9-4"}
    assert exc.value.errors["phq9-4"] == "Please answer this question."
    assert not AuditEvent.objects.filter(action="checkins.response.submitted").exists()


def test_a_response_cannot_be_changed(practice):
    with scope(organisation=[practice.org]):
        response = submission.submit(episode=practice.episode, instrument_id="phq9",
                                   answers=PHQ9_MILD).response
        response.total = 0
        with pytest.raises(ResponseError):
            response.save()
        assert Response.objects.get(pk=response.pk).total == sum(PHQ9_MILD.values())


def test_a_correction_supersedes_the_original(practice):
    with scope(organisation=[practice.org]):
        first = submission.submit(episode=practice.episode, instrument_id="phq9",
                                answers=PHQ9_MILD).response
        second = submission.submit(episode=practice.episode, instrument_id="phq9",
                                 answers=PHQ9_MILD | {"phq9-1": 3}, supersedes=first).response
        assert second.supersedes == first
        assert Response.objects.count() == 2


def test_the_same_submission_token_stores_one_response(practice):
    token = uuid.uuid4()
    with scope(organisation=[practice.org]):
        a = submission.submit(episode=practice.episode, instrument_id="phq9", answers=PHQ9_MILD,
            source=submission.Source(token=token))
        b = submission.submit(episode=practice.episode, instrument_id="phq9", answers=PHQ9_MILD,
            source=submission.Source(token=token))
        assert a.created and not b.created
        assert a.response.pk == b.response.pk
        assert Response.objects.count() == 1


def test_someone_elses_token_is_not_reused(practice):
    token = uuid.uuid4()
    with scope(organisation=[practice.org]):
        mine = submission.submit(episode=practice.episode, instrument_id="phq9", answers=PHQ9_MILD,
            source=submission.Source(token=token)).response
        theirs = submission.submit(episode=practice.colleague_episode, instrument_id="phq9",
            answers=PHQ9_MILD,
            source=submission.Source(token=token))
        assert theirs.created and theirs.response.pk != mine.pk
        assert theirs.response.episode == practice.colleague_episode


def test_a_checkin_takes_one_answer_per_questionnaire(practice):
    checkin = make_checkin(practice, instruments=("phq9",))
    with scope(organisation=[practice.org]):
        a = submission.submit(episode=practice.episode, instrument_id="phq9",
            answers=PHQ9_MILD, checkin=checkin,
            source=submission.Source(token=uuid.uuid4()))
        b = submission.submit(episode=practice.episode, instrument_id="phq9",
            answers=PHQ9_MILD, checkin=checkin,
            source=submission.Source(token=uuid.uuid4()))
        assert not b.created and b.response.pk == a.response.pk
        checkin.refresh_from_db()
        assert checkin.is_complete


def test_free_text_is_encrypted_at_rest(practice):
    secret = "I have not told anyone about the panic attacks"
    with scope(organisation=[practice.org]):
        response = submission.submit(
            episode=practice.episode, instrument_id="session-prep",
            answers={"since-last": 4, "tell-therapist": secret},
        ).response
        assert response.free_text_answers == {"tell-therapist": secret}
        assert "tell-therapist" not in response.answers
    with connection.cursor() as cursor:
        cursor.execute("SELECT free_text, answers FROM checkins_response WHERE id = %s", [response.pk])
        raw_text, raw_answers = cursor.fetchone()
    assert "panic" not in raw_text
    assert "panic" not in json.dumps(raw_answers)


def test_a_risk_answer_raises_an_urgent_alert_in_the_same_transaction(practice):
    with scope(organisation=[practice.org]):
        response = submission.submit(episode=practice.episode, instrument_id="phq9",
                                   answers=PHQ9_MILD | {"phq9-9": 2},
                                   session=practice.session).response
        assert response.flags == ["risk:phq9-9"]
        alert = Alert.objects.get(episode=practice.episode, kind="risk")
    assert alert.severity == "urgent"
    assert alert.key == f"risk:{response.code}"
    assert alert.evidence["item"] == "phq9-9"
    assert alert.evidence["value"] == 2
    assert alert.evidence["response"] == str(response.code)


def test_a_therapist_response_needs_the_therapist(practice):
    answers = {k: 7 for k in ("trust", "empathy", "genuineness", "respect", "listening", "safety",
                              "goals", "warmth", "acceptance", "authenticity", "self-awareness")}
    with scope(organisation=[practice.org]):
        with pytest.raises(ValueError):
            submission.submit(episode=practice.episode, instrument_id="therapist-reflection",
                answers=answers,
                source=submission.Source(respondent="therapist"))
        response = submission.submit(episode=practice.episode, instrument_id="therapist-reflection",
            answers=answers,
            source=submission.Source(respondent="therapist", user=practice.therapist)).response
    assert response.respondent_user == practice.therapist
    assert response.total == 70


def test_the_schedule_asks_every_nth_session_and_at_intake():
    rules = [
        {"instrument": "session-prep", "when": "before", "every": 1},
        {"instrument": "gad7", "when": "before", "every": 3},
        {"instrument": "cnip", "when": "intake", "every": 1},
        {"instrument": "relationship-checkin", "when": "after", "every": 1},
        {"instrument": "phq9", "when": "discharge", "every": 1},
    ]
    assert instruments_due(rules, 1, "before") == ["session-prep", "gad7", "cnip"]
    assert instruments_due(rules, 2, "before") == ["session-prep"]
    assert instruments_due(rules, 4, "before") == ["session-prep", "gad7"]
    assert instruments_due(rules, 2, "after") == ["relationship-checkin"]
    assert instruments_due(rules, 0, "discharge") == ["phq9"]


def test_planning_a_session_splits_client_and_therapist_checkins(practice):
    with scope(organisation=[practice.org]):
        planned = plan_session(practice.session)
        again = plan_session(practice.session)
        by = {(c.when, c.respondent): c.instruments for c in planned}
    assert [c.pk for c in planned] == [c.pk for c in again]
    assert by[("before", "client")] == ["session-prep", "phq9", "gad7", "cnip"]
    assert by[("after", "client")] == ["relationship-checkin"]
    assert by[("after", "therapist")] == ["therapist-reflection"]


def test_a_new_statement_version_asks_again(practice):
    with scope(organisation=[practice.org]):
        first = needs_consent(practice.client)
        assert first is not None and first.version == 1
        accept_statement(practice.client, first)
        assert needs_consent(practice.client) is None
        publish_statement(practice.org, "A new statement.")
        second = needs_consent(practice.client)
        assert second is not None and second.version == 2
