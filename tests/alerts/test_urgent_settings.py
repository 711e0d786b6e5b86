"""Administrators set the duty contact, the escalation time and the crisis text, on the practice's
settings page only (the old address sends them there); a client at risk sees the practice's
numbers as tap-to-call links."""

from __future__ import annotations

from django.urls import reverse
from django_scopes import scope

from rapport.alerts.models import UrgentSettings
from rapport.audit.models import AuditEvent
from rapport.checkins.models import PracticeSettings
from tests.checkins.conftest import accept_consent, make_checkin, make_link, phq9_post

URL = reverse("practice-settings")
CRISIS = "Call Samaritans free on 116 123, any time.\n\nIn an emergency call 999."
GOOD = {"duty_name": "Duty clinician", "duty_email": "duty@riverside.test",
        "duty_phone": "+44 7700 900123", "escalate_after_minutes": "45", "crisis_resources": CRISIS,
        "invitation_days": "7", "hours_before": "24", "quiet_from": "21:00", "quiet_until": "08:00",
        "checkin_hours_before": "24", "followup_hours": "12",
        "statement": "What you say here stays here, within the limits the law sets."}


def login(client, user):
    client.force_login(user)
    client.reauthenticate()  # the practice's settings ask for it before a change
    return client


def test_the_old_address_sends_administrators_to_the_practice_settings(client, practice):
    login(client, practice.admin)
    response = client.get(reverse("alerts-settings"))
    assert response.status_code == 302 and response["Location"] == URL + "#urgent"
    page = client.get(URL)
    # The crisis text is edited in one place: the practice's settings, with the urgent fields.
    assert page.content.count(b'name="crisis_resources"') == 1 and b"Duty contact" in page.content
    login(client, practice.therapist)
    assert client.get(reverse("alerts-settings")).status_code == 404


def test_an_admin_saves_the_settings_and_it_is_audited(client, practice):
    login(client, practice.admin)
    page = client.get(URL)
    assert page.status_code == 200 and b"Duty contact" in page.content
    assert client.post(URL, GOOD).status_code == 302
    with scope(organisation=[practice.org]):
        options = UrgentSettings.objects.get(organisation=practice.org)
        assert (options.duty_email, options.duty_phone, options.escalate_after_minutes) == (
            "duty@riverside.test", "+44 7700 900123", 45)
        assert PracticeSettings.objects.get(organisation=practice.org).crisis_resources == CRISIS
        event = AuditEvent.objects.get(action="alerts.urgent_settings.changed")
    assert event.actor == practice.admin and event.detail["escalate_after_minutes"] == 45
    assert b'href="tel:116123"' in client.get(URL).content  # the preview


def test_bad_input_is_refused_and_changes_nothing(client, practice):
    login(client, practice.admin)
    for field, bad in (("duty_phone", "call me"), ("duty_email", "not-an-address"),
                       ("escalate_after_minutes", "0"), ("crisis_resources", "  ")):
        page = client.post(URL, {**GOOD, field: bad})
        assert page.status_code == 400, field
        assert b"Please check the fields" in page.content
    with scope(organisation=[practice.org]):
        assert not UrgentSettings.objects.exists()
        assert not AuditEvent.objects.filter(action="alerts.urgent_settings.changed").exists()


def test_other_practices_settings_stay_apart(client, practice, other_practice):
    login(client, other_practice.admin)
    client.post(URL, GOOD)
    with scope(organisation=[practice.org]):
        assert not UrgentSettings.objects.filter(organisation=practice.org).exists()


def test_a_client_at_risk_gets_tap_to_call_numbers(client, practice):
    login(client, practice.admin)
    client.post(URL, GOOD)
    client.logout()
    accept_consent(practice)
    link = make_link(practice, make_checkin(practice, instruments=("phq9",)))
    answers = {f"phq9-{n}": 1 for n in range(1, 10)}
    page = client.post(link, phq9_post(answers), follow=True)
    assert b'<a href="tel:116123" class="tel">116 123</a>' in page.content
    assert b'<a href="tel:999" class="tel">999</a>' in page.content
