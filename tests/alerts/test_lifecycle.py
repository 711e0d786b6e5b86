"""The alert lifecycle: open → acknowledged → discussed → resolved, who/when/note each time."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import RequestFactory
from django.urls import reverse
from django_scopes import scope

from rapport.alerts import services
from rapport.alerts.models import Alert, AlertStep, Status
from rapport.audit.models import AuditEvent
from tests.alerts.conftest import make_alert
from tests.conftest import login


def staff_request(practice, user):
    request = RequestFactory().post("/")
    request.user = user
    request.organisation = practice.org
    return request


def test_each_legal_step_is_recorded_with_who_when_and_note(in_scope):
    p = in_scope
    alert = make_alert(p)
    request = staff_request(p, p.therapist)
    for to, note in ((Status.ACKNOWLEDGED, ""), (Status.DISCUSSED, "Talked it through"),
                     (Status.RESOLVED, "Agreed a slower pace")):
        before = alert.status
        step = services.transition(alert, to, request=request, note=note)
        assert (step.from_status, step.to_status) == (before, to)
        assert step.by == p.therapist
        assert step.at is not None
        assert step.note == note
        alert.refresh_from_db()
        assert alert.status == to
    assert alert.resolved_at is not None
    assert [s.to_status for s in alert.steps.all()] == ["acknowledged", "discussed", "resolved"]
    actions = list(AuditEvent.objects.filter(object_code=str(alert.code))
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["alerts.alert.raised", "alerts.alert.acknowledged",
                       "alerts.alert.discussed", "alerts.alert.resolved"]


def test_skipping_forward_is_allowed(in_scope):
    p = in_scope
    alert = make_alert(p)
    services.transition(alert, Status.DISCUSSED, request=staff_request(p, p.therapist))
    alert.refresh_from_db()
    assert alert.status == Status.DISCUSSED


@pytest.mark.parametrize(("first", "then"), [
    (Status.ACKNOWLEDGED, Status.OPEN),
    (Status.DISCUSSED, Status.ACKNOWLEDGED),
    (Status.ACKNOWLEDGED, Status.ACKNOWLEDGED),
])
def test_no_step_goes_backwards_or_stands_still(in_scope, first, then):
    p = in_scope
    alert = make_alert(p)
    request = staff_request(p, p.therapist)
    services.transition(alert, first, request=request)
    with pytest.raises(services.TransitionError, match="cannot go back"):
        services.transition(alert, then, request=request)
    alert.refresh_from_db()
    assert alert.status == first
    assert alert.steps.count() == 1


def test_a_resolved_alert_stays_resolved(in_scope):
    p = in_scope
    alert = make_alert(p)
    request = staff_request(p, p.therapist)
    services.transition(alert, Status.RESOLVED, request=request, note="Handled")
    with pytest.raises(services.TransitionError, match="already resolved"):
        services.transition(alert, Status.ACKNOWLEDGED, request=request)


def test_an_unknown_status_is_refused(in_scope):
    p = in_scope
    alert = make_alert(p)
    with pytest.raises(services.TransitionError, match="not a status"):
        services.transition(alert, "closed", request=staff_request(p, p.therapist))


@pytest.mark.parametrize("note", ["", "   "])
def test_resolving_needs_a_note(in_scope, note):
    p = in_scope
    alert = make_alert(p)
    with pytest.raises(services.TransitionError, match="note"):
        services.transition(alert, Status.RESOLVED, request=staff_request(p, p.therapist),
                            note=note)
    alert.refresh_from_db()
    assert alert.status == Status.OPEN
    assert not alert.steps.exists()


def test_the_note_is_encrypted_at_rest(in_scope):
    p = in_scope
    alert = make_alert(p)
    secret = "Client said the last session felt rushed"
    step = services.transition(alert, Status.RESOLVED, request=staff_request(p, p.therapist),
                               note=secret)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT note FROM {AlertStep._meta.db_table} WHERE id = %s", [step.pk])
        (raw,) = cursor.fetchone()
    assert secret not in raw
    assert raw.startswith("gAAAA")  # a Fernet token
    assert AlertStep.objects.get(pk=step.pk).note == secret


def test_the_audit_detail_never_holds_the_note(in_scope):
    p = in_scope
    alert = make_alert(p)
    services.transition(alert, Status.RESOLVED, request=staff_request(p, p.therapist),
                        note="private words")
    event = AuditEvent.objects.get(action="alerts.alert.resolved")
    assert "private words" not in str(event.detail)
    assert event.actor == p.therapist
    assert event.client_code == p.client.code


# ---- through the page --------------------------------------------------------------------------


def test_the_form_moves_the_alert_and_records_the_user(client, practice):
    alert = make_alert(practice)
    login(client, practice.supervisor)
    url = reverse("alerts-detail", args=[alert.code])
    response = client.post(url, {"to_status": "acknowledged", "note": ""})
    assert response.status_code == 302
    response = client.post(url, {"to_status": "resolved", "note": "Reviewed in supervision"})
    assert response.status_code == 302
    with scope(organisation=practice.org):
        alert.refresh_from_db()
        assert alert.status == Status.RESOLVED
        steps = list(alert.steps.all())
    assert [s.by for s in steps] == [practice.supervisor, practice.supervisor]
    page = client.get(url).content.decode()
    assert "Reviewed in supervision" in page
    assert "Save step" not in page  # no form on a resolved alert


def test_resolving_without_a_note_on_the_page_changes_nothing(client, practice):
    alert = make_alert(practice)
    login(client, practice.therapist)
    url = reverse("alerts-detail", args=[alert.code])
    response = client.post(url, {"to_status": "resolved", "note": ""})
    assert response.status_code == 400
    assert "Add a note to resolve" in response.content.decode()
    with scope(organisation=practice.org):
        assert Alert.objects.get(pk=alert.pk).status == Status.OPEN


def test_a_backwards_step_posted_by_hand_is_refused_and_kept(client, practice):
    alert = make_alert(practice)
    login(client, practice.therapist)
    url = reverse("alerts-detail", args=[alert.code])
    client.post(url, {"to_status": "discussed", "note": "We talked"})
    response = client.post(url, {"to_status": "acknowledged", "note": "typed text kept"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Select a valid choice" in body
    assert "typed text kept" in body
    with scope(organisation=practice.org):
        assert Alert.objects.get(pk=alert.pk).status == Status.DISCUSSED


def test_the_form_works_with_csrf_enforced(web, practice):
    alert = make_alert(practice)
    login(web, practice.therapist)
    url = reverse("alerts-detail", args=[alert.code])
    page = web.get(url)
    token = page.cookies["csrftoken"].value
    response = web.post(url, {"to_status": "acknowledged", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert web.post(url, {"to_status": "discussed"}).status_code == 403  # no token
