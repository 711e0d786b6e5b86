"""The therapist's side of clients' requests to move a session: the list, and one request (accept
one of the client's times, propose another, or decline). Treating therapist and admins only."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from rapport.audit.services import record
from rapport.care import access as care_access
from rapport.scheduling import access, rescheduling, services
from rapport.scheduling.forms import ProposeForm
from rapport.scheduling.models import Availability, MoveStatus, RescheduleRequest


def _requests(request: HttpRequest):
    return (RescheduleRequest.objects.filter(session__episode__in=access.bookable_episodes(request))
            .select_related("session__episode__client", "session__episode__therapist"))


@login_required
@require_GET
def requests_list(request: HttpRequest) -> HttpResponse:
    pending = _requests(request).filter(status__in=[MoveStatus.OPEN, MoveStatus.PROPOSED])
    recent = _requests(request).filter(status__in=[MoveStatus.ACCEPTED, MoveStatus.DECLINED])[:20]
    record(request, "scheduling.reschedule.list_viewed", organisation=request.organisation,
           detail={"pending": pending.count()})
    return render(request, "scheduling/requests.html", {"pending": pending, "recent": recent})


@login_required
@require_http_methods(["GET", "POST"])
def request_detail(request: HttpRequest, code) -> HttpResponse:
    try:
        move = _requests(request).get(code=care_access.parse_code(code))
    except RescheduleRequest.DoesNotExist as exc:
        raise Http404("No such request") from exc
    action = request.POST.get("action")
    propose_form = ProposeForm(request.POST if action == "propose" else None)
    problems: list[str] = []
    if request.method == "POST":
        try:
            if action == "accept":
                start = _chosen(move, request.POST.get("option", ""))
                rescheduling.accept(request, move, start)
                messages.success(request, _("Moved to %(when)s; the client is told.") % {
                    "when": services.describe(start, move.session.duration_minutes)})
                return redirect("care-session", move.session.code)
            if action == "propose" and propose_form.is_valid():
                rescheduling.propose(request, move, propose_form.cleaned_data["start"])
                messages.success(request, _("Proposed; the client can accept it in their portal."))
                return redirect("scheduling-requests")
            if action == "decline":
                rescheduling.decline(request, move)
                messages.success(request, _("The session stays where it is; the client is told."))
                return redirect("scheduling-requests")
            if action not in ("accept", "propose", "decline"):
                problems.append(_("Choose what to do with the request."))
        except services.BookingError as exc:
            problems += exc.problems
    else:
        record(request, "scheduling.reschedule.viewed", move, client=move.session.episode.client)
    return render(request, "scheduling/request.html", {
        "move": move, "session": move.session, "options": rescheduling.option_times(move),
        "propose_form": propose_form, "problems": problems,
        "availability": Availability.objects.filter(client=move.session.episode.client),
    })


def _chosen(move: RescheduleRequest, value: str):
    options = rescheduling.option_times(move)
    if not value.isdigit() or int(value) >= len(options):
        raise services.BookingError(_("Choose one of the times the client offered."))
    return options[int(value)]
