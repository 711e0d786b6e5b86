"""Urgent alerts reach people outside the app: the therapist and the duty contact at once (email,
text), the supervisor when nobody acknowledged it in time; once each, and nothing clinical."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_scopes import scope

from rapport.alerts import notify, services
from rapport.alerts.models import Notification, Status, UrgentSettings
from rapport.audit.models import AuditEvent
from rapport.checkins.models import CheckIn, Respondent, When
from rapport.checkins.services import submission
from rapport.core import sms
from tests.workspace.conftest import phq9

DUTY_EMAIL, DUTY_PHONE = "duty@riverside.test", "+44 7700 900123"


@pytest.fixture(autouse=True)
def empty_outbox():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def duty(practice):
    with scope(organisation=practice.org):
        UrgentSettings.objects.create(organisation=practice.org, duty_email=DUTY_EMAIL,
                                      duty_phone=DUTY_PHONE, escalate_after_minutes=30)
    return practice


def risk_answer(practice, django_capture_on_commit_callbacks):
    with scope(organisation=practice.org):
        checkin = CheckIn.objects.create(organisation=practice.org, episode=practice.episode,
                                         session=practice.session, when=When.BEFORE,
                                         respondent=Respondent.CLIENT, instruments=["phq9"])
        with django_capture_on_commit_callbacks(execute=True):
            stored = submission.submit(episode=practice.episode, instrument_id="phq9",
                                       checkin=checkin, answers=phq9(14) | {"phq9-9": 2})
    assert stored.created
    with scope(organisation=practice.org):
        return practice.episode.alerts.get(kind="risk")


def test_a_risk_answer_emails_the_therapist_and_the_duty_contact_and_texts_the_duty_phone(
        duty, django_capture_on_commit_callbacks):
    alert = risk_answer(duty, django_capture_on_commit_callbacks)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([duty.therapist.email, DUTY_EMAIL])
    assert [m.to for m in sms.outbox] == [DUTY_PHONE]
    for text in [m.subject + m.body for m in mail.outbox] + [m.body for m in sms.outbox]:
        assert str(alert.code) in text  # the link to the alert
        for clinical in (duty.client.name, "PHQ", "phq9", "risk", "harm", "dead", "Riverside Client"):
            assert clinical not in text
    with scope(organisation=duty.org):
        assert Notification.objects.filter(alert=alert, sent_at__isnull=False).count() == 3
        assert AuditEvent.objects.filter(action="alerts.alert.notified").count() == 3


def test_sending_again_sends_nothing_new(duty, django_capture_on_commit_callbacks):
    alert = risk_answer(duty, django_capture_on_commit_callbacks)
    with scope(organisation=duty.org):
        assert notify.notify_urgent(alert) == 0
    assert notify.notify_pending(alert.pk) == 0
    assert len(mail.outbox) == 2 and len(sms.outbox) == 1


def test_a_practice_without_a_duty_contact_still_reaches_the_therapist(
        practice, django_capture_on_commit_callbacks):
    risk_answer(practice, django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [[practice.therapist.email]]
    assert sms.outbox == []


def test_an_unacknowledged_alert_goes_to_the_supervisor_once_overdue(
        duty, django_capture_on_commit_callbacks):
    alert = risk_answer(duty, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    assert notify.escalate_overdue(alert.opened_at + timedelta(minutes=29)) == 0
    assert notify.escalate_overdue(alert.opened_at + timedelta(minutes=31)) == 1
    assert [m.to for m in mail.outbox] == [[duty.supervisor.email]]
    assert "not been acknowledged" in mail.outbox[0].body
    assert duty.client.name not in mail.outbox[0].body
    assert notify.escalate_overdue(alert.opened_at + timedelta(hours=5)) == 0  # once


def test_an_acknowledged_alert_is_not_escalated(duty, django_capture_on_commit_callbacks):
    alert = risk_answer(duty, django_capture_on_commit_callbacks)
    with scope(organisation=duty.org):
        services.transition(alert, Status.ACKNOWLEDGED, request=None)
    mail.outbox.clear()
    assert notify.escalate_overdue(timezone.now() + timedelta(days=1)) == 0
    assert mail.outbox == []


def test_a_warning_is_not_sent_outside_the_app(practice, django_capture_on_commit_callbacks):
    with scope(organisation=practice.org), django_capture_on_commit_callbacks(execute=True):
        services.raise_alert(episode=practice.episode, kind="rupture", severity="warning",
                             key="rupture:relationship-checkin:5", evidence={"score": 40})
    assert mail.outbox == [] and sms.outbox == []


def test_a_failed_text_is_kept_and_tried_again(duty, django_capture_on_commit_callbacks, settings):
    settings.SMS_BACKEND = "rapport.core.sms.DisabledBackend"
    alert = risk_answer(duty, django_capture_on_commit_callbacks)
    with scope(organisation=duty.org):
        failed = Notification.objects.get(alert=alert, channel="sms")
        assert failed.sent_at is None and "not configured" in failed.error
    settings.SMS_BACKEND = "rapport.core.sms.LocmemBackend"
    assert notify.escalate_overdue(alert.opened_at) == 1  # the retry sends the text only
    assert [m.to for m in sms.outbox] == [DUTY_PHONE]
