"""A failure in the middle of a submission leaves nothing half-written (issue 7, item 7).

Each step inside `submit`'s transaction is made to fail after doing its work (so its rows were
written and must be rolled back): the audit event, the risk alert, the check-in's completion,
a `response_stored` receiver. Nothing may remain; the retry with the same token stores one.
"""

from __future__ import annotations

import uuid

import pytest
from django.test import Client as HttpClient
from django_scopes import scope

from rapport.alerts import receivers as alert_receivers
from rapport.alerts.models import Alert
from rapport.audit.models import AuditEvent
from rapport.checkins.models import Draft, Invitation, Response
from rapport.checkins.services import answers, submission
from rapport.checkins.signals import response_stored
from tests.checkins.conftest import accept_consent, make_link
from tests.concurrency.conftest import PHQ9_RISK, phq9_checkin, phq9_form

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class Fault(RuntimeError):
    """The injected failure."""


def after(real):
    """`real`, then a failure: the step's own writes happened and must be undone."""

    def failing(*args, **kwargs):
        real(*args, **kwargs)
        raise Fault("injected")

    return failing


def failing_receiver(sender, response, **kwargs):
    raise Fault("injected")


STEPS = ["audit event", "risk alert", "check-in completion", "response_stored receiver"]


@pytest.fixture
def fault(request, monkeypatch):
    """Make one step of the submission fail; returns a function that heals it."""
    step = request.param
    if step == "audit event":
        real = submission.record

        def record(request, action, *args, **kwargs):
            (after(real) if action == "checkins.response.submitted" else real)(
                request, action, *args, **kwargs)

        monkeypatch.setattr(submission, "record", record)
    elif step == "risk alert":
        monkeypatch.setattr(alert_receivers, "raise_alert", after(alert_receivers.raise_alert))
    elif step == "check-in completion":  # a one-questionnaire check-in on PostgreSQL: stored,
        # completed and its link used in one statement, which succeeds before the fault
        monkeypatch.setattr(submission, "_store_completing", after(submission._store_completing))
    else:
        response_stored.connect(failing_receiver, dispatch_uid="tests.concurrency.fault")

    def heal():
        monkeypatch.undo()
        response_stored.disconnect(dispatch_uid="tests.concurrency.fault")

    yield heal
    heal()


def state(practice, checkin):
    with scope(organisation=[practice.org]):
        checkin.refresh_from_db()
        return {
            "responses": Response.objects.count(),
            "submitted events": AuditEvent.objects.filter(
                action="checkins.response.submitted").count(),
            "alerts": Alert.objects.count(),
            "completed": checkin.completed_at is not None,
            "links used": Invitation.objects.filter(used_at__isnull=False).count(),
            "drafts": Draft.objects.filter(checkin=checkin).count(),
        }


NOTHING = {"responses": 0, "submitted events": 0, "alerts": 0, "completed": False,
           "links used": 0, "drafts": 1}


def prepared(practice):
    """An open PHQ-9 check-in with a link and a saved draft (deleted only by a stored answer)."""
    accept_consent(practice)
    checkin = phq9_checkin(practice)
    link = make_link(practice, checkin)
    with scope(organisation=[practice.org]):
        answers.save_draft(checkin, "phq9", {"phq9-1": 1})
    return checkin, link


@pytest.mark.parametrize("fault", STEPS, indirect=True)
def test_a_failing_step_leaves_nothing_and_the_retry_stores_one(practice, fault):
    checkin, _ = prepared(practice)
    token = uuid.uuid4()

    def send():
        with scope(organisation=[practice.org]):
            return submission.submit(episode=practice.episode, instrument_id="phq9",
                answers=PHQ9_RISK, checkin=checkin,
                source=submission.Source(token=token))

    with pytest.raises(Fault):
        send()
    assert state(practice, checkin) == NOTHING

    fault()
    result = send()
    assert result.created and result.response.submission_token == token
    assert send().response.pk == result.response.pk  # and again: still the one response
    after_retry = state(practice, checkin)
    assert after_retry["responses"] == 1 and after_retry["submitted events"] == 1
    assert after_retry["completed"] and after_retry["links used"] == 1
    assert after_retry["drafts"] == 0
    with scope(organisation=[practice.org]):
        assert list(Alert.objects.filter(kind="risk").values_list("key", flat=True)) == [
            f"risk:{result.response.code}"]


@pytest.mark.parametrize("fault", STEPS, indirect=True)
def test_a_failing_step_through_the_link_then_the_resent_form_is_thanked(practice, fault):
    checkin, link = prepared(practice)
    data = phq9_form(PHQ9_RISK, str(uuid.uuid4()))
    web = HttpClient(raise_request_exception=False)

    assert web.post(link, data).status_code == 500
    assert state(practice, checkin) == NOTHING

    fault()
    page = web.post(link, data)  # the browser sends the same form again
    assert page.status_code == 200 and b"your answers have been sent" in page.content
    after_retry = state(practice, checkin)
    assert after_retry["responses"] == 1 and after_retry["submitted events"] == 1
    assert after_retry["completed"]


def test_a_resent_form_whose_reply_was_lost_is_thanked(practice):
    """The answer was stored but the reply never arrived (a dropped connection, a killed
    worker), so the browser holds no session marking it done: sending the same form again is
    thanked, and stores nothing more. A different form on the used link is not."""
    checkin, link = prepared(practice)
    data = phq9_form(PHQ9_RISK, str(uuid.uuid4()))
    assert HttpClient().post(link, data).status_code == 200

    page = HttpClient().post(link, data)  # no cookie from the first reply
    assert page.status_code == 200 and b"your answers have been sent" in page.content
    assert b"Your therapist has been alerted" in page.content
    assert state(practice, checkin)["responses"] == 1

    for other in (str(uuid.uuid4()), "not-a-token", ""):
        page = HttpClient().post(link, {**data, "submission": other})
        assert page.status_code == 410 and b"already been used" in page.content
    assert state(practice, checkin)["responses"] == 1
