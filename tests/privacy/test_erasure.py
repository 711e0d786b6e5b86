"""Erasure on request and by retention: identity and free text gone, the trail masked, the act recorded."""

from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django_scopes import scopes_disabled

from rapport.audit.models import AuditEvent
from rapport.care.models import CareEpisode, Client, EpisodeStatus, Session
from rapport.privacy import registry
from rapport.privacy.models import Erasure, RetentionPolicy
from rapport.privacy.services import ERASED_NAME, due_for_retention, erase_client
from tests.conftest import login


@pytest.fixture
def admin_client(client, practice):
    login(client, practice.admin)
    client.reauthenticate()
    return client


def _raw_rows(table, where, params):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE {where}", params)
        return cursor.fetchall()


def _read_as_therapist(client, practice):
    login(client, practice.therapist)
    client.get(reverse("care-client", args=[practice.client.code]))
    client.get(reverse("care-episode", args=[practice.episode.code]))
    client.get(reverse("care-session", args=[practice.session.code]))


@pytest.mark.parametrize("who", ["therapist", "supervisor"])
def test_only_admins_can_erase(client, practice, who):
    login(client, getattr(practice, who))
    client.reauthenticate()
    response = client.post(reverse("privacy-erase", args=[practice.client.code]),
                           {"reason": "asked", "confirm": "on"})
    assert response.status_code == 404
    with scopes_disabled():
        assert Client.objects.filter(pk=practice.client.pk).exists()


def test_admin_of_another_practice_gets_404(client, practice, other_practice):
    login(client, other_practice.admin)
    client.reauthenticate()
    response = client.post(reverse("privacy-erase", args=[practice.client.code]),
                           {"reason": "asked", "confirm": "on"})
    assert response.status_code == 404


def test_erasure_asks_to_reconfirm_identity(client, practice):
    login(client, practice.admin)
    response = client.get(reverse("privacy-erase", args=[practice.client.code]))
    assert response["Location"].startswith(reverse("accounts-reauth"))


def test_erasure_needs_a_reason_and_the_confirmation(admin_client, practice):
    response = admin_client.post(reverse("privacy-erase", args=[practice.client.code]), {"reason": ""})
    body = response.content.decode()
    assert "This field is required." in body and "cannot be undone" in body
    with scopes_disabled():
        assert Client.objects.get(pk=practice.client.pk).name == practice.client.name
    assert not Erasure.objects.exists()


def test_erasure_without_kept_scores_deletes_everything_about_the_client(client, admin_client, practice):
    _read_as_therapist(client, practice)
    login(client, practice.admin)
    client.reauthenticate()
    response = client.post(reverse("privacy-erase", args=[practice.client.code]),
                           {"reason": "client request by email", "confirm": "on"})
    assert response.status_code == 302
    with scopes_disabled():
        assert not Client.objects.filter(pk=practice.client.pk).exists()
        assert not CareEpisode.objects.filter(pk=practice.episode.pk).exists()
        assert not Session.objects.filter(pk=practice.session.pk).exists()
        # The colleague's client is untouched.
        assert Client.objects.filter(pk=practice.colleague_client.pk).exists()
    erasure = Erasure.objects.get()
    assert erasure.by == practice.admin and erasure.kept_deidentified_scores is False
    assert erasure.counts["care.clients"] == 1 and erasure.counts["audit.events_masked"] >= 3


def test_the_trail_is_masked_but_keeps_what_staff_did(client, practice):
    _read_as_therapist(client, practice)
    codes = [str(practice.client.code), str(practice.episode.code), str(practice.session.code)]
    erase_client(practice.client, by=practice.admin, reason="asked")
    for code in codes:
        assert not AuditEvent.objects.filter(client_code=code).exists()
        assert not AuditEvent.objects.filter(object_code=code).exists()
    viewed = AuditEvent.objects.filter(action="care.episode.viewed", actor=practice.therapist)
    assert viewed.count() == 1  # what was done, by whom, stays
    assert AuditEvent.objects.filter(action="privacy.client.erased").count() == 1


def test_kept_scores_leave_no_identity_or_free_text(practice):
    RetentionPolicy.objects.create(organisation=practice.org, keep_deidentified_scores=True)
    name, code = practice.client.name, practice.client.code
    with scopes_disabled():
        practice.client.emergency_contact = "Sam Morgan, 07700 900456"
        practice.client.save()
    erase_client(practice.client, by=practice.admin, reason="asked")
    with scopes_disabled():
        client = Client.objects.get(pk=practice.client.pk)
        assert client.name == ERASED_NAME
        assert (client.email, client.phone, client.preferred_name, client.date_of_birth) == ("", "", "", None)
        assert client.emergency_contact == ""
        assert CareEpisode.objects.get(pk=practice.episode.pk).presenting_concerns == ""
        assert client.code != code  # a fresh code: nothing held outside can point back
    raw = _raw_rows("care_client", "id = %s", [practice.client.pk])
    assert name not in str(raw)
    assert Erasure.objects.get().kept_deidentified_scores is True


def test_registered_erasers_run_inside_the_same_transaction(practice):
    calls = []

    def failing(client, *, keep_scores):
        calls.append(client.pk)
        raise RuntimeError("storage failed")

    registry._erasers.append(("failing", failing))
    try:
        with pytest.raises(RuntimeError):
            erase_client(practice.client, by=practice.admin, reason="asked")
    finally:
        registry._erasers.remove(("failing", failing))
    assert calls == [practice.client.pk]
    with scopes_disabled():
        assert Client.objects.get(pk=practice.client.pk).name == practice.client.name
    assert not Erasure.objects.exists()


def test_retention_erases_only_clients_past_the_period(practice, capsys):
    policy = RetentionPolicy.objects.create(organisation=practice.org, retain_days_after_last_episode=365)
    with scopes_disabled():
        CareEpisode.objects.filter(pk=practice.episode.pk).update(
            status=EpisodeStatus.COMPLETED, ended_on=date(2020, 1, 1))
        CareEpisode.objects.filter(pk=practice.colleague_episode.pk).update(
            status=EpisodeStatus.COMPLETED, ended_on=date.today())
    assert [c.pk for c in due_for_retention(practice.org)] == [practice.client.pk]
    call_command("apply_retention", "--dry-run")
    assert "would erase 1 client(s)" in capsys.readouterr().out
    with scopes_disabled():
        assert Client.objects.filter(pk=practice.client.pk).exists()
    call_command("apply_retention")
    with scopes_disabled():
        assert not Client.objects.filter(pk=practice.client.pk).exists()
        assert Client.objects.filter(pk=practice.colleague_client.pk).exists()
    erasure = Erasure.objects.get()
    assert erasure.trigger == Erasure.Trigger.RETENTION and erasure.by is None
    policy.retain_days_after_last_episode = None
    policy.save()
    assert due_for_retention(practice.org) == []


def test_active_clients_are_never_due(practice):
    RetentionPolicy.objects.create(organisation=practice.org, retain_days_after_last_episode=1)
    assert due_for_retention(practice.org) == []


def test_admin_sets_the_retention_policy(admin_client, practice):
    response = admin_client.post(reverse("privacy-retention"),
                                 {"retain_days_after_last_episode": "2920", "keep_deidentified_scores": "on"})
    assert response.status_code == 302
    policy = RetentionPolicy.objects.get(organisation=practice.org)
    assert (policy.retain_days_after_last_episode, policy.keep_deidentified_scores) == (2920, True)
    bad = admin_client.post(reverse("privacy-retention"), {"retain_days_after_last_episode": "-3"})
    assert "greater than or equal to 1" in bad.content.decode()
    assert RetentionPolicy.objects.get(organisation=practice.org).retain_days_after_last_episode == 2920
    assert AuditEvent.objects.filter(action="privacy.retention.changed").count() == 1


@pytest.mark.parametrize("url", ["privacy-erasures", "privacy-retention"])
def test_privacy_pages_are_for_admins_only(client, practice, url):
    login(client, practice.therapist)
    assert client.get(reverse(url)).status_code == 404
