"""A client on a phone: opens an invitation, answers, meets the crisis resources; the portal."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django_scopes import scope
from playwright.sync_api import expect

from rapport.alerts.models import Alert
from rapport.checkins.models import Response
from tests.checkins.conftest import make_checkin, make_link

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_client_answers_a_checkin_and_sees_crisis_resources(live_server, phone, axe_check, practice):
    link = make_link(practice, make_checkin(practice, instruments=("session-prep", "phq9")))
    page = phone
    page.goto(live_server.url + link)
    assert "Riverside" in page.content()
    axe_check(page)

    # Consent first: continuing without ticking the box is refused, politely.
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("Please tick the box")).to_be_visible()
    page.get_by_label("I have read this and I accept it").check()
    page.get_by_role("button", name="Continue").click()

    # Session preparation: a 0-10 rating by touch, text, and a mistake first (nothing rated).
    page.get_by_role("heading", name="Getting ready for your session").wait_for()
    axe_check(page)
    page.get_by_label("What do you want to focus on in your next session?").fill("Sleep, and work")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("Please answer this question.").first).to_be_visible()
    assert page.get_by_label("What do you want to focus on in your next session?").input_value() == "Sleep, and work"
    axe_check(page)
    page.locator("label.scale-point", has_text=re.compile(r"^\s*6\s*$")).first.tap()
    page.get_by_role("button", name="Continue").click()

    # PHQ-9, with item 9 above 0; a double tap on the send button.
    page.get_by_role("heading", name=re.compile("PHQ-9")).wait_for()
    axe_check(page)
    for n in range(1, 9):
        page.locator(f'input[name="a-phq9-{n}"][value="several-days"]').check()
    page.locator('input[name="a-phq9-9"][value="several-days"]').check()
    page.get_by_role("button", name="Send my answers").dblclick()
    page.get_by_role("heading", name="Please get support now").wait_for()
    assert "emergency" in page.content()
    axe_check(page)

    with scope(organisation=[practice.org]):
        stored = list(Response.objects.order_by("submitted_at").values_list("instrument_id", flat=True))
        alerts = Alert.objects.filter(kind="risk", severity="urgent").count()
    assert stored == ["session-prep", "phq9"]
    assert alerts == 1


def test_the_scale_works_by_keyboard(live_server, phone, practice):
    from tests.checkins.conftest import accept_consent

    accept_consent(practice)
    link = make_link(practice, make_checkin(practice, instruments=("session-prep",)))
    page = phone
    page.goto(live_server.url + link)
    page.locator('input[name="a-since-last"][value="0"]').focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    assert page.locator('input[name="a-since-last"]:checked').get_attribute("value") == "4"
    page.keyboard.press("Enter")  # submits the form
    page.get_by_role("heading", name=re.compile("Thank you")).wait_for()
    with scope(organisation=[practice.org]):
        assert Response.objects.get().answers == {"since-last": 4}


def test_portal_pages_are_accessible(live_server, phone, axe_check, practice):
    with scope(organisation=[practice.org]):
        from rapport.checkins.services.submission import submit

        practice.client.email = "client@riverside.test"
        practice.client.save()
        submit(episode=practice.episode, instrument_id="phq9",
                        answers={f"phq9-{n}": 1 for n in range(1, 10)})
        submit(episode=practice.episode, instrument_id="relationship-checkin",
                        answers=dict.fromkeys(["trust", "empathy", "genuineness", "respect",
                                               "listening", "safety", "goals"], 7))
    page = phone
    page.goto(live_server.url + "/portal/login/")
    axe_check(page)
    page.get_by_label("Your email address").fill("client@riverside.test")
    page.get_by_role("button", name="Email me a link").click()
    page.get_by_role("heading", name="Check your email").wait_for()
    axe_check(page)
    url = next(w for w in mail.outbox[-1].body.split() if "/portal/login/" in w)
    page.goto(live_server.url + url[url.index("/portal/"):])
    axe_check(page)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name=re.compile("Hello")).wait_for()
    axe_check(page)
    for path in ("progress/", "goals/", "summaries/", "data/"):
        page.goto(f"{live_server.url}/portal/{path}")
        axe_check(page)
    page.goto(f"{live_server.url}/portal/progress/")
    # Each chart is drawn for wide screens and for phones; a phone shows the phone drawings
    # (PHQ-9, the overall rating, the seven parts), none shrunk: 12 px text stays about 12 px.
    assert page.locator("svg.chart").count() == 6
    scales = page.eval_on_selector_all("svg.chart", """svgs => svgs
        .filter(s => s.getBoundingClientRect().width > 0)
        .map(s => s.getBoundingClientRect().width / s.viewBox.baseVal.width)""")
    assert len(scales) == 3 and min(scales) > 0.95, scales
    page.goto(f"{live_server.url}/c/not-a-real-link/")
    axe_check(page)


def test_a_client_rates_their_goals_on_a_phone(live_server, phone, axe_check, practice):
    from rapport.goals import services as goals
    from rapport.goals.models import Side
    from rapport.goals.progress import goal_progress
    from tests.checkins.conftest import accept_consent

    accept_consent(practice)
    with scope(organisation=[practice.org]):
        goal = goals.propose_goal(practice.episode, "Take the bus to work", side=Side.THERAPIST,
                                  user=practice.therapist)
        goals.agree_goal(goal, side=Side.CLIENT)
    link = make_link(practice, make_checkin(practice, instruments=("goal-progress",)))
    page = phone
    page.goto(live_server.url + link)
    page.get_by_role("heading", name="Progress on your goals").wait_for()
    expect(page.get_by_text("Take the bus to work").first).to_be_visible()
    axe_check(page)
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_text("Please answer this question.").first).to_be_visible()
    axe_check(page)
    page.locator("label.scale-point", has_text=re.compile(r"^\s*7\s*$")).first.tap()
    page.get_by_role("button", name="Send my answers").click()
    page.get_by_role("heading", name=re.compile("Thank you")).wait_for()
    with scope(organisation=[practice.org]):
        assert [p.rating for p in goal_progress(practice.episode)[goal.link_id]] == [7]
