"""The failed-task page: an administrator sees their practice's failed background tasks with
their inputs (never a message's text, nor the error's message), and queues one again."""

from __future__ import annotations

from django.core import mail
from django.urls import reverse
from django_scopes import scope

from rapport.alerts.services import raise_alert
from rapport.audit.models import AuditEvent
from rapport.core import tasks
from rapport.core.models import TaskFailure
from tests.conftest import login

SECRET = "Dear Riverside Client, about what you told us on Tuesday"


def _alert(practice):
    with scope(organisation=[practice.org]):
        return raise_alert(episode=practice.episode, kind="rupture", severity="warning",
                           key="rupture:relationship-checkin:1", evidence={"score": 40, "usual": 80})


def test_a_failure_belongs_to_the_practice_its_inputs_name(practice, other_practice):
    alert = _alert(practice)
    by_alert = tasks.record_failure("rapport.alerts.notify_tasks.notify_urgent_alert", "a",
                                    [alert.pk], {}, "boom")
    by_episode = tasks.record_failure("rapport.alerts.tasks.refresh_episode_findings", "b",
                                      [other_practice.episode.pk], {}, "boom")
    by_org = tasks.record_failure("rapport.privacy.tasks.apply_practice_retention", "c",
                                  [practice.org.pk], {}, "boom")
    nightly = tasks.record_failure("rapport.alerts.tasks.refresh_findings", "d", [], {}, "boom")
    gone = tasks.record_failure("rapport.alerts.tasks.refresh_episode_findings", "e",
                                [10**9], {}, "boom")
    assert [f.organisation_id for f in (by_alert, by_episode, by_org, nightly, gone)] == [
        practice.org.pk, other_practice.org.pk, practice.org.pk, None, None]


def test_an_email_queued_inside_a_practice_scope_fails_as_that_practices(practice, monkeypatch):
    from rapport.celery import app

    monkeypatch.setattr(tasks, "send_mail", lambda **kw: (_ for _ in ()).throw(OSError("down")))
    app.conf.task_eager_propagates = False
    try:
        with scope(organisation=[practice.org]):
            tasks.queue_email("Subject", SECRET, ["client@example.org"])
    finally:
        app.conf.task_eager_propagates = True
    (failure,) = TaskFailure.objects.all()
    assert failure.organisation_id == practice.org.pk


def test_the_admin_sees_their_failures_without_text_and_queues_one_again(client, practice,
                                                                          other_practice):
    alert = _alert(practice)
    mine = tasks.record_failure("rapport.alerts.notify_tasks.notify_urgent_alert", "a",
                                [alert.pk], {}, "Traceback ...\nConnectionRefusedError: "
                                f"{SECRET}")
    email = tasks.record_failure("rapport.core.tasks.send_email", "b",
                                 ["Your check-in", SECRET, ["client@example.org"]],
                                 {"organisation_id": practice.org.pk}, "SMTPException: 554")
    tasks.record_failure("rapport.alerts.tasks.refresh_episode_findings", "c",
                         [other_practice.episode.pk], {}, "boom")
    tasks.record_failure("rapport.alerts.tasks.refresh_findings", "d", [], {}, "KeyError: 'x'")
    login(client, practice.admin)
    page = client.get(reverse("practice-failed-tasks")).content.decode()
    assert "Notify urgent alert" in page and f"alert id: {alert.pk}" in page
    assert "ConnectionRefusedError" in page and "SMTPException" in page
    assert "client@example.org" in page and "Refresh findings (whole installation)" in page
    assert SECRET not in page and "Your check-in" not in page  # text is never shown
    assert "Refresh episode findings" not in page  # the other practice's
    assert AuditEvent.objects.filter(action="core.failed_tasks.viewed", actor=practice.admin)

    reply = client.post(reverse("practice-failed-task-retry", args=[email.pk]))
    assert reply.status_code == 302
    assert [m.body for m in mail.outbox] == [SECRET]  # sent with the same inputs
    email.refresh_from_db()
    assert email.requeued_at is not None
    assert AuditEvent.objects.get(action="core.failed_task.requeued").detail["failure"] == email.pk
    client.post(reverse("practice-failed-task-retry", args=[email.pk]))
    assert len(mail.outbox) == 1  # queued once only
    assert "queued again already" in client.get(reverse("practice-failed-tasks")).content.decode()
    mine.refresh_from_db()
    assert mine.requeued_at is None


def test_another_practices_failure_cannot_be_retried(client, practice, other_practice):
    theirs = tasks.record_failure("rapport.core.tasks.send_email", "b", ["S", SECRET, ["x@y.z"]],
                                  {"organisation_id": other_practice.org.pk}, "boom")
    unknown = tasks.record_failure("rapport.core.tasks.send_email", "c", ["S", SECRET, ["x@y.z"]],
                                   {}, "boom")
    login(client, practice.admin)
    for failure in (theirs, unknown):
        assert client.post(reverse("practice-failed-task-retry", args=[failure.pk])).status_code == 404
        failure.refresh_from_db()
        assert failure.requeued_at is None
    assert mail.outbox == []
    login(client, practice.therapist)
    assert client.get(reverse("practice-failed-tasks")).status_code == 404
