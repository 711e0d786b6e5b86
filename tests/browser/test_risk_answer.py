"""Acceptance (issue 17): a therapist opens a client who gave a risk answer.

In chromium, at desktop and phone sizes: the PHQ-9 item 9 wording and the client's answer, the
client's own comment after the session and the crisis actions are on the therapist's pages; the
urgent alert reached the therapist and the duty contact outside the app; axe finds nothing
serious.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django_scopes import scope
from playwright.sync_api import expect

from rapport.alerts.models import UrgentSettings
from rapport.checkins.models import CheckIn, Respondent, When
from rapport.checkins.services import submission
from rapport.core import sms
from tests.browser.conftest import PHONE
from tests.conftest import StaffClient, make_practice
from tests.workspace.conftest import phq9, relationship

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ITEM_9 = "Thoughts that you would be better off dead or of hurting yourself in some way"
ANSWER = "More than half the days"
COMMENT = "I felt rushed today and I did not say how bad the nights are"
CRISIS_ACTION = "Contact the client today to check on their safety."
DUTY = "duty@riverside.test"
PHONE_NUMBER = "+44 7700 900456"


@pytest.fixture
def risk(transactional_db):
    """The client's check-ins of session 1: PHQ-9 with item 9 answered "more than half the
    days", then the after-session check-in with a comment."""
    sms.outbox.clear()
    practice = make_practice("Riverside")
    with scope(organisation=practice.org):
        UrgentSettings.objects.create(organisation=practice.org, duty_email=DUTY,
                                      duty_phone="+44 7700 900123", escalate_after_minutes=30)
        practice.client.phone, practice.client.emergency_contact = PHONE_NUMBER, "Sam (sister) 07700 900789"
        practice.client.save()
        episode, session = practice.episode, practice.session
        before, after = (CheckIn.objects.create(
            organisation=practice.org, episode=episode, session=session, when=when,
            respondent=Respondent.CLIENT, instruments=instruments)
            for when, instruments in ((When.BEFORE, ["phq9"]), (When.AFTER, ["relationship-checkin"])))
        submission.submit(episode=episode, instrument_id="phq9", checkin=before,
                          answers=phq9(15) | {"phq9-9": 2})
        submission.submit(episode=episode, instrument_id="relationship-checkin", checkin=after,
                          answers=relationship(6) | {"not-right": COMMENT})
    return practice


def _as(page, live_server, user) -> None:
    """The browser carries a fully logged-in staff session (both login steps are covered by
    tests/browser/test_therapist_journey.py)."""
    http = StaffClient()
    http.force_login(user)
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "url": live_server.url,
                               "value": http.cookies[settings.SESSION_COOKIE_NAME].value}])


def test_the_therapist_sees_the_risk_answer_the_comment_and_what_to_do(risk, desktop, live_server,
                                                                        axe_check):
    # Outside the app first: the therapist and the duty contact were emailed, the duty phone
    # texted, and no message names the client or says what happened.
    assert sorted(m.to[0] for m in mail.outbox) == sorted([risk.therapist.email, DUTY])
    assert len(sms.outbox) == 1
    for text in [m.subject + m.body for m in mail.outbox] + [m.body for m in sms.outbox]:
        assert risk.client.name not in text and "dead" not in text

    page = desktop
    _as(page, live_server, risk.therapist)
    page.goto(live_server.url + reverse("care-caseload"))
    banner = page.locator(".urgent-banner")
    assert risk.client.name in banner.inner_text()
    # The caseload's row opens the episode's story.
    page.locator("table.caseload").get_by_role("link", name=risk.client.name, exact=True).click()
    page.get_by_role("heading", name="What the client said at the latest session").wait_for()
    for size in (None, PHONE["viewport"]):
        if size:
            page.set_viewport_size(size)
        # The item in its published wording with the client's answer, highlighted as critical
        # (first in its questionnaire, not one row among nine), and the comment in their words.
        critical = page.locator(".said .critical-items")
        expect(critical).to_be_visible()
        assert critical.locator("li").all_inner_texts() == [f"{ITEM_9} {ANSWER}"]
        expect(page.locator(".said q.client-words", has_text=COMMENT)).to_be_visible()
        clean(axe_check(page))
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator(".urgent-banner a").first.click()  # the alert: what to do now
    page.get_by_role("heading", name="What might help").wait_for()
    expect(page.locator(".suggestions li", has_text=CRISIS_ACTION)).to_be_visible()
    # The client and their emergency contact are a tap away.
    assert page.get_by_role("link", name=PHONE_NUMBER).get_attribute("href") == "tel:+447700900456"
    assert page.get_by_role("link", name="07700 900789").get_attribute("href") == "tel:07700900789"
    assert page.locator(".critical-items").inner_text() == (
        f"The client answered “{ANSWER}” to the PHQ-9 question “{ITEM_9}”.")
    clean(axe_check(page))


def clean(results) -> None:
    """Axe clean: no violation at all, of any impact (the shared check fails on serious ones)."""
    assert not results["violations"], [(v["id"], v["impact"]) for v in results["violations"]]


def test_the_new_pages_pass_axe_on_a_desktop_and_a_phone(risk, desktop, live_server, axe_check):
    """Client search, past clients and ending an episode (its form and its confirmation step)."""
    page = desktop
    with scope(organisation=risk.org):
        ended = risk.colleague_episode
        ended.status, ended.ended_on = "completed", ended.started_on
        ended.save()
    _as(page, live_server, risk.admin)  # the admin sees the ended episode of the colleague
    for size in ({"width": 1280, "height": 900}, PHONE["viewport"]):
        page.set_viewport_size(size)
        page.goto(live_server.url + reverse("care-caseload"))
        page.get_by_label("Find a client by name").fill("river")
        page.get_by_role("button", name="Search").click()
        page.get_by_role("heading", name="2 clients found").wait_for()
        axe_check(page)
        page.goto(live_server.url + reverse("care-past-clients"))
        erase = page.get_by_role("link", name="Erase on request")
        assert erase.get_attribute("href") == reverse("privacy-erase", args=[risk.colleague_client.code])
        axe_check(page)
    _as(page, live_server, risk.therapist)
    for size in ({"width": 1280, "height": 900}, PHONE["viewport"]):
        page.set_viewport_size(size)
        page.goto(live_server.url + reverse("care-discharge", args=[risk.episode.code]))
        axe_check(page)
        page.get_by_label("Closing summary for the client").fill("We worked on sleep.\nCall us any time.")
        page.get_by_role("button", name="Review the ending").click()
        page.get_by_role("heading", name="Check and confirm").wait_for()
        assert "Call us any time." in page.locator(".closing-summary").inner_text()
        axe_check(page)
    page.get_by_role("button", name="End the episode").click()
    page.get_by_text("Episode ended.").wait_for()
    with scope(organisation=risk.org):
        risk.episode.refresh_from_db()
        assert risk.episode.closing_summary.text == "We worked on sleep.\nCall us any time."


def test_a_phone_banner_lists_three_urgent_alerts_the_risk_answer_first(risk, desktop, live_server):
    """Not a screenful of banner above every page on a phone: the risk answer, two more, and a
    link to the rest; a desktop lists them all."""
    from tests.alerts.conftest import make_alert

    for i in range(4):
        make_alert(risk, kind="not_on_track", severity="urgent", key=f"not_on_track:{i}",
                   evidence={"instrument": "phq9", "score": 20, "warning_beyond": 14})
    page = desktop
    _as(page, live_server, risk.therapist)
    page.goto(live_server.url + reverse("care-caseload"))
    items = page.locator(".urgent-banner li")
    assert [items.nth(i).is_visible() for i in range(5)] == [True] * 5
    expect(page.locator(".urgent-more")).to_be_hidden()
    page.set_viewport_size(PHONE["viewport"])
    assert [items.nth(i).is_visible() for i in range(5)] == [True] * 3 + [False] * 2
    assert "Risk answer on PHQ-9 item 9" in items.first.inner_text()
    more = page.get_by_role("link", name="2 more: all open alerts")
    expect(more).to_be_visible()
    more.click()
    page.get_by_role("heading", name="Open alerts").wait_for()
