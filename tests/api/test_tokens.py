"""The administrators' API token page: a token is shown once, stored as a hash, scoped, expiring
and revocable; only the practice's admins reach the page; bad input creates nothing."""

from __future__ import annotations

import hashlib
import re

import time_machine
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from rapport.api.models import ApiToken
from rapport.audit.models import AuditEvent
from tests.api.conftest import bearer, make_token


def _admin(client, practice):
    client.force_login(practice.admin)
    client.reauthenticate()


def _create(client, practice, **overrides):
    data = {"name": "Outcome dashboard", "user": practice.therapist.pk,
            "scopes": ["clients:read", "checkins:write"], "days": "30", **overrides}
    return client.post(reverse("api-tokens"), data)


def test_a_new_token_is_shown_once_and_only_its_hash_is_kept(client, practice):
    _admin(client, practice)
    page = _create(client, practice)
    assert page.status_code == 201
    raw = re.search(r'value="(rpt_[^"]+)"', page.content.decode())[1]
    with scope(organisation=[practice.org]):
        token = ApiToken.objects.get()
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(vars(token)) and token.scopes == ["clients:read", "checkins:write"]
    listing = client.get(reverse("api-tokens")).content.decode()
    assert f"rpt_{token.prefix}" in listing and raw not in listing
    # It works as the therapist, within its scopes only.
    assert client.get("/api/clients", **bearer(raw)).status_code == 200
    assert client.get("/api/alerts", **bearer(raw)).status_code == 403
    with scopes_disabled():
        created = AuditEvent.objects.get(action="api.token.created")
    assert created.actor == practice.admin and created.detail["acts_as"] == practice.therapist.email


def test_a_token_expires_and_a_revoked_one_stops_at_once(client, practice):
    raw = make_token(practice, practice.therapist, days=2)
    assert client.get("/api/clients", **bearer(raw)).status_code == 200
    with time_machine.travel("2099-01-01"):
        assert client.get("/api/clients", **bearer(raw)).status_code == 401
    _admin(client, practice)
    with scope(organisation=[practice.org]):
        token = ApiToken.objects.get()
    assert client.post(reverse("api-tokens-revoke", args=[token.code])).status_code == 302
    assert client.get("/api/clients", **bearer(raw)).status_code == 401
    with scopes_disabled():
        assert AuditEvent.objects.filter(action="api.token.revoked", actor=practice.admin).count() == 1


def test_bad_input_creates_no_token(client, practice, other_practice):
    _admin(client, practice)
    for overrides in ({"scopes": []}, {"scopes": ["fhir:write"]}, {"days": "0"}, {"days": "400"},
                      {"name": ""}, {"user": other_practice.therapist.pk}):
        page = _create(client, practice, **overrides)
        assert page.status_code == 200 and "rpt_" not in page.content.decode(), overrides
    with scopes_disabled():
        assert ApiToken.objects.count() == 0


def test_only_the_practices_admins_manage_its_tokens(client, practice, other_practice):
    raw = make_token(practice, practice.therapist)
    with scope(organisation=[practice.org]):
        token = ApiToken.objects.get()
    for user in (practice.therapist, practice.supervisor, other_practice.admin):
        client.force_login(user)
        client.reauthenticate()
        assert client.post(reverse("api-tokens-revoke", args=[token.code])).status_code == 404
        page = client.get(reverse("api-tokens"))
        # Another practice's admin sees their own practice's (empty) list, never this token.
        assert page.status_code == (200 if user == other_practice.admin else 404)
        assert token.prefix not in page.content.decode()
    assert client.get("/api/clients", **bearer(raw)).status_code == 200  # still works


def test_creating_a_token_asks_for_the_password_again_when_it_is_old(client, practice):
    client.force_login(practice.admin)  # logged in, not re-confirmed
    page = _create(client, practice)
    assert page.status_code == 302 and reverse("accounts-reauth") in page["Location"]
    with scopes_disabled():
        assert ApiToken.objects.count() == 0


def test_a_token_whose_person_left_the_practice_reaches_nothing(client, practice):
    raw = make_token(practice, practice.therapist)
    practice.therapist.memberships.all().delete()
    assert client.get(f"/api/clients/{practice.client.code}", **bearer(raw)).status_code == 404
    assert client.get("/api/clients", **bearer(raw)).json()["count"] == 0
