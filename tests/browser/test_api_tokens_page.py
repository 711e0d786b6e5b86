"""The API token page in chromium: axe at both widths, a token made through the form (no script
needed) that then works against the API, and the interactive API documentation rendering from
the app's own files."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.browser.test_therapist_journey import _both_widths
from tests.conftest import StaffClient

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _session_of(user, base):
    http = StaffClient()
    http.force_login(user)
    http.reauthenticate()
    return {"name": settings.SESSION_COOKIE_NAME, "value": http.cookies[settings.SESSION_COOKIE_NAME].value,
            "url": base}


def test_an_admin_makes_a_token_that_works_and_the_docs_render(live_server, desktop, axe_check, practice):
    page, base = desktop, live_server.url
    check = _both_widths(axe_check)
    page.context.add_cookies([_session_of(practice.admin, base)])
    assert page.goto(base + "/practice/api-tokens/").ok
    check(page)
    page.get_by_label("Name").fill("Outcome dashboard")
    page.get_by_label("Acts as").select_option(label=str(practice.therapist))
    page.get_by_label("Clients: read").check()
    page.get_by_role("button", name="Create the token").click()
    page.get_by_role("heading", name="Token created").wait_for()
    check(page)
    raw = page.get_by_label("The token").input_value()
    answer = page.request.get(base + "/api/clients", headers={"Authorization": f"Bearer {raw}"})
    assert answer.status == 200 and answer.json()["count"] == 1

    assert page.goto(base + "/api/docs").ok
    page.get_by_text("/api/sessions/{code}/checkins").first.wait_for()
