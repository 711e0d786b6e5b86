"""Scheduling, intake, staff and settings pages in chromium: axe at both widths on every new page,
a weekly series booked through the form at a time the client marked convenient in the portal
(on a phone-width page)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from rapport.care.models import EpisodeStatus, Session
from rapport.demo.generator import DEMO_PASSWORD
from rapport.scheduling.models import Availability, MoveStatus, RescheduleRequest
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_therapist_journey import (
    ADMIN,
    THERAPIST,
    _both_widths,
    _code,
    _log_in,
    demo,  # noqa: F401 (a fixture)
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _reauth(page, base, email, path):
    from rapport.accounts.models import AuthenticatorDevice, User

    user = User.objects.get(email=email)
    AuthenticatorDevice.objects.filter(user=user).update(last_t=-1)  # as if in the next 30-second window
    page.goto(base + "/account/confirm/?next=" + path)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_label("Code").fill(_code(user))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(lambda url: "/account/confirm/" not in url)  # (its ?next= holds the path too)
    assert page.url.endswith(path), page.url


def test_the_new_pages_and_a_booking_at_a_convenient_time(live_server, desktop, axe_check, demo):  # noqa: F811
    page, base = desktop, live_server.url
    check = _both_widths(axe_check)
    therapist = demo.staff.therapists[0]
    with scopes_disabled():
        episode = next(p.episode for p in demo.plans if p.episode.therapist_id == therapist.pk
                       and p.episode.status == EpisodeStatus.ACTIVE and p.client.email)
        client = episode.client
        Availability.objects.filter(client=client).delete()
        client.language = "en"  # the journey reads the portal's English labels (demo clients vary)
        client.save(update_fields=["language"])

    # The client completes intake in the portal on a phone: Tuesday evenings suit them.
    phone = page.context.browser.new_context(**PHONE).new_page()
    phone.goto(base + "/portal/login/")
    phone.get_by_label("Your email address").fill(client.email)
    phone.get_by_role("button", name="Email me a link").click()
    phone.get_by_role("heading", name="Check your email").wait_for()
    url = next(w for w in mail.outbox[-1].body.split() if "/portal/login/" in w)
    phone.goto(base + url[url.index("/portal/"):])
    phone.get_by_role("button", name="Log in").click()
    phone.goto(base + "/portal/intake/")
    axe_check(phone)
    consent = phone.get_by_label(re.compile("I have read the confidentiality statement"))
    if consent.count():
        consent.check()
    phone.get_by_label("Email", exact=True).check()
    phone.get_by_role("group", name="Tuesday").get_by_label("Tuesday evening").check()
    phone.get_by_role("button", name="Save").click()
    phone.get_by_role("heading", name=re.compile("Hello")).wait_for()
    axe_check(phone)

    # The therapist books a weekly series on a Tuesday evening and sees the client's times.
    _log_in(page, base, THERAPIST)
    page.goto(f"{base}/episodes/{episode.code}/book/")
    expect(page.get_by_text("Tuesday 17:00–21:00")).to_be_visible()
    check(page)
    # The time and the video link are fields like the others: full width, a thumb's height.
    page.set_viewport_size(PHONE["viewport"])
    for field in (page.get_by_label("Time", exact=True), page.get_by_label("Video link")):
        box = field.bounding_box()
        assert box["height"] >= 44 and box["width"] > 300, box
    page.set_viewport_size(DESKTOP["viewport"])
    today = timezone.localdate()
    tuesday = today + timedelta(days=(1 - today.weekday()) % 7 or 7)
    page.get_by_label("Date", exact=True).fill(tuesday.isoformat())
    page.get_by_label("Time", exact=True).fill("18:00")
    page.get_by_label("Repeat", exact=True).select_option("weekly")
    page.get_by_label("Number of sessions").fill("4")
    page.get_by_role("button", name="Book").click()
    page.get_by_text(re.compile("Booked 4 sessions")).wait_for()
    assert not page.get_by_text("outside the times").count()
    check(page)  # the week page
    with scopes_disabled():
        booked = Session.objects.filter(episode=episode, scheduled_at__date__gte=tuesday,
                                        scheduled_at__hour__gte=0).order_by("scheduled_at").first()
    for path in (f"/sessions/{booked.code}/schedule/", f"/clients/{client.code}/availability/",
                 "/schedule/feed/", "/clients/new/", f"/sessions/{booked.code}/"):
        assert page.goto(base + path).ok, path
        check(page)

    # The client asks to move the first session; the therapist proposes another time; the
    # client sees the proposal on the portal's home page (on the phone) and accepts it.
    phone.goto(f"{base}/portal/sessions/{booked.code}/move/")
    phone.get_by_label("Work or study").check()
    phone.locator('input[name="times"]').first.check()
    phone.get_by_role("button", name="Send the request").click()
    phone.get_by_text("your therapist will answer soon").wait_for()
    with scopes_disabled():
        move = RescheduleRequest.objects.get(session=booked)
    page.goto(f"{base}/schedule/requests/{move.code}/")
    page.get_by_label("Date", exact=True).fill((tuesday + timedelta(days=1)).isoformat())
    page.get_by_label("Time", exact=True).fill("07:00")
    page.get_by_role("button", name="Propose this time").click()
    page.wait_for_load_state()
    with scopes_disabled():
        assert RescheduleRequest.objects.get(pk=move.pk).status == MoveStatus.PROPOSED
    phone.goto(base + "/portal/")
    expect(phone.get_by_text("Your therapist proposes")).to_be_visible()
    axe_check(phone)
    phone.get_by_role("button", name="Accept the new time").click()
    phone.wait_for_load_state()
    axe_check(phone)
    phone.context.close()
    with scopes_disabled():
        booked.refresh_from_db()
    wednesday_7 = timezone.make_aware(datetime.combine(tuesday + timedelta(days=1), time(7)))
    assert booked.scheduled_at == wednesday_7

    # The administrator's pages.
    page.context.clear_cookies()
    _log_in(page, base, ADMIN)
    for path in ("/schedule/", "/practice/staff/", "/practice/settings/", "/clients/new/",
                 "/practice/webhooks/"):
        assert page.goto(base + path).ok, path
        check(page)
    # The practice's check-in schedule fits a phone: nothing to scroll sideways to reach.
    page.goto(base + "/practice/settings/")
    page.set_viewport_size(PHONE["viewport"])
    assert page.evaluate("(() => { const w = document.querySelector('#schedule .table-wrap');"
                         " return w.scrollWidth - w.clientWidth; })()") == 0
    page.set_viewport_size(DESKTOP["viewport"])
    member = f"/practice/staff/{therapist.code}/"
    _reauth(page, base, ADMIN, member)
    page.get_by_role("heading", name="Caseload").wait_for()  # the member's page, not the confirmation
    check(page)
    assert page.goto(base + member + "caseload/").ok
    page.get_by_role("heading", name=re.compile("Reassign caseload")).wait_for()
    check(page)
