"""The client's intake in the portal: consent, preferences, availability, a first goal, the C-NIP."""

from __future__ import annotations

from datetime import UTC, datetime, time

from django.urls import reverse
from django_scopes import scopes_disabled

from rapport.audit.models import AuditEvent
from rapport.care.models import Client
from rapport.checkins.models import CheckIn, Consent
from rapport.goals.models import Goal
from rapport.scheduling import delivery
from rapport.scheduling.models import Availability
from tests.portal.test_portal import log_in

ANSWERS = {"accept": "on", "preferred_channel": "email", "reminders": "on",
           "slots": ["0-morning", "2-evening"], "hope": "Sleep through most nights"}


def test_the_portal_asks_for_intake_until_it_is_done(client, practice):
    log_in(client, practice)
    assert "Tell us about you" in client.get(reverse("portal-home")).content.decode()
    page = client.get(reverse("portal-intake"))
    assert page.status_code == 200
    assert "Times that suit you" in page.content.decode()


def test_completing_intake_stores_everything_once(client, practice):
    log_in(client, practice)
    response = client.post(reverse("portal-intake"), ANSWERS)
    assert response.status_code == 302
    again = client.post(reverse("portal-intake"), {**ANSWERS, "slots": ["0-morning"], "reminders": ""})
    assert again.status_code == 302
    with scopes_disabled():
        c = Client.objects.get(pk=practice.client.pk)
        slots = [(a.weekday, a.starts, a.ends) for a in Availability.objects.filter(client=c)]
        goals = list(Goal.objects.filter(episode=practice.episode))
        checkins = list(CheckIn.objects.filter(episode=practice.episode, instruments=["cnip"]))
        actions = list(AuditEvent.objects.filter(client_code=c.code, action__startswith="portal.intake.")
                       .order_by("pk").values_list("action", flat=True))
        assert Consent.objects.filter(client=c).count() == 1
    assert c.intake_completed_at is not None
    assert c.reminders_opt_out is True  # the second form changed it
    assert slots == [(0, time(8), time(12))]  # replaced, not added to
    assert [(g.title, g.proposed_by) for g in goals] == [("Sleep through most nights", "client")]
    assert len(checkins) == 1 and checkins[0].session is None
    assert actions == ["portal.intake.completed", "portal.intake.updated"]
    home = client.get(reverse("portal-home")).content.decode()
    assert "Tell us about you" not in home
    assert "Cultural" in home or "C-NIP" in home  # the preferences questionnaire is waiting


def test_intake_without_consent_or_with_an_unknown_time_stores_nothing(client, practice):
    log_in(client, practice)
    page = client.post(reverse("portal-intake"), {**ANSWERS, "accept": ""}).content.decode()
    assert "Please read the statement and agree to it to go on." in page
    page = client.post(reverse("portal-intake"), {**ANSWERS, "slots": ["7-morning"]}).content.decode()
    assert "Select a valid choice" in page
    page = client.post(reverse("portal-intake"), {**ANSWERS, "preferred_channel": "text"}).content.decode()
    assert "We have no mobile number for you" in page
    page = client.post(reverse("portal-intake"), {**ANSWERS, "time_zone": "Mars/Olympus_Mons"}).content.decode()
    assert "Select a valid choice" in page
    with scopes_disabled():
        assert not Availability.objects.exists()
        assert not Goal.objects.filter(episode=practice.episode).exists()
        assert Client.objects.get(pk=practice.client.pk).intake_completed_at is None


def test_the_therapist_sees_the_times_when_booking(client, practice):
    log_in(client, practice)
    client.post(reverse("portal-intake"), ANSWERS)
    client.force_login(practice.therapist)
    page = client.get(reverse("scheduling-book", args=[practice.episode.code])).content.decode()
    assert "Monday 08:00–12:00" in page and "Wednesday 17:00–21:00" in page


def test_the_client_gives_their_time_zone_and_reminders_keep_its_quiet_hours(client, practice):
    log_in(client, practice)
    page = client.get(reverse("portal-intake")).content.decode()
    assert "Your time zone" in page and '<option value="America/New_York">America/New York</option>' in page
    assert client.post(reverse("portal-intake"), {**ANSWERS, "time_zone": "America/New_York"}).status_code == 302
    with scopes_disabled():
        c = Client.objects.get(pk=practice.client.pk)
        event = AuditEvent.objects.get(client_code=c.code, action="portal.intake.completed")
    assert c.time_zone == "America/New_York" and event.detail["time_zone"] == "America/New_York"
    assert 'value="America/New_York" selected' in client.get(reverse("portal-intake")).content.decode()
    # Quiet hours (21:00-08:00 by default) where the client is, not where the practice is.
    with scopes_disabled():
        policy = delivery.policy_for(practice.org)
    ten, eleven_pm = datetime(2026, 10, 6, 10, tzinfo=UTC), datetime(2026, 10, 6, 23, tzinfo=UTC)
    assert delivery.in_quiet_hours(ten, policy, delivery.client_zone(c))  # 06:00 in New York
    assert not delivery.in_quiet_hours(eleven_pm, policy, delivery.client_zone(c))  # 19:00 there
    client.post(reverse("portal-intake"), {**ANSWERS, "time_zone": ""})  # back to the practice's
    with scopes_disabled():
        assert Client.objects.get(pk=practice.client.pk).time_zone == ""
