"""Issue 11's acceptance journey in chromium, from an empty practice made with `add_staff`.

The administrator logs in with the temporary password, enrols two-factor and invites a therapist;
the administrator sets the check-in schedule new episodes start from; the therapist sets a
password, enrols, adds a client and invites them; the client completes intake on a phone
(Tuesday evenings suit them, and what they hope for becomes a goal proposal); the therapist books a weekly series on Tuesday evening;
with time travelled to the day before the first session the scheduled tasks send the reminder and
the pre-session check-in invitation; the client answers it from the emailed link; the therapist
sees the answer on the session page and the history on the episode page; the client asks to move
the second session and the therapist accepts. axe at both widths on the pages this issue added.
"""

from __future__ import annotations

import io
import re
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from rapport.accounts.models import AuthenticatorDevice, User
from rapport.care import search
from rapport.care.models import CareEpisode, Client, Session
from rapport.checkins.models import Response
from rapport.goals.models import Goal
from rapport.scheduling.tasks import send_checkin_invitations, send_session_reminders
from tests.browser.conftest import PHONE
from tests.browser.test_therapist_journey import _both_widths, _code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN, THERAPIST, CLIENT = "ada@northside.test", "tess@northside.test", "sam@example.org"
PASSWORD = "a long and private pass phrase"


def _enrol(page, email):
    """The first login's second step: the authenticator app is set up with the key shown."""
    page.get_by_role("heading", name="Set up two-factor login").wait_for()
    page.get_by_role("textbox", name="Code").fill(_code(User.objects.get(email=email)))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(lambda url: "/2fa/setup/" not in url)


def _log_in(page, base, email, password, *, first=False):
    page.goto(base + "/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    if first:
        _enrol(page, email)


def _confirm(page, base, email, password, path):
    AuthenticatorDevice.objects.filter(user__email=email).update(last_t=-1)  # a fresh 30-second window
    page.goto(base + "/account/confirm/?next=" + path)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Code").fill(_code(User.objects.get(email=email)))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(lambda url: "/account/confirm/" not in url)  # (its ?next= holds the path too)
    assert page.url.endswith(path), page.url


def _link(path_start: str) -> str:
    body = mail.outbox[-1].body
    url = next(w for w in body.split() if path_start in w)
    return url[url.index(path_start):]


def test_a_practice_from_add_staff_to_an_answered_check_in(live_server, desktop, axe_check):
    page, base = desktop, live_server.url
    check = _both_widths(axe_check)
    out = io.StringIO()
    call_command("add_staff", practice="Northside", new_practice=True, email=ADMIN, name="Ada Admin",
                 role=["admin"], stdout=out)
    temporary = re.search(r"Temporary password .*: (\S+)", out.getvalue()).group(1)

    # The administrator: first login, two-factor, then the staff page invites a therapist.
    _log_in(page, base, ADMIN, temporary, first=True)
    _confirm(page, base, ADMIN, temporary, "/practice/staff/")
    page.get_by_label("Email").fill(THERAPIST)
    page.get_by_label("Name").fill("Tess Therapist")
    page.get_by_label("Role").select_option("therapist")
    page.get_by_role("button", name="Send the invitation").click()
    page.get_by_text(f"Invited {THERAPIST}").wait_for()
    # ... and sets the check-in schedule new episodes start from: before each session only the
    # session preparation (to keep the journey short), the rating after it as by default.
    page.goto(base + "/practice/settings/")
    check(page)
    schedule = page.locator("form#schedule")
    for asked in ("Progress on your goals", "PHQ-9", "GAD-7", "C-NIP"):
        schedule.get_by_label(re.compile(rf"^Ask {re.escape(asked)}.*\((Before each session|At intake)\)")).uncheck()
    schedule.get_by_role("button", name="Save the schedule").click()
    page.get_by_text("Check-in schedule saved").wait_for()

    # The therapist: the emailed link, a password, two-factor; then a new client, invited.
    page.context.clear_cookies()
    page.goto(base + _link("/welcome/"))
    check(page)
    page.get_by_label("New password", exact=True).fill(PASSWORD)
    page.get_by_label(re.compile("confirm", re.I)).fill(PASSWORD)
    page.get_by_role("button", name="Set my password").click()
    _log_in(page, base, THERAPIST, PASSWORD, first=True)
    page.goto(base + "/clients/new/")
    page.get_by_label("Full name").fill("Sam Rivers")
    page.get_by_role("textbox", name="Email").fill(CLIENT)
    page.get_by_label("Invite them to the portal now (by email)").check()
    mail.outbox.clear()
    page.get_by_role("button", name="Add the client and open an episode").click()
    page.wait_for_url(lambda url: "/clients/new/" not in url)
    (invitation,) = mail.outbox
    assert invitation.to == [CLIENT]
    with scopes_disabled():
        episode = CareEpisode.objects.select_related("client").get(client__in=search.with_email(Client.objects.all(), CLIENT))

    # The client, on a phone: the invitation's link, then intake (Tuesday evenings suit them).
    phone = page.context.browser.new_context(**PHONE).new_page()
    phone.goto(base + _link("/portal/login/"))
    phone.get_by_role("button", name="Log in").click()
    phone.goto(base + "/portal/intake/")
    axe_check(phone)
    phone.get_by_label(re.compile("I have read the confidentiality statement")).check()
    phone.get_by_label("Email", exact=True).check()
    phone.get_by_role("group", name="Tuesday").get_by_label("Tuesday evening").check()
    phone.get_by_label(re.compile("What do you hope will change")).fill("Sleep through most nights")
    phone.get_by_role("button", name="Save").click()
    phone.get_by_role("heading", name=re.compile("Hello")).wait_for()
    axe_check(phone)

    # The therapist books a weekly series on Tuesday at 18:00, a time the client marked.
    page.goto(f"{base}/episodes/{episode.code}/book/")
    expect(page.get_by_text("Tuesday 17:00–21:00")).to_be_visible()
    check(page)
    today = timezone.localdate()
    tuesday = today + timedelta(days=(1 - today.weekday()) % 7 or 7)
    page.get_by_label("Date", exact=True).fill(tuesday.isoformat())
    page.get_by_label("Time", exact=True).fill("18:00")
    page.get_by_label("Repeat", exact=True).select_option("weekly")
    page.get_by_label("Number of sessions").fill("6")
    page.get_by_role("button", name="Book").click()
    page.get_by_text(re.compile("Booked 6 sessions")).wait_for()
    assert not page.get_by_text("outside the times").count()
    check(page)
    with scopes_disabled():
        first = Session.objects.filter(episode=episode).order_by("scheduled_at").first()
        assert Goal.objects.get(episode=episode).title == "Sleep through most nights"  # proposed
    assert first.scheduled_at == timezone.make_aware(datetime.combine(tuesday, time(18)))

    # The day before, at 19:00: the scheduled tasks send the reminder and the invitation, once.
    mail.outbox.clear()
    with time_machine.travel(first.scheduled_at - timedelta(hours=23), tick=False):
        for _ in range(2):  # a task run twice sends nothing twice
            send_session_reminders.apply()
            send_checkin_invitations.apply()
    reminder, prep = sorted(mail.outbox, key=lambda m: "check-in" in m.subject)
    assert len(mail.outbox) == 2 and "your session reminder" in reminder.subject
    assert reminder.to == prep.to == [CLIENT] and "18:00" in reminder.body

    # The client answers the check-in from the emailed link, on the phone.
    link = next(w for w in prep.body.split() if "/c/" in w)
    phone.goto(base + link[link.index("/c/"):])
    phone.get_by_role("heading", name="Getting ready for your session").wait_for()
    axe_check(phone)
    phone.get_by_label("What do you want to focus on in your next session?").fill("Sleeping before exams")
    phone.locator("label.scale-point", has_text=re.compile(r"^\s*6\s*$")).first.tap()
    phone.get_by_role("button", name=re.compile("Send my answers|Continue")).click()
    phone.get_by_role("heading", name=re.compile("Thank you")).wait_for()
    with scopes_disabled():
        assert Response.objects.filter(session=first, instrument_id="session-prep").count() == 1
        second = Session.objects.filter(episode=episode).order_by("scheduled_at")[1]

    # The client asks to move the second session to another Tuesday evening time that suits them.
    phone.goto(base + "/portal/")
    phone.get_by_role("link", name=re.compile("Ask to move")).nth(1).click()
    phone.get_by_role("heading", name="Ask to move a session").wait_for()
    axe_check(phone)
    phone.get_by_label("Work or study").check()
    phone.locator('input[name="times"]').first.check()
    phone.get_by_role("button", name="Send the request").click()
    phone.get_by_text("your therapist will answer soon").wait_for()
    axe_check(phone)
    phone.context.close()

    # The therapist accepts the time from the list of requests; the client is told.
    page.goto(base + "/schedule/requests/")
    check(page)
    page.get_by_role("link", name=re.compile("Sam Rivers")).click()
    page.get_by_role("heading", name=re.compile("A request to move a session")).wait_for()
    check(page)
    page.get_by_role("button", name="Move the session to this time").click()
    page.get_by_text(re.compile("the client is told")).wait_for()
    with scopes_disabled():
        second.refresh_from_db()
    assert timezone.localtime(second.scheduled_at).hour in (17, 19)
    assert "has moved to" in mail.outbox[-1].body

    # The therapist sees the answer on the session page and what was sent on the episode page.
    page.goto(f"{base}/sessions/{first.code}/")
    expect(page.get_by_text("Sleeping before exams")).to_be_visible()
    check(page)
    page.goto(f"{base}/episodes/{episode.code}/")
    history = page.locator("section", has=page.get_by_role("heading", name="Reminders and invitations"))
    expect(history.get_by_text("Session reminder")).to_be_visible()
    expect(history.get_by_text("Invitation: check-in before the session")).to_be_visible()
    check(page)
