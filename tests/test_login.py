import pytest
from django.contrib.auth.hashers import identify_hasher
from django.urls import reverse

from tests.conftest import PASSWORD


def _csrf(web, url):
    web.get(url)
    return web.cookies["csrftoken"].value


def test_staff_log_in_and_out(web, practice):
    url = reverse("accounts-login")
    token = _csrf(web, url)
    response = web.post(url, {"username": practice.therapist.email, "password": PASSWORD,
                              "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert response["Location"] == reverse("care-caseload")
    # The password alone is not enough: the second factor comes next.
    assert web.get(reverse("care-caseload"))["Location"].startswith(reverse("accounts-2fa-setup"))

    token = web.cookies["csrftoken"].value
    web.post(reverse("accounts-logout"), {"csrfmiddlewaretoken": token})
    assert web.get(reverse("care-caseload")).status_code == 302


def test_login_needs_csrf(web, practice):
    response = web.post(reverse("accounts-login"),
                        {"username": practice.therapist.email, "password": PASSWORD})
    assert response.status_code == 403


@pytest.mark.parametrize("email", ["therapist@riverside.test", "nobody@riverside.test"])
def test_failed_login_does_not_reveal_whether_the_account_exists(web, practice, email):
    url = reverse("accounts-login")
    token = _csrf(web, url)
    response = web.post(url, {"username": email, "password": "wrong", "csrfmiddlewaretoken": token})
    assert response.status_code == 200
    assert "do not match an active account" in response.content.decode()


def test_passwords_are_hashed_with_argon2(db, settings, django_user_model):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    user = django_user_model.objects.create_user("a@b.test", "a long passphrase here", name="A")
    assert identify_hasher(user.password).algorithm == "argon2"
    assert user.check_password("a long passphrase here")


def test_login_page_is_accessible_markup(client, db):
    body = client.get(reverse("accounts-login")).content.decode()
    assert 'href="#main"' in body  # skip link
    assert '<main id="main"' in body
    assert '<label for="id_username">' in body
    assert 'lang="en"' in body


def test_hints_and_errors_are_tied_to_their_field(client, db):
    body = client.post(reverse("accounts-login"), {"username": "not-an-email", "password": ""}).content.decode()
    assert 'id="id_username_error"' in body
    assert 'aria-describedby="id_username_error"' in body or "id_username_error" in body.split('id="id_username"')[0]
