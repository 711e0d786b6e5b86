"""Login attempts are rate-limited per email and per address, identically for unknown emails."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from rapport.accounts.forms import FAILED_LOGINS_PER_EMAIL, LOCKED
from rapport.core.models import TokenBucket
from tests.conftest import PASSWORD


def _attempt(client, email, password, ip="198.51.100.1"):
    return client.post(reverse("accounts-login"), {"username": email, "password": password},
                       REMOTE_ADDR=ip)


@pytest.mark.parametrize("email", ["therapist@riverside.test", "nobody@riverside.test"])
def test_repeated_failures_lock_the_address_the_same_way_whether_or_not_it_exists(client, practice, email):
    bodies = []
    for _ in range(FAILED_LOGINS_PER_EMAIL.capacity):
        bodies.append(_attempt(client, email, "wrong").content.decode())
    assert all("do not match an active account" in b for b in bodies)
    locked = _attempt(client, email, "wrong").content.decode()
    assert "Too many attempts" in locked


def test_locked_account_cannot_log_in_even_with_the_right_password(client, practice):
    for _ in range(FAILED_LOGINS_PER_EMAIL.capacity):
        _attempt(client, practice.therapist.email, "wrong")
    response = _attempt(client, practice.therapist.email, PASSWORD)
    assert response.status_code == 200
    assert LOCKED.split(".")[0] in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_lock_lifts_as_time_passes(client, practice):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _ in range(FAILED_LOGINS_PER_EMAIL.capacity):
            _attempt(client, practice.therapist.email, "wrong")
        traveller.shift(timedelta(seconds=FAILED_LOGINS_PER_EMAIL.period / FAILED_LOGINS_PER_EMAIL.capacity + 1))
        response = _attempt(client, practice.therapist.email, PASSWORD)
    assert response.status_code == 302


def test_successful_logins_use_no_tokens(client, practice):
    for _ in range(FAILED_LOGINS_PER_EMAIL.capacity + 2):
        assert _attempt(client, practice.therapist.email, PASSWORD).status_code == 302
        client.logout()


def test_email_case_and_spaces_do_not_escape_the_limit(client, practice):
    for i in range(FAILED_LOGINS_PER_EMAIL.capacity):
        _attempt(client, "Therapist@Riverside.test" if i % 2 else "therapist@riverside.test", "wrong")
    assert "Too many attempts" in _attempt(client, "THERAPIST@riverside.test", "wrong").content.decode()


def test_buckets_hold_no_raw_emails_or_addresses(client, practice):
    _attempt(client, practice.therapist.email, "wrong", ip="198.51.100.77")
    keys = " ".join(TokenBucket.objects.values_list("key", flat=True))
    assert "riverside" not in keys and "198.51.100.77" not in keys
    assert TokenBucket.objects.count() == 2
