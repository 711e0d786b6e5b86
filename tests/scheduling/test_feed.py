"""The therapist's private calendar feed: times only, revocable, 404 for anything else."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import time_machine
from django.urls import reverse
from django_scopes import scopes_disabled
from icalendar import Calendar

from rapport.care.models import Attendance, Session
from rapport.scheduling.models import CalendarFeed


def make_feed(http, user) -> str:
    http.force_login(user)
    page = http.post(reverse("scheduling-feed-settings"), {"action": "create"}, follow=True).content.decode()
    (url,) = re.findall(r"<code>(http[^<]+)</code>", page)
    http.logout()
    return url.removeprefix("http://testserver")


@time_machine.travel(datetime(2026, 9, 20, tzinfo=UTC), tick=False)
def test_the_feed_has_the_therapists_sessions_and_no_client_names(client, practice):
    with scopes_disabled():
        cancelled = Session.objects.create(organisation=practice.org, episode=practice.episode,
                               scheduled_at=datetime(2026, 9, 28, 9, tzinfo=UTC),
                               telehealth_url="https://video.example.org/r", attendance=Attendance.CANCELLED_CLIENT)
    url = make_feed(client, practice.therapist)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    for secret in (practice.client.name, "sleep", "video.example.org"):
        assert secret not in body
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert [str(e["summary"]) for e in events] == ["Client session", "Client session"]
    assert [str(e["uid"]) for e in events] == [f"{practice.session.code}@rapport",
                                               f"{cancelled.code}@rapport"]
    assert [e.get("status") for e in events] == [None, "CANCELLED"]
    assert events[1]["location"] == "Video session"


def test_the_address_is_shown_once_and_only_its_hash_is_stored(client, practice):
    url = make_feed(client, practice.therapist)
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    with scopes_disabled():
        feed = CalendarFeed.objects.get()
    assert token not in feed.token_hash and len(feed.token_hash) == 64
    client.force_login(practice.therapist)
    assert token not in client.get(reverse("scheduling-feed-settings")).content.decode()


def test_revoking_or_replacing_the_address_stops_the_old_one(client, practice):
    first = make_feed(client, practice.therapist)
    second = make_feed(client, practice.therapist)
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    client.force_login(practice.therapist)
    client.post(reverse("scheduling-feed-settings"), {"action": "revoke"})
    client.logout()
    assert client.get(second).status_code == 404


def test_a_deactivated_therapists_feed_stops(client, practice):
    url = make_feed(client, practice.therapist)
    practice.therapist.is_active = False
    practice.therapist.save()
    assert client.get(url).status_code == 404


@time_machine.travel(datetime(2026, 9, 20, tzinfo=UTC), tick=False)
def test_a_feed_never_shows_a_colleagues_sessions(client, practice, other_practice):
    url = make_feed(client, practice.colleague)
    body = client.get(url).content.decode()
    assert str(practice.colleague_session.code) in body
    assert str(practice.session.code) not in body
    assert str(other_practice.colleague_session.code) not in body
