"""Asking, from the portal, to move a session, and accepting the therapist's other time
(rapport.scheduling.rescheduling does the work)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from rapport.audit.services import record
from rapport.care.models import Attendance, Session
from rapport.portal.services import client_required
from rapport.scheduling import rescheduling
from rapport.scheduling.forms import MoveRequestForm
from rapport.scheduling.models import MoveStatus, RescheduleRequest
from rapport.scheduling.services import BookingError


@client_required
@require_http_methods(["GET", "POST"])
def ask(request: HttpRequest, code) -> HttpResponse:
    client = request.portal_client
    session = Session.objects.filter(code=code, episode__client=client, attendance=Attendance.SCHEDULED,
                                     scheduled_at__gt=timezone.now()).select_related(
        "episode__client", "episode__therapist").first()
    if session is None:
        raise Http404("No such session")
    pending = rescheduling.pending_for(session)
    form = MoveRequestForm(request.POST or None, suggestions=rescheduling.suggestions(session))
    if request.method == "POST" and pending is None and form.is_valid():
        data = form.cleaned_data
        try:
            _move, created = rescheduling.ask(request, session, reason=data["reason"],
                                              options=data["options"], key=data["key"])
        except BookingError as exc:
            for problem in exc.problems:
                form.add_error(None, problem)
        else:
            messages.success(request, _("Thank you: your therapist will answer soon.") if created
                             else _("We had your request already; nothing was sent twice."))
            return redirect("portal-home")
    if request.method == "GET":
        record(request, "portal.reschedule.viewed", session, client=client,
               actor_label=f"client:{client.code}")
    return render(request, "portal/reschedule.html", {"session": session, "form": form, "pending": pending})


@client_required
@require_POST
def accept(request: HttpRequest, code) -> HttpResponse:
    """The client takes the time their therapist proposed."""
    move = RescheduleRequest.objects.filter(code=code, session__episode__client=request.portal_client,
                                            status=MoveStatus.PROPOSED).first()
    if move is None:
        raise Http404("No such proposal")
    try:
        rescheduling.client_accepts(request, move)
    except BookingError as exc:
        messages.error(request, " ".join(exc.problems) + " " + _("Please contact the practice."))
    else:
        messages.success(request, _("Your session has moved."))
    return redirect("portal-home")
