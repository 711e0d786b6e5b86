"""Erasing a client's scheduling data (see rapport.privacy.registry for the contract).

Times that suited the client, reminders and invitations sent for their sessions, their requests
to move a session, and bookings of their episodes are deleted whatever `keep_scores` says: none of them gives meaning to a kept score.
"""

from __future__ import annotations

from rapport.privacy.registry import Erased
from rapport.scheduling.models import Availability, Booking, RescheduleRequest, SentReminder


def erase(client, *, keep_scores: bool) -> Erased:
    done = Erased()
    done.add("availability", Availability.objects.filter(client=client).delete()[0], [])
    done.add("reminders", SentReminder.objects.filter(session__episode__client=client).delete()[0], [])
    moves = RescheduleRequest.objects.filter(session__episode__client=client)
    codes = list(moves.values_list("code", flat=True))
    done.add("requests to move a session", moves.delete()[0], codes)
    bookings = Booking.objects.filter(episode__client=client)
    codes = list(bookings.values_list("code", flat=True))
    done.add("bookings", bookings.delete()[0], codes)
    return done
