"""Two-factor login for every staff account: enrolment, verification, recovery codes, re-confirmation."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.urls import reverse
from django_otp.oath import totp

from rapport.accounts.models import AuthenticatorDevice as TOTPDevice
from rapport.accounts.models import RecoveryCode, RecoveryCodes, recovery_digest
from rapport.audit.models import AuditEvent
from tests.conftest import PASSWORD


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def unthrottle(device) -> None:
    """A failed code throttles the device for a second or more; a person would simply wait."""
    device.refresh_from_db()
    device.throttle_reset()


def password_login(client, user):
    response = client.post(reverse("accounts-login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302


def test_first_login_enrols_an_authenticator_and_shows_recovery_codes_once(client, practice):
    user = practice.therapist
    password_login(client, user)
    response = client.get(reverse("care-caseload"))
    assert response["Location"].startswith(reverse("accounts-2fa-setup"))

    page = client.get(response["Location"]).content.decode()
    assert "<svg" in page and "Or type this key instead" in page
    device = TOTPDevice.objects.get(user=user, confirmed=False)

    wrong = client.post(reverse("accounts-2fa-setup"), {"code": "000000", "next": "/caseload/"})
    assert "That code did not match" in wrong.content.decode()
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed

    unthrottle(device)
    done = client.post(reverse("accounts-2fa-setup"), {"code": code_for(device), "next": "/caseload/"})
    assert done["Location"].startswith(reverse("accounts-2fa-recovery-codes"))
    codes_page = client.get(done["Location"]).content.decode()
    codes = re.findall(r"<li><code>(\w+)</code></li>", codes_page)
    assert len(codes) == 10
    stored = set(RecoveryCode.objects.filter(device__user=user).values_list("digest", flat=True))
    assert stored == {recovery_digest(c) for c in codes}
    assert not stored & set(codes)  # digests only, never the codes
    # Shown once only.
    assert client.get(reverse("accounts-2fa-recovery-codes")).status_code == 302
    assert client.get(reverse("care-caseload")).status_code == 200
    assert AuditEvent.objects.filter(action="accounts.2fa.enrolled", actor=user).exists()


@pytest.fixture
def enrolled(practice):
    device = TOTPDevice.objects.create(user=practice.therapist, name="app", confirmed=True)
    return practice.therapist, device


def test_every_staff_page_waits_for_the_code(client, enrolled, practice):
    user, device = enrolled
    password_login(client, user)
    for url in (reverse("care-caseload"), reverse("care-episode", args=[practice.episode.code]),
                reverse("audit-trail")):
        assert client.get(url)["Location"].startswith(reverse("accounts-2fa-verify"))
    assert client.get("/healthz").status_code == 200


def test_a_wrong_code_is_refused_and_the_right_one_lets_in(client, enrolled):
    user, device = enrolled
    password_login(client, user)
    wrong = client.post(reverse("accounts-2fa-verify"), {"code": "123456"})
    assert "That code did not match" in wrong.content.decode()
    unthrottle(device)
    ok = client.post(reverse("accounts-2fa-verify"), {"code": code_for(device), "next": "/caseload/"})
    assert ok["Location"] == "/caseload/"
    assert client.get(reverse("care-caseload")).status_code == 200


def test_repeated_wrong_codes_are_throttled(client, enrolled):
    user, device = enrolled
    password_login(client, user)
    client.post(reverse("accounts-2fa-verify"), {"code": "111111"})
    # Right away, even the right code is refused while the device is throttled.
    response = client.post(reverse("accounts-2fa-verify"), {"code": code_for(device)})
    assert response.status_code == 200
    assert client.get(reverse("care-caseload")).status_code == 302


def test_a_recovery_code_works_once(client, enrolled):
    user, _device = enrolled
    static = RecoveryCodes.objects.create(user=user, name="Recovery codes", confirmed=True)
    RecoveryCode.objects.create(device=static, digest=recovery_digest("recover1"))
    password_login(client, user)
    ok = client.post(reverse("accounts-2fa-verify"), {"code": "recover1"})
    assert ok.status_code == 302
    assert client.get(reverse("care-caseload")).status_code == 200
    client.logout()
    password_login(client, user)
    again = client.post(reverse("accounts-2fa-verify"), {"code": "recover1"})
    assert again.status_code == 200


def test_next_cannot_point_to_another_site(client, enrolled):
    user, device = enrolled
    password_login(client, user)
    response = client.post(reverse("accounts-2fa-verify"),
                           {"code": code_for(device), "next": "https://evil.example/"})
    assert response["Location"] == reverse("care-caseload")


def test_sensitive_actions_ask_for_the_password_and_a_code_again(client, practice):
    client.force_login(practice.admin)
    device = TOTPDevice.objects.get(user=practice.admin)
    export = reverse("audit-export")
    response = client.get(export)
    assert response["Location"].startswith(reverse("accounts-reauth"))
    wrong = client.post(reverse("accounts-reauth"), {"password": "nope", "code": code_for(device), "next": export})
    assert "That password is not right" in wrong.content.decode()
    ok = client.post(reverse("accounts-reauth"), {"password": PASSWORD, "code": code_for(device), "next": export})
    assert ok["Location"] == export
    assert client.get(export).status_code == 200


def test_password_change_enforces_strength(client, practice):
    client.force_login(practice.therapist)
    weak = client.post(reverse("accounts-password"), {
        "old_password": PASSWORD, "new_password1": "password1", "new_password2": "password1"})
    body = weak.content.decode()
    assert "too short" in body or "too common" in body
    strong = "violet kettle mountain 42 drift"
    ok = client.post(reverse("accounts-password"), {
        "old_password": PASSWORD, "new_password1": strong, "new_password2": strong})
    assert ok.status_code == 302
    practice.therapist.refresh_from_db()
    assert practice.therapist.check_password(strong)
    assert AuditEvent.objects.filter(action="accounts.password.changed").exists()


def test_the_demo_prints_the_current_code_in_its_terminal_and_only_the_demo(client, enrolled, settings, capsys):
    user, device = enrolled
    password_login(client, user)
    client.get(reverse("accounts-2fa-verify"))
    assert "two-factor code" not in capsys.readouterr().out
    settings.MODE = "demo"
    client.get(reverse("accounts-2fa-verify"))
    assert f"[demo] two-factor code for {user.email}: " in capsys.readouterr().out


def test_the_seed_is_encrypted_in_the_database(enrolled):
    user, device = enrolled
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM accounts_authenticatordevice WHERE id = %s", [device.pk])
        stored = cursor.fetchone()[0]
    assert device.secret not in stored and len(device.secret) == 40
    assert stored.startswith("gAAAAA")  # a Fernet token
    # And nothing is left in django-otp's plain-text tables.
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM otp_totp_totpdevice")
        assert cursor.fetchone()[0] == 0


def test_the_demo_prints_a_code_that_works_even_right_after_a_login(db):
    """A code of a step already used is refused; the printed one is the next accepted one."""
    import time_machine

    from rapport.accounts.models import User
    from rapport.accounts.twofactor import demo_code

    user = User.objects.create_user("demo2fa@example.test", "x" * 20, name="Demo")
    device = TOTPDevice.objects.create(user=user, name="demo", confirmed=True)
    with time_machine.travel(1_800_000_000, tick=False):
        first = demo_code(device)
        assert device.verify_token(first)
        second = demo_code(device)  # the current step is used: the next one, accepted now
        assert second != first and device.verify_token(second)
        assert not device.verify_token(first)  # what the old demo printed: refused
