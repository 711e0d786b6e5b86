"""The discharge check-in, and links emailed outside a request (RAPPORT_BASE_URL)."""

from __future__ import annotations

import logging

from django.core import mail
from django.test import override_settings
from django_scopes import scope

from rapport.checkins.models import CheckIn, Respondent, When
from rapport.checkins.services.invitations import send_invitation
from rapport.checkins.services.schedule import (
    discharge_checkin,
    due_checkins,
    plan_session,
    schedule_for,
)
from rapport.checkins.services.submission import submit
from tests.checkins.conftest import make_checkin

PHQ9 = {f"phq9-{n}": 1 for n in range(1, 10)} | {"phq9-9": 0}
GAD7 = {f"gad7-{n}": 1 for n in range(1, 8)}


def test_discharge_checkin_asks_the_discharge_set_once(practice):
    with scope(organisation=[practice.org]):
        first = discharge_checkin(practice.episode)
        again = discharge_checkin(practice.episode)
        assert first is not None and again.pk == first.pk
        assert first.when == When.DISCHARGE and first.respondent == Respondent.CLIENT
        assert first.session is None
        assert first.instruments == ["phq9", "gad7"]  # the default discharge rules, client-answered
        # It can be answered (no session: it is due until it is complete).
        assert first in due_checkins(practice.client)
        submit(episode=practice.episode, instrument_id="phq9", answers=PHQ9, checkin=first)
        submit(episode=practice.episode, instrument_id="gad7", answers=GAD7, checkin=first)
        first.refresh_from_db()
        assert first.is_complete
        assert first not in due_checkins(practice.client)


def test_no_discharge_checkin_when_the_schedule_has_none(practice):
    with scope(organisation=[practice.org]):
        schedule = schedule_for(practice.episode)
        schedule.rules = [r for r in schedule.rules if r["when"] != When.DISCHARGE]
        schedule.save()
        assert discharge_checkin(practice.episode) is None
        assert not CheckIn.objects.filter(episode=practice.episode, when=When.DISCHARGE).exists()


def _email_without_request(practice):
    practice.client.email = "client@riverside.test"
    with scope(organisation=[practice.org]):
        practice.client.save()
    checkin = make_checkin(practice, instruments=["phq9"])
    with scope(organisation=[practice.org]):
        send_invitation(checkin)
    return mail.outbox[-1].body


@override_settings(RAPPORT_BASE_URL="https://rapport.example.org")
def test_a_link_emailed_outside_a_request_names_the_base_url(practice):
    body = _email_without_request(practice)
    assert "https://rapport.example.org/c/" in body


@override_settings(RAPPORT_BASE_URL="")
def test_without_a_base_url_the_email_is_sent_and_a_warning_logged(practice, caplog):
    with caplog.at_level(logging.WARNING, logger="rapport.checkins.services"):
        body = _email_without_request(practice)
    assert "\n/c/" in body  # only the path: there is nothing to name the server by
    assert any("RAPPORT_BASE_URL is not set" in r.getMessage() for r in caplog.records)


@override_settings(RAPPORT_BASE_URL="")
def test_in_a_request_the_link_names_the_host_it_came_to(practice, client):
    client.force_login(practice.therapist)
    practice.client.email = "client@riverside.test"
    with scope(organisation=[practice.org]):
        practice.client.save()
        plan_session(practice.session)
        checkin = CheckIn.objects.get(session=practice.session, when=When.BEFORE,
                                      respondent=Respondent.CLIENT)
    client.post(f"/sessions/{practice.session.code}/checkins/",
                {"checkin": str(checkin.code), "action": "email"})
    assert "http://testserver/c/" in mail.outbox[-1].body
