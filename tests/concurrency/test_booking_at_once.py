"""A booking form double-clicked (the same form sent several times at once), and two different
bookings of the same hour made at once: one series is booked, the rest find it or are refused."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django_scopes import scopes_disabled

from rapport.audit.models import AuditEvent
from rapport.care.models import Session
from rapport.scheduling.models import Booking
from tests.concurrency.conftest import at_once
from tests.conftest import StaffClient

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

N = 5
NOW = datetime(2030, 10, 3, 12, tzinfo=UTC)  # a Thursday
FORM = {"day": "2030-10-07", "at": "09:00", "minutes": "50", "repeat": "weekly", "count": "4",
        "telehealth_url": ""}


def _post_at_once(practice, forms: list[dict]) -> list[int]:
    """Each form posted by the therapist's one browser session, all at the same moment."""
    url = reverse("scheduling-book", args=[practice.episode.code])

    def work(i, barrier):
        tab = StaffClient()
        tab.cookies = browser.cookies  # the same session, as a double click sends
        barrier.wait()
        response = tab.post(url, forms[i])
        assert response.status_code == 200 or "/schedule/" in response["Location"], response["Location"]
        return response.status_code

    with time_machine.travel(NOW, tick=True):
        browser = StaffClient()
        browser.force_login(practice.therapist)
        results, errors = at_once(len(forms), work)
    assert errors == []
    return results


def _booked(practice) -> list[Session]:
    with scopes_disabled():
        return list(Session.objects.filter(episode__therapist=practice.therapist, scheduled_at__gt=NOW))


def test_a_double_clicked_booking_books_the_series_once(practice):
    results = _post_at_once(practice, [{**FORM, "key": "0b6f3e2a-9c41-4d6e-8f57-1a2b3c4d5e6f"}] * N)
    assert results == [302] * N  # each click is answered with the week page
    assert len(_booked(practice)) == 4
    with scopes_disabled():
        assert Booking.objects.count() == 1
        assert AuditEvent.objects.filter(action="scheduling.booking.created").count() == 1


def test_two_bookings_of_the_same_hour_at_once_book_one(practice):
    results = _post_at_once(practice, [{**FORM, "key": str(uuid.uuid4())} for _ in range(N)])
    assert sorted(results) == [200] * (N - 1) + [302]  # the others see the clash on the form
    got = _booked(practice)
    assert len(got) == 4
    assert sorted(s.scheduled_at for s in got) == [datetime(2030, 10, 7, 9, tzinfo=UTC)
                                                   + timedelta(weeks=n) for n in range(4)]
