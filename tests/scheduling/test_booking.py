"""Booking, moving and cancelling sessions through the pages, as a therapist or an admin would."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.urls import reverse
from django_scopes import scopes_disabled

from rapport.audit.models import AuditEvent
from rapport.care.models import Attendance, CareEpisode, Client, Session
from rapport.scheduling.models import Availability, Booking

NOW = datetime(2026, 10, 1, 12, tzinfo=UTC)  # a Thursday


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def booking(**overrides) -> dict:
    return {"day": "2026-10-05", "at": "09:00", "minutes": "50", "repeat": "once", "count": "1",
            "telehealth_url": "", "key": str(uuid.uuid4()), **overrides}


def sessions_of(episode) -> list[Session]:
    with scopes_disabled():
        return list(Session.objects.filter(episode=episode, scheduled_at__gt=NOW).order_by("scheduled_at"))


def book(http, episode, **overrides):
    return http.post(reverse("scheduling-book", args=[episode.code]), booking(**overrides))


def test_a_weekly_series_books_every_session_at_the_same_time(client, practice):
    client.force_login(practice.therapist)
    response = book(client, practice.episode, repeat="weekly", count="6",
                    telehealth_url="https://video.example.org/room/1")
    assert response.status_code == 302
    assert "week=2026-10-05" in response["Location"]
    got = sessions_of(practice.episode)
    assert [s.scheduled_at for s in got] == [datetime(2026, 10, 5, 9, tzinfo=UTC) + timedelta(weeks=n)
                                             for n in range(6)]
    assert {s.telehealth_url for s in got} == {"https://video.example.org/room/1"}
    with scopes_disabled():
        event = AuditEvent.objects.get(action="scheduling.booking.created")
    assert event.client_code == practice.client.code
    assert len(event.detail["sessions"]) == 6


def test_a_fortnightly_series_skips_a_week(client, practice):
    client.force_login(practice.therapist)
    book(client, practice.episode, repeat="fortnightly", count="3")
    starts = [s.scheduled_at.date().isoformat() for s in sessions_of(practice.episode)]
    assert starts == ["2026-10-05", "2026-10-19", "2026-11-02"]


def test_a_series_keeps_its_wall_clock_time_across_a_clock_change(client, practice, settings):
    settings.TIME_ZONE = "Europe/London"  # clocks go back on 25 October 2026
    client.force_login(practice.therapist)
    book(client, practice.episode, day="2026-10-19", repeat="weekly", count="2")
    got = sessions_of(practice.episode)
    assert [s.scheduled_at for s in got] == [datetime(2026, 10, 19, 8, tzinfo=UTC),  # 09:00 BST
                                             datetime(2026, 10, 26, 9, tzinfo=UTC)]  # 09:00 GMT


def test_the_same_form_submitted_twice_books_once(client, practice):
    client.force_login(practice.therapist)
    data = booking(repeat="weekly", count="4")
    first = client.post(reverse("scheduling-book", args=[practice.episode.code]), data)
    second = client.post(reverse("scheduling-book", args=[practice.episode.code]), data, follow=True)
    assert first.status_code == 302
    assert "nothing was booked twice" in second.content.decode()
    assert len(sessions_of(practice.episode)) == 4
    with scopes_disabled():
        assert Booking.objects.count() == 1


def test_a_clash_with_the_therapists_other_client_is_refused_and_nothing_is_booked(client, practice):
    with scopes_disabled():
        other = Client.objects.create(organisation=practice.org, name="Other")
        episode = CareEpisode.objects.create(organisation=practice.org, client=other,
                                             therapist=practice.therapist)
        Session.objects.create(organisation=practice.org, episode=episode,
                               scheduled_at=datetime(2026, 10, 19, 9, 30, tzinfo=UTC))
    client.force_login(practice.therapist)
    response = book(client, practice.episode, repeat="weekly", count="4")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Therapist already has a session on Monday 19 October 2026, 09:30–10:20." in page
    assert sessions_of(practice.episode) == []


def test_a_clash_with_the_clients_session_with_another_therapist_is_refused(client, practice):
    with scopes_disabled():
        episode = CareEpisode.objects.create(organisation=practice.org, client=practice.client,
                                             therapist=practice.colleague)
        Session.objects.create(organisation=practice.org, episode=episode,
                               scheduled_at=datetime(2026, 10, 5, 8, 30, tzinfo=UTC))
    client.force_login(practice.therapist)
    response = book(client, practice.episode)
    assert "The client already has a session with another therapist on Monday 5 October 2026" \
        in response.content.decode()
    assert sessions_of(practice.episode) == []


def test_a_cancelled_session_does_not_block_its_time(client, practice):
    with scopes_disabled():
        Session.objects.create(organisation=practice.org, episode=practice.colleague_episode,
                               scheduled_at=datetime(2026, 10, 5, 9, tzinfo=UTC))
        Session.objects.create(organisation=practice.org, episode=practice.episode,
                               scheduled_at=datetime(2026, 10, 5, 9, tzinfo=UTC),
                               attendance=Attendance.CANCELLED_CLINIC)
    client.force_login(practice.therapist)
    assert book(client, practice.episode).status_code == 302
    assert len([s for s in sessions_of(practice.episode) if not s.is_cancelled]) == 1


def test_back_to_back_sessions_do_not_clash(client, practice):
    client.force_login(practice.therapist)
    assert book(client, practice.episode, at="09:00").status_code == 302
    assert book(client, practice.episode, at="09:50").status_code == 302
    assert book(client, practice.episode, at="09:49").status_code == 200
    assert len(sessions_of(practice.episode)) == 2


@pytest.mark.parametrize(("field", "value", "message"), [
    ("day", "2026-09-30", "has already passed"),
    ("telehealth_url", "http://video.example.org/x", "must start with https://"),
    ("minutes", "5", "greater than or equal to 10"),
    ("count", "1", "A series needs at least two sessions"),
    ("at", "25:00", "Enter a valid time"),
])
def test_bad_bookings_are_refused_with_a_reason(client, practice, field, value, message):
    client.force_login(practice.therapist)
    extra = {"repeat": "weekly"} if field == "count" else {}
    response = book(client, practice.episode, **{field: value, **extra})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert sessions_of(practice.episode) == []


def test_an_ended_episode_takes_no_bookings(client, practice):
    with scopes_disabled():
        CareEpisode.objects.filter(pk=practice.episode.pk).update(status="completed")
    client.force_login(practice.therapist)
    response = book(client, practice.episode)
    assert "only in an active episode" in response.content.decode()
    assert sessions_of(practice.episode) == []


def test_an_admin_books_for_a_therapist_and_a_colleague_cannot(client, practice):
    client.force_login(practice.admin)
    assert book(client, practice.episode).status_code == 302
    client.force_login(practice.colleague)
    assert book(client, practice.episode, at="14:00").status_code == 404
    client.force_login(practice.supervisor)
    assert book(client, practice.episode, at="15:00").status_code == 404
    assert len(sessions_of(practice.episode)) == 1


def test_the_booking_page_shows_the_clients_availability_and_warns_outside_it(client, practice):
    with scopes_disabled():
        Availability.objects.create(organisation=practice.org, client=practice.client, weekday=0,
                                    starts=time(8), ends=time(12))
    client.force_login(practice.therapist)
    page = client.get(reverse("scheduling-book", args=[practice.episode.code])).content.decode()
    assert "Monday 08:00–12:00" in page
    inside = client.post(reverse("scheduling-book", args=[practice.episode.code]),
                         booking(at="09:00"), follow=True).content.decode()
    assert "outside the times" not in inside
    outside = client.post(reverse("scheduling-book", args=[practice.episode.code]),
                          booking(day="2026-10-06", at="17:00"), follow=True).content.decode()
    assert "1 of them fall outside the times Riverside Client said suit them." in outside


def test_moving_a_session_checks_for_clashes_and_is_audited(client, practice):
    client.force_login(practice.therapist)
    book(client, practice.episode, repeat="weekly", count="2")
    first, second = sessions_of(practice.episode)
    url = reverse("scheduling-session", args=[first.code])
    clash = client.post(url, {"action": "move", "day": "2026-10-12", "at": "09:20", "minutes": "50"})
    assert "Therapist already has a session on Monday 12 October 2026, 09:00–09:50." in clash.content.decode()
    moved = client.post(url, {"action": "move", "day": "2026-10-06", "at": "10:00", "minutes": "60"})
    assert moved.status_code == 302
    first.refresh_from_db()
    assert (first.scheduled_at, first.duration_minutes) == (datetime(2026, 10, 6, 10, tzinfo=UTC), 60)
    with scopes_disabled():
        event = AuditEvent.objects.get(action="scheduling.session.moved")
    assert event.detail["from"] == "2026-10-05T09:00:00+00:00"


def test_a_late_cancellation_by_the_client_is_recorded_as_late(client, practice):
    client.force_login(practice.therapist)
    book(client, practice.episode, day="2026-10-02", at="09:00")  # tomorrow, within 24 hours
    (session,) = sessions_of(practice.episode)
    response = client.post(reverse("scheduling-session", args=[session.code]),
                           {"action": "cancel", "cancel-by": "client"})
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.attendance == Attendance.CANCELLED_CLIENT
    assert session.is_late_cancellation
    again = client.post(reverse("scheduling-session", args=[session.code]),
                        {"action": "cancel", "cancel-by": "client"})
    assert "already marked" in again.content.decode()


def test_cancelling_the_rest_of_a_series_leaves_earlier_sessions(client, practice):
    client.force_login(practice.therapist)
    book(client, practice.episode, repeat="weekly", count="4")
    sessions = sessions_of(practice.episode)
    client.post(reverse("scheduling-session", args=[sessions[1].code]),
                {"action": "cancel", "cancel-by": "practice", "cancel-rest_of_series": "on"})
    states = [s.attendance for s in sessions_of(practice.episode)]
    assert states == [Attendance.SCHEDULED] + [Attendance.CANCELLED_CLINIC] * 3


def test_the_week_shows_only_that_therapists_sessions_of_that_week(client, practice):
    with scopes_disabled():
        Session.objects.create(organisation=practice.org, episode=practice.episode,
                               scheduled_at=datetime(2026, 10, 6, 14, tzinfo=UTC))
        Session.objects.create(organisation=practice.org, episode=practice.episode,
                               scheduled_at=datetime(2026, 10, 13, 14, tzinfo=UTC))
        Session.objects.create(organisation=practice.org, episode=practice.colleague_episode,
                               scheduled_at=datetime(2026, 10, 7, 14, tzinfo=UTC))
    client.force_login(practice.therapist)
    assert client.get(reverse("scheduling-home"))["Location"] == reverse(
        "scheduling-week", args=[practice.therapist.code])
    page = client.get(reverse("scheduling-week", args=[practice.therapist.code]),
                      {"week": "2026-10-08"}).content.decode()
    assert "Tuesday 6 October" in page and "14:00–14:50" in page
    assert "Riverside Client" in page
    assert "Riverside Other Client" not in page
    assert "Tuesday 13 October" not in page
    # a nonsense week falls back to this week rather than failing
    assert client.get(reverse("scheduling-week", args=[practice.therapist.code]),
                      {"week": "9999-12-31"}).status_code == 200


def test_availability_is_recorded_and_removed(client, practice):
    client.force_login(practice.therapist)
    url = reverse("scheduling-availability", args=[practice.client.code])
    assert client.post(url, {"weekday": "2", "starts": "17:00", "ends": "16:00"}).status_code == 200
    assert client.post(url, {"weekday": "2", "starts": "17:00", "ends": "19:00"}).status_code == 302
    with scopes_disabled():
        (slot,) = Availability.objects.filter(client=practice.client)
    assert str(slot) == "Wednesday 17:00–19:00"
    client.force_login(practice.colleague)
    assert client.post(url, {"remove": str(slot.pk)}).status_code == 404
    client.force_login(practice.therapist)
    client.post(url, {"remove": str(slot.pk)})
    with scopes_disabled():
        assert not Availability.objects.filter(client=practice.client).exists()


def test_a_supervisor_is_offered_no_link_they_may_not_follow(practice):
    """A supervisor reads a supervisee's week and client but does not book, move or invite:
    every link and button they are shown opens for them; the therapist and an admin see them."""
    from tests.conftest import StaffClient

    with scopes_disabled():
        session = Session.objects.create(organisation=practice.org, episode=practice.episode,
                                         scheduled_at=datetime(2026, 10, 6, 14, tzinfo=UTC))
    week = reverse("scheduling-week", args=[practice.therapist.code])
    client_page = reverse("care-client", args=[practice.client.code])
    move = reverse("scheduling-session", args=[session.code])
    times = reverse("scheduling-availability", args=[practice.client.code])
    invite = reverse("practice-invite", args=[practice.client.code])
    for user, offered in ((practice.supervisor, False), (practice.therapist, True),
                          (practice.admin, True)):
        http = StaffClient()
        http.force_login(user)
        week_page = http.get(week, {"week": "2026-10-08"}).content.decode()
        assert "Riverside Client" in week_page
        assert (move in week_page) is offered
        detail = http.get(client_page).content.decode()
        assert (times in detail) is offered and (invite in detail) is offered
        for url in (move, times):
            assert http.get(url).status_code == (200 if offered else 404)
