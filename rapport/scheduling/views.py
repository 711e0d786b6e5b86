"""The therapist's week, booking, moving and cancelling sessions, availability, the calendar feed."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from rapport.accounts.models import Role
from rapport.audit.services import record
from rapport.care.models import Client
from rapport.scheduling import access, feeds, rescheduling, services
from rapport.scheduling.forms import AvailabilityForm, BookingForm, CancelForm, WhenForm
from rapport.scheduling.models import Availability, MoveStatus, RescheduleRequest

NEW_FEED_KEY = "rapport_new_calendar_feed"


def _monday(request: HttpRequest) -> date:
    try:
        day = date.fromisoformat(request.GET.get("week", ""))
    except ValueError:
        day = timezone.localdate()
    if not 1900 <= day.year <= 2999:  # far enough; and no arithmetic overflows near date.max
        day = timezone.localdate()
    return services.week_start(day)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """A therapist goes straight to their own week; admins and supervisors choose a calendar."""
    if Role.THERAPIST in request.roles:
        return redirect("scheduling-week", request.user.code)
    return render(request, "scheduling/home.html", {"owners": access.calendar_owners(request)})


@login_required
def week(request: HttpRequest, code) -> HttpResponse:
    owner = access.get_calendar_owner(request, code)
    monday = _monday(request)
    days = services.week(owner, monday)
    record(request, "scheduling.week.viewed", owner, organisation=request.organisation,
           detail={"week": monday.isoformat()})
    return render(request, "scheduling/week.html", {
        "owner": owner, "days": days, "monday": monday, "sunday": monday + timedelta(days=6),
        "previous": monday - timedelta(days=7), "next": monday + timedelta(days=7),
        "today": timezone.localdate(), "is_own": owner == request.user,
        # Moving and booking are for the treating therapist and admins (a supervisor reads).
        "can_schedule": owner == request.user or Role.ADMIN in request.roles,
        "others": access.calendar_owners(request).exclude(pk=owner.pk),
        "pending_moves": RescheduleRequest.objects.filter(
            session__episode__in=access.bookable_episodes(request),
            status__in=[MoveStatus.OPEN, MoveStatus.PROPOSED]).count(),
    })


@login_required
@require_http_methods(["GET", "POST"])
def book(request: HttpRequest, code) -> HttpResponse:
    episode = access.get_episode_to_book(request, code)
    client = episode.client
    form = BookingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            booked = services.book(
                request, episode, start=data["start"], minutes=data["minutes"],
                repeat=data["repeat"], count=data["count"],
                telehealth_url=data["telehealth_url"], key=data["key"],
            )
        except services.BookingError as exc:
            for problem in exc.problems:
                form.add_error(None, problem)
        else:
            sessions = list(booked.booking.sessions.order_by("scheduled_at"))
            if booked.created:
                messages.success(request, ngettext(
                    "Booked %(count)d session from %(start)s.",
                    "Booked %(count)d sessions from %(start)s.", len(sessions)) % {
                    "count": len(sessions),
                    "start": services.describe(sessions[0].scheduled_at, sessions[0].duration_minutes)})
                outside = services.outside_availability(
                    client, [s.scheduled_at for s in sessions], sessions[0].duration_minutes)
                if outside:
                    messages.warning(request, ngettext(
                        "%(count)d of them fall outside the times %(client)s said suit them.",
                        "%(count)d of them fall outside the times %(client)s said suit them.",
                        len(outside)) % {"count": len(outside), "client": client.display_name})
            else:
                messages.info(request, _("This booking had already been made; nothing was booked twice."))
            return redirect(_week_url(episode.therapist, sessions[0]))
    record(request, "scheduling.booking.form_viewed", episode, client=client)
    upcoming = episode.sessions.filter(scheduled_at__gte=timezone.now()).exclude(
        attendance__in=services.CANCELLED)
    return render(request, "scheduling/book.html", {
        "episode": episode, "client": client, "form": form,
        "availability": Availability.objects.filter(client=client), "upcoming": upcoming,
    })


def _week_url(owner, session) -> str:
    monday = services.week_start(services.local(session.scheduled_at).date())
    return f"{reverse('scheduling-week', args=[owner.code])}?week={monday.isoformat()}"


@login_required
@require_http_methods(["GET", "POST"])
def session(request: HttpRequest, code) -> HttpResponse:
    """Move a session, change its video link, or cancel it."""
    target = access.get_session_to_schedule(request, code)
    when = services.local(target.scheduled_at)
    move_form = WhenForm(
        request.POST if request.POST.get("action") == "move" else None,
        initial={"day": when.date(), "at": when.time(), "minutes": target.duration_minutes,
                 "telehealth_url": target.telehealth_url},
    )
    cancel_form = CancelForm(request.POST if request.POST.get("action") == "cancel" else None,
                             prefix="cancel")
    if request.method == "POST":
        form = move_form if request.POST.get("action") == "move" else cancel_form
        if form.is_valid():
            data = form.cleaned_data
            try:
                if form is move_form:
                    services.move(request, target, start=data["start"], minutes=data["minutes"],
                                  telehealth_url=data["telehealth_url"])
                    messages.success(request, _("Saved: %(when)s.") % {
                        "when": services.describe(target.scheduled_at, target.duration_minutes)})
                else:
                    done = services.cancel(request, target, by_client=data["by"] == "client",
                                           rest_of_series=data["rest_of_series"])
                    messages.success(request, ngettext(
                        "Cancelled %(count)d session.", "Cancelled %(count)d sessions.", len(done))
                        % {"count": len(done)})
            except services.BookingError as exc:
                for problem in exc.problems:
                    form.add_error(None, problem)
            else:
                return redirect(_week_url(target.episode.therapist, target))
    else:
        record(request, "scheduling.session.viewed", target, client=target.episode.client)
    in_series = target.bookings.filter(repeat__in=["weekly", "fortnightly"]).exists()
    return render(request, "scheduling/session.html", {
        "session": target, "move_form": move_form, "cancel_form": cancel_form,
        "in_series": in_series, "availability": Availability.objects.filter(client=target.episode.client),
        "move_request": rescheduling.pending_for(target),
    })


def _client_to_book(request: HttpRequest, code) -> Client:
    try:
        return Client.objects.filter(episodes__in=access.bookable_episodes(request)).distinct().get(
            code=access.access.parse_code(code))
    except Client.DoesNotExist as exc:
        raise Http404("No such client") from exc


@login_required
@require_http_methods(["GET", "POST"])
def availability(request: HttpRequest, code) -> HttpResponse:
    """Times of the week that suit the client, as they told the practice."""
    client = _client_to_book(request, code)
    form = AvailabilityForm(request.POST or None)
    if request.method == "POST":
        remove = request.POST.get("remove", "")
        if remove:
            with transaction.atomic():
                deleted = 0
                if remove.isdigit() and len(remove) < 12:
                    deleted, _count = Availability.objects.filter(client=client, pk=int(remove)).delete()
                if deleted:
                    record(request, "scheduling.availability.removed", client, client=client)
            return redirect("scheduling-availability", client.code)
        if form.is_valid():
            with transaction.atomic():
                slot = Availability.objects.create(organisation=client.organisation, client=client,
                                                   **form.cleaned_data)
                record(request, "scheduling.availability.added", client, client=client,
                       detail={"slot": str(slot)})
            messages.success(request, _("Added %(slot)s.") % {"slot": slot})
            return redirect("scheduling-availability", client.code)
    else:
        record(request, "scheduling.availability.viewed", client, client=client)
    episodes = access.bookable_episodes(request).filter(client=client)
    return render(request, "scheduling/availability.html", {
        "client": client, "form": form, "slots": Availability.objects.filter(client=client),
        "episodes": episodes,
    })


@login_required
@require_http_methods(["GET", "POST"])
def feed_settings(request: HttpRequest) -> HttpResponse:
    """A therapist's private calendar address: make one (shown once), or revoke it."""
    if Role.THERAPIST not in request.roles:
        raise Http404("No calendar")
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "revoke":
            if feeds.revoke(request):
                messages.success(request, _("The calendar address no longer works."))
        elif action == "create":
            # Shown once, on the page this redirects to (then gone from the session).
            request.session[NEW_FEED_KEY] = feeds.create(request)
        return redirect("scheduling-feed-settings")
    token = request.session.pop(NEW_FEED_KEY, None)
    new_url = request.build_absolute_uri(feeds.url_for(token)) if token else None
    return render(request, "scheduling/feed_settings.html", {
        "active": feeds.active_for(request), "new_url": new_url,
    })


@require_GET
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """The iCalendar file itself: the unguessable address is the credential."""
    body = feeds.render(request, token)
    if body is None:
        raise Http404("No such calendar")
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")



