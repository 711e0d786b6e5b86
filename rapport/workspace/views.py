"""The therapist's workspace: the caseload, a client, an episode's story, and a session's hub."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from rapport.accounts.models import Role
from rapport.audit.services import record
from rapport.care import access
from rapport.care.forms import AttendanceForm, ConcernsForm
from rapport.care.models import Attendance, EpisodeStatus
from rapport.checkins import preferences
from rapport.checkins.models import Response
from rapport.checkins.services.schedule import session_number
from rapport.notes.models import ClosingSummary
from rapport.scheduling import access as scheduling_access
from rapport.scheduling import delivery, rescheduling
from rapport.workspace import caseload as caseloads
from rapport.workspace import said, story


@login_required
def caseload(request: HttpRequest) -> HttpResponse:
    rows = caseloads.caseload(request)
    record(request, "care.caseload.viewed", organisation=request.organisation,
           detail={"episodes": len(rows)})
    return render(request, "workspace/caseload.html", {
        "rows": rows,
        "shows_therapist": bool(request.roles & {Role.ADMIN, Role.SUPERVISOR}),
        "is_admin": Role.ADMIN in request.roles,
        "any_clinical": any(r.clinical for r in rows),
    })


@login_required
def client_detail(request: HttpRequest, code) -> HttpResponse:
    client = access.get_client_for(request, code)
    episodes = access.episodes_for(request).filter(client=client).select_related("therapist")
    record(request, "care.client.viewed", client, client=client)
    # Inviting and recording times are for the treating therapist and admins: a supervisor
    # reading the page is not offered links that would answer "not found".
    may_book = scheduling_access.bookable_episodes(request).filter(client=client).exists()
    return render(request, "workspace/client_detail.html", {"client": client, "episodes": episodes,
                                                            "may_book": may_book})


@login_required
@require_http_methods(["GET", "POST"])
def episode_detail(request: HttpRequest, code) -> HttpResponse:
    episode = access.get_episode_for(request, code)
    can_read_text = access.can_read_clinical_text(request, episode)
    form = None
    if can_read_text:
        form = ConcernsForm(request.POST or None,
                            initial={"presenting_concerns": episode.presenting_concerns})
        if request.method == "POST":
            if form.is_valid():
                with transaction.atomic():
                    episode.presenting_concerns = form.cleaned_data["presenting_concerns"]
                    episode.save(update_fields=["presenting_concerns"])
                    record(request, "care.episode.concerns_changed", episode)
                messages.success(request, _("Presenting concerns saved."))
                return redirect("care-episode", episode.code)
    elif request.method == "POST":
        return render(request, "403.html", status=403)
    page = story.episode_story(request, episode, clinical=can_read_text)
    record(request, "care.episode.viewed", episode,
           detail={"clinical_text": can_read_text})
    context = {"episode": episode, "story": page, "form": form, "can_read_text": can_read_text,
               "is_therapist": request.user == episode.therapist,
               "deliveries": delivery.history(episode),
               "may_discharge": episode.status == EpisodeStatus.ACTIVE
               and (request.user == episode.therapist or Role.ADMIN in request.roles)}
    if can_read_text:
        context.update(_episode_said(request, episode))
        context["closing"] = ClosingSummary.objects.filter(episode=episode).select_related(
            "written_by").first()
    return render(request, "workspace/episode_detail.html", context)


def _episode_said(request: HttpRequest, episode) -> dict:
    """The client's latest answers, every critical item they have answered, their C-NIP."""
    responses = said.client_responses(Response.objects.filter(episode=episode))
    latest_session = next((r.session for r in reversed(responses) if r.session_id), None)
    latest = [r for r in responses if latest_session and r.session_id == latest_session.pk]
    cnip = next((r for r in reversed(responses) if r.instrument_id == said.CNIP), None)
    earlier = [b for b in said.blocks([r for r in responses if r not in latest], free_text=True)
               if b.critical]
    leaning, neutral = said.preferences(cnip)
    record(request, "workspace.answers.viewed", episode,
           detail={"responses": len(latest) + len(earlier) + (cnip is not None),
                   "free_text": True})
    return {"said": said.blocks([r for r in latest if r.instrument_id != said.CNIP],
                                free_text=True),
            "said_session": latest_session, "said_critical": earlier,
            "cnip": cnip, "preferences": leaning, "neutral_preferences": neutral}


@login_required
@require_http_methods(["GET", "POST"])
def session_detail(request: HttpRequest, code) -> HttpResponse:
    session = access.get_session_for(request, code)
    form = AttendanceForm(request.POST or None, initial={"attendance": session.attendance})
    if request.method == "POST":
        if form.is_valid():
            with transaction.atomic():
                previous = session.attendance
                session.attendance = form.cleaned_data["attendance"]
                fields = ["attendance"]
                if session.attendance == Attendance.CANCELLED_CLIENT and session.cancelled_at is None:
                    session.cancelled_at = timezone.now()
                    fields.append("cancelled_at")
                session.save(update_fields=fields)
                record(request, "care.session.attendance_changed", session,
                       client=session.episode.client,
                       detail={"from": previous, "to": session.attendance})
            messages.success(request, _("Attendance saved."))
            return redirect("care-session", session.code)
    else:
        record(request, "care.session.viewed", session, client=session.episode.client)
    episode = session.episode
    can_read_text = access.can_read_clinical_text(request, episode)
    blocks, first = None, None
    number = session_number(session) if session.attendance not in caseloads.CANCELLED else None
    if can_read_text:
        responses = said.client_responses(Response.objects.filter(session=session))
        blocks = said.blocks(responses, free_text=True)
        if number == 1:  # the first session: how the client prefers to work, before meeting
            first = said.preferences(preferences.latest(episode))
        if request.method == "GET":
            record(request, "workspace.answers.viewed", session, client=episode.client,
                   detail={"responses": len(responses), "free_text": True,
                           "preferences": first is not None})
    return render(request, "workspace/session_detail.html", {
        "session": session, "form": form, "number": number,
        "first_preferences": first,
        "can_read_text": can_read_text, "said": blocks,
        "is_therapist": request.user == episode.therapist,
        "is_past": session.scheduled_at <= timezone.now(),
        "move_request": rescheduling.pending_for(session),
    })
