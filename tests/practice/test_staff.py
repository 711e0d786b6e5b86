"""Staff administration: invitation, roles, supervision, reassignment, deactivation, 2FA reset."""

from __future__ import annotations

import re

from django.core import mail
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scopes_disabled

from rapport.accounts.models import Membership, Role, Supervision, User
from rapport.audit.models import AuditEvent
from rapport.care.models import CareEpisode
from tests.conftest import StaffClient


def as_admin(http, practice):
    http.force_login(practice.admin)
    http.reauthenticate()
    return http


def test_an_invited_therapist_sets_a_password_then_must_enrol_two_factor(client, practice, django_capture_on_commit_callbacks):
    as_admin(client, practice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("practice-staff-invite"),
                               {"email": "New@Riverside.test", "name": "Nia", "role": "therapist"})
    assert response.status_code == 302
    user = User.objects.get(email="new@riverside.test")
    assert not user.has_usable_password()
    assert Membership.objects.filter(user=user, organisation=practice.org, role=Role.THERAPIST).exists()
    (message,) = mail.outbox
    link = re.search(r"http://testserver(/welcome/\S+/)", message.body).group(1)
    fresh = StaffClient()
    assert fresh.get(link).status_code == 200
    assert fresh.post(link, {"new_password1": "a-long enough pass phrase",
                             "new_password2": "a-long enough pass phrase"}).status_code == 302
    assert fresh.get(link).status_code == 404  # the link worked once
    fresh.post(reverse("accounts-login"), {"username": "new@riverside.test",
                                           "password": "a-long enough pass phrase"})
    assert fresh.get(reverse("care-caseload"))["Location"].startswith(reverse("accounts-2fa-setup"))


def test_staff_changes_ask_for_reconfirmation(client, practice):
    client.force_login(practice.admin)  # not re-confirmed
    url = reverse("practice-staff-member", args=[practice.therapist.code])
    assert client.get(url)["Location"].startswith(reverse("accounts-reauth"))
    client.post(url, {"action": "roles", "roles": ["therapist", "supervisor"]})
    assert Membership.objects.filter(user=practice.therapist, role=Role.SUPERVISOR).count() == 0


def test_roles_and_supervision_change_and_are_audited(client, practice):
    as_admin(client, practice)
    url = reverse("practice-staff-member", args=[practice.colleague.code])
    assert client.post(url, {"action": "roles", "roles": ["therapist", "supervisor"]}).status_code == 302
    assert client.post(url, {"action": "supervision", "therapists": [practice.therapist.pk]}).status_code == 302
    assert Supervision.objects.filter(supervisor=practice.colleague, therapist=practice.therapist).exists()
    with scopes_disabled():
        actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"practice.staff.roles_changed", "practice.staff.supervision_changed"} <= actions


def test_the_last_admin_and_a_therapist_with_clients_keep_their_roles(client, practice):
    as_admin(client, practice)
    own = client.post(reverse("practice-staff-member", args=[practice.admin.code]),
                      {"action": "roles", "roles": ["therapist"]})
    assert "at least one administrator" in own.content.decode()
    busy = client.post(reverse("practice-staff-member", args=[practice.therapist.code]),
                       {"action": "roles", "roles": ["supervisor"]})
    assert "reassign their caseload" in busy.content.decode()
    assert Membership.objects.filter(user=practice.therapist, role=Role.THERAPIST).exists()


def test_deactivation_needs_the_caseload_reassigned_and_ends_access_at_once(client, practice):
    therapist_http = StaffClient()
    therapist_http.force_login(practice.therapist)
    assert therapist_http.get(reverse("care-caseload")).status_code == 200
    as_admin(client, practice)
    member = reverse("practice-staff-member", args=[practice.therapist.code])
    refused = client.post(member, {"action": "deactivate"})
    assert "reassign their caseload first" in refused.content.decode()
    reassign = reverse("practice-staff-reassign", args=[practice.therapist.code])
    assert "Riverside Client" in client.get(reassign).content.decode()
    client.post(reassign, {"episode": [str(practice.episode.code)], "therapist": practice.colleague.pk})
    with scopes_disabled():
        assert CareEpisode.objects.get(pk=practice.episode.pk).therapist == practice.colleague
    assert client.post(member, {"action": "deactivate"}).status_code == 302
    practice.therapist.refresh_from_db()
    assert not practice.therapist.is_active
    assert not Supervision.objects.filter(therapist=practice.therapist).exists()
    assert therapist_http.get(reverse("care-caseload")).status_code == 302  # logged out at once


def test_reassigning_to_someone_outside_the_practice_is_refused(client, practice, other_practice):
    as_admin(client, practice)
    reassign = reverse("practice-staff-reassign", args=[practice.therapist.code])
    client.post(reassign, {"episode": [str(practice.episode.code)], "therapist": other_practice.therapist.pk})
    with scopes_disabled():
        assert CareEpisode.objects.get(pk=practice.episode.pk).therapist == practice.therapist


def test_an_admin_resets_someones_two_factor(client, practice):
    TOTPDevice.objects.create(user=practice.therapist, name="phone", confirmed=True)
    as_admin(client, practice)
    response = client.post(reverse("practice-staff-member", args=[practice.therapist.code]),
                           {"action": "reset_two_factor"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=practice.therapist).exists()
    with scopes_disabled():
        assert AuditEvent.objects.filter(action="practice.staff.two_factor_reset").count() == 1


def test_another_practices_staff_are_hidden(client, practice, other_practice):
    as_admin(client, practice)
    for name in ("practice-staff-member", "practice-staff-reassign"):
        assert client.get(reverse(name, args=[other_practice.therapist.code])).status_code == 404


def test_a_refusal_is_in_the_administrators_language(client, practice):
    User.objects.filter(pk=practice.admin.pk).update(language="es")
    as_admin(client, practice)
    refused = client.post(reverse("practice-staff-member", args=[practice.therapist.code]),
                          {"action": "deactivate"})
    assert refused.status_code == 400
    assert "Todavía atiende a clientes: reasigne primero sus casos." in refused.content.decode()
