"""A therapist's private iCalendar feed: their sessions with no client names in it.

The address carries a random token; only its SHA-256 hash is stored, so the address is shown once
when made. Making a new address revokes the old one; a revoked address answers 404. Each event
says "Client session" and links to the session page, which asks for a login.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from icalendar import Calendar, Event

from rapport.audit.services import record
from rapport.care.models import Attendance, Session
from rapport.scheduling.models import CalendarFeed, hash_token

PAST, FUTURE = timedelta(days=30), timedelta(days=365)  # the window a feed covers


def url_for(token: str) -> str:
    return reverse("scheduling-feed", args=[token])


def active_for(request: HttpRequest) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=request.user, revoked_at__isnull=True).first()


@transaction.atomic
def revoke(request: HttpRequest) -> int:
    feeds = list(CalendarFeed.objects.select_for_update(no_key=True).filter(user=request.user, revoked_at__isnull=True))
    for feed in feeds:
        feed.revoked_at = timezone.now()
        feed.save(update_fields=["revoked_at"])
        record(request, "scheduling.feed.revoked", feed, organisation=request.organisation)
    return len(feeds)


@transaction.atomic
def create(request: HttpRequest) -> str:
    """A new address for the user's calendar (any older one stops working). Returns the token."""
    revoke(request)
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(organisation=request.organisation, user=request.user,
                                       token_hash=hash_token(token))
    record(request, "scheduling.feed.created", feed, organisation=request.organisation)
    return token


def render(request: HttpRequest, token: str) -> bytes | None:
    """The feed's iCalendar text, or None for an unknown or revoked token."""
    with scopes_disabled():
        feed = (CalendarFeed.objects.filter(token_hash=hash_token(token), revoked_at__isnull=True)
                .select_related("organisation", "user").first())
    if feed is None or not feed.user.is_active:
        return None
    with scope(organisation=[feed.organisation]):
        now = timezone.now()
        sessions = Session.objects.filter(
            episode__therapist=feed.user, scheduled_at__gte=now - PAST, scheduled_at__lte=now + FUTURE,
        ).order_by("scheduled_at")
        calendar = Calendar()
        calendar.add("prodid", "-//Rapport//Therapist calendar//EN")
        calendar.add("version", "2.0")
        calendar.add("x-wr-calname", f"Rapport: {feed.organisation.name}")
        for session in sessions:
            event = Event()
            event.add("uid", f"{session.code}@rapport")
            event.add("dtstamp", now)
            event.add("dtstart", session.scheduled_at)
            event.add("dtend", session.ends_at)
            event.add("summary", "Client session")
            event.add("url", request.build_absolute_uri(reverse("care-session", args=[session.code])))
            if session.telehealth_url:
                event.add("location", "Video session")
            if session.attendance in (Attendance.CANCELLED_CLIENT, Attendance.CANCELLED_CLINIC):
                event.add("status", "CANCELLED")
            calendar.add_component(event)
        feed.last_used_at = now
        feed.save(update_fields=["last_used_at"])
        record(None, "scheduling.feed.read", feed, organisation=feed.organisation,
               actor_label="calendar-feed", detail={"events": len(sessions)})
    return calendar.to_ical()
