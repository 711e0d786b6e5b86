"""The therapist's journey through the demo practice in chromium, and axe on every staff page.

The demo practice is generated in the test database, so the journey is the one a visitor of the
demo takes: therapist 1 logs in through both login steps, finds the client whose rupture was not
repaired at the top of the caseload, marks the rupture alert discussed, shares a session summary,
and the client then reads it in the portal.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.utils import timezone
from django_otp.oath import totp
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from rapport.accounts.models import AuthenticatorDevice, Membership, Role, User
from rapport.alerts.models import Alert, Kind, Status
from rapport.care.models import Attendance, EpisodeStatus
from rapport.demo.generator import DEMO_DOMAIN, DEMO_PASSWORD
from rapport.goals.models import Goal
from rapport.notes.models import SessionRecord
from tests.browser.conftest import DESKTOP, PHONE
from tests.demo_snapshot import load_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEED = 2026
THERAPIST = f"therapist1@{DEMO_DOMAIN}"
ADMIN = f"admin@{DEMO_DOMAIN}"


@pytest.fixture
def demo(transactional_db):
    return load_demo(seed=SEED, today=timezone.localdate())  # built once per test process


def _code(user: User) -> str:
    with scopes_disabled():
        device = AuthenticatorDevice.objects.get(user=user)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"


def _log_in(page, base: str, email: str, check=None) -> None:
    """Both login steps through the real forms; `check` runs on each login page."""
    page.goto(base + "/login/")
    if check:
        check(page)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Enter your code").wait_for()
    if check:
        check(page)
    page.get_by_label("Code").fill(_code(User.objects.get(email=email)))
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("link", name="Log out").or_(page.get_by_role("button", name="Log out")).first.wait_for()


def _both_widths(axe_check):
    def check(page):
        axe_check(page)
        page.set_viewport_size(PHONE["viewport"])
        try:
            axe_check(page)
        finally:
            page.set_viewport_size(DESKTOP["viewport"])
    return check


def _unrepaired(demo):
    therapist = demo.staff.therapists[0]
    return next(p for p in demo.plans if p.story == "rupture_unrepaired"
                and p.episode.therapist_id == therapist.pk)


def test_the_therapist_journey(live_server, desktop, axe_check, demo):
    page, base = desktop, live_server.url
    plan = _unrepaired(demo)
    with scopes_disabled():
        rupture = Alert.objects.get(episode=plan.episode, kind=Kind.RUPTURE, status=Status.OPEN)
        attended = [s for s in plan.episode.sessions.order_by("scheduled_at")
                    if s.attendance == Attendance.ATTENDED]
    session = attended[-1]
    name = plan.client.display_name

    _log_in(page, base, THERAPIST, check=axe_check)
    page.goto(base + "/caseload/")
    first = page.locator("table.caseload tbody tr").first
    assert first.get_by_role("rowheader").get_by_role("link").inner_text().strip() == name
    axe_check(page)

    # The client's story, then the rupture alert.
    first.get_by_role("link", name=name).click()
    page.get_by_role("heading", name="Open alerts").wait_for()
    axe_check(page)
    page.locator(f'a[href="/alerts/{rupture.code}/"]').first.click()
    page.get_by_role("heading", name=re.compile("dropped well below this client's usual ratings")).wait_for()
    axe_check(page)
    page.get_by_label("Discussed with the client").check()
    page.get_by_label("Note").fill("We talked about the session that went wrong; agreed to slow down.")
    page.get_by_role("button", name="Save step").click()
    page.get_by_text("agreed to slow down").wait_for()
    axe_check(page)
    with scopes_disabled():
        rupture.refresh_from_db()
    assert rupture.status == Status.DISCUSSED

    # The latest session's record: a summary and next steps, shared with the client.
    page.goto(f"{base}/sessions/{session.code}/record/")
    axe_check(page)
    summary = "Today we looked back at the session where things went wrong, and what you needed."
    page.get_by_role("textbox", name="Summary").fill(summary)
    page.get_by_role("textbox", name="Next steps").fill("Tell me early when a session is not going the way you need.")
    page.get_by_role("button", name="Save summary").click()
    page.get_by_role("button", name=re.compile("Share with the client|Stop sharing")).first.wait_for()
    if page.get_by_role("button", name="Share with the client").count():
        page.get_by_role("button", name="Share with the client").click()
    page.get_by_role("button", name="Stop sharing with the client").wait_for()
    axe_check(page)
    with scopes_disabled():
        record = SessionRecord.objects.get(session=session)
    assert record.summary == summary and record.is_shared

    # The client logs into the portal with an emailed link and reads it.
    page.context.clear_cookies()
    page.goto(base + "/portal/login/")
    page.get_by_label("Your email address").fill(plan.client.email)
    page.get_by_role("button", name="Email me a link").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    url = next(w for w in mail.outbox[-1].body.split() if "/portal/login/" in w)
    page.goto(base + url[url.index("/portal/"):])
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name=re.compile("Hello")).wait_for()
    page.goto(base + "/portal/summaries/")
    expect(page.get_by_text(summary)).to_be_visible()
    axe_check(page)


def test_every_staff_page_is_accessible_at_both_widths(live_server, desktop, axe_check, demo):
    page, base = desktop, live_server.url
    check = _both_widths(axe_check)
    therapist = demo.staff.therapists[0]
    plan = _unrepaired(demo)
    episode = plan.episode
    with scopes_disabled():
        session = [s for s in episode.sessions.order_by("scheduled_at")
                   if s.attendance == Attendance.ATTENDED][-1]
        alert = Alert.objects.filter(episode=episode).first()
        goal = Goal.objects.filter(episode=episode).first()
        assert alert is not None and goal is not None

    _log_in(page, base, THERAPIST, check=check)
    pages = [
        "/caseload/",
        f"/clients/{episode.client.code}/",
        f"/episodes/{episode.code}/",
        f"/sessions/{session.code}/",
        f"/sessions/{session.code}/record/",
        f"/sessions/{session.code}/checkins/",
        f"/sessions/{session.code}/reflection/",
        f"/episodes/{episode.code}/schedule/",
        f"/episodes/{episode.code}/goals/",
        f"/goals/{goal.code}/",
        "/alerts/",
        f"/alerts/{alert.code}/",
        "/analytics/",
        "/account/password/",
        "/account/confirm/",
    ]
    for path in pages:
        response = page.goto(base + path)
        assert response.ok, path
        check(page)

    # The administrator's pages.
    page.context.clear_cookies()
    _log_in(page, base, ADMIN)
    with scopes_disabled():
        ended = next(p.episode for p in demo.plans if p.episode.status != EpisodeStatus.ACTIVE)
    for path in ("/caseload/", "/analytics/", "/audit/", "/privacy/erasures/",
                 "/privacy/retention/", f"/clients/{ended.client.code}/erase/"):
        response = page.goto(base + path)
        assert response.ok, path
        check(page)

    # Two-factor enrolment: a new colleague without an authenticator yet.
    page.context.clear_cookies()
    newcomer = User.objects.create_user(email=f"newcomer@{DEMO_DOMAIN}", password=DEMO_PASSWORD,
                                        name="Robin Newcomer")
    Membership.objects.create(organisation=demo.organisation, user=newcomer, role=Role.THERAPIST)
    assert therapist.pk != newcomer.pk
    page.goto(base + "/login/")
    page.get_by_label("Email address").fill(newcomer.email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile("/login/two-factor/setup/"))
    check(page)
    page.get_by_role("textbox", name="Code").fill(_code(newcomer))
    page.get_by_role("button", name=re.compile("Continue|Confirm|Turn on")).first.click()
    page.wait_for_url(re.compile("/login/two-factor/recovery-codes/"))
    check(page)
