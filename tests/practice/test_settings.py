"""The practice settings page: crisis resources, link lifetime, a new statement version (the\nurgent-alert settings on the same page: tests/alerts/test_urgent_settings.py)."""

from __future__ import annotations

from datetime import time

import pytest
from django.urls import reverse
from django_scopes import scope

from rapport.audit.models import AuditEvent
from rapport.checkins.services.consent import current_statement, practice_settings
from rapport.checkins.services.schedule import schedule_for
from rapport.scheduling.models import ReminderPolicy

TIMING = {"hours_before": "12", "quiet_from": "22:00", "quiet_until": "07:30",
          "checkin_hours_before": "6", "followup_hours": "24",  # invitations off: unticked
          "escalate_after_minutes": "60"}


def test_an_admin_changes_the_settings_and_a_new_statement_is_published(client, practice):
    client.force_login(practice.admin)
    client.reauthenticate()
    url = reverse("practice-settings")
    assert client.get(url).status_code == 200
    response = client.post(url, {"crisis_resources": "Call 999 or Samaritans on 116 123.",
                                 "invitation_days": "3", "statement": "What you say stays here,\r\nexcept...",
                                 **TIMING})
    assert response.status_code == 302
    with scope(organisation=[practice.org]):
        settings = practice_settings(practice.org)
        statement = current_statement(practice.org)
    assert (settings.crisis_resources, settings.invitation_days) == ("Call 999 or Samaritans on 116 123.", 3)
    assert (statement.version, statement.text) == (2, "What you say stays here,\nexcept...")
    with scope(organisation=[practice.org]):
        policy = ReminderPolicy.objects.get(organisation=practice.org)
    assert (policy.hours_before, policy.quiet_from, policy.quiet_until) == (12, time(22), time(7, 30))
    assert (policy.checkin_invitations, policy.checkin_hours_before, policy.followup_hours) == (False, 6, 24)
    # saving again unchanged publishes nothing new
    client.post(url, {"crisis_resources": "Call 999 or Samaritans on 116 123.", "invitation_days": "3",
                      "statement": "What you say stays here,\r\nexcept...", **TIMING})
    with scope(organisation=[practice.org]):
        assert current_statement(practice.org).version == 2


def test_bad_values_change_nothing(client, practice):
    client.force_login(practice.admin)
    client.reauthenticate()
    response = client.post(reverse("practice-settings"), {"crisis_resources": "", "invitation_days": "0",
                                                          "statement": "x", **TIMING, "followup_hours": "0"})
    assert response.status_code == 400
    assert "greater than or equal to 1" in response.content.decode()
    with scope(organisation=[practice.org]):
        assert practice_settings(practice.org).invitation_days == 7
        assert current_statement(practice.org).version == 1
        assert not ReminderPolicy.objects.filter(organisation=practice.org).exists()


def test_changes_ask_for_reconfirmation(client, practice):
    client.force_login(practice.admin)
    response = client.post(reverse("practice-settings"), {"crisis_resources": "x", "invitation_days": "3",
                                                          "statement": "y"})
    assert response["Location"].startswith(reverse("accounts-reauth"))


def _schedule_form(**overrides) -> dict:
    """The default-schedule form with only the session preparation before each session ticked
    (row 0 of the defaults), asked every second session."""
    return {"action": "schedule", "on-0": "yes", "every-0": "2", **overrides}


def test_the_practices_check_in_schedule_is_where_new_episodes_start(client, practice):
    client.force_login(practice.admin)
    client.reauthenticate()
    url = reverse("practice-settings")
    with scope(organisation=[practice.org]):
        under_way = schedule_for(practice.colleague_episode).rules  # made before the change
    page = client.get(url).content.decode()
    assert 'name="on-0" value="yes" checked' in page and "Check-in schedule for new episodes" in page
    response = client.post(url, _schedule_form())
    assert response.status_code == 302 and response["Location"].endswith("#schedule")
    wanted = [{"instrument": "session-prep", "when": "before", "every": 2}]
    with scope(organisation=[practice.org]):
        assert practice_settings(practice.org).default_rules == wanted
        assert schedule_for(practice.episode).rules == wanted  # its first use: from the practice's
        assert schedule_for(practice.colleague_episode).rules == under_way  # keeps its own
        event = AuditEvent.objects.get(action="practice.settings.schedule_changed")
    assert event.detail == {"rules": wanted}
    client.post(url, _schedule_form())  # the same again: nothing new to record
    with scope(organisation=[practice.org]):
        assert AuditEvent.objects.filter(action="practice.settings.schedule_changed").count() == 1


@pytest.mark.parametrize("form, message", [
    (_schedule_form(**{"every-0": "0"}), "whole number from 1 to 52"),
    ({"action": "schedule"}, "Choose at least one questionnaire"),
    (_schedule_form(**{"new-instrument": "not-a-questionnaire", "new-when": "before"}),
     "Choose a questionnaire and when to ask it"),
])
def test_a_bad_schedule_changes_nothing(client, practice, form, message):
    client.force_login(practice.admin)
    client.reauthenticate()
    response = client.post(reverse("practice-settings"), form)
    assert response.status_code == 400 and message in response.content.decode()
    with scope(organisation=[practice.org]):
        assert practice_settings(practice.org).default_rules == []
        assert not AuditEvent.objects.filter(action="practice.settings.schedule_changed").exists()


def test_the_schedule_needs_an_administrator_who_has_just_confirmed(client, practice):
    client.force_login(practice.admin)  # not re-confirmed
    assert client.post(reverse("practice-settings"), _schedule_form())["Location"].startswith(
        reverse("accounts-reauth"))
    client.force_login(practice.therapist)
    client.reauthenticate()
    assert client.post(reverse("practice-settings"), _schedule_form()).status_code == 404
    with scope(organisation=[practice.org]):
        assert practice_settings(practice.org).default_rules == []
