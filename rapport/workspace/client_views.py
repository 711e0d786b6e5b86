"""Finding clients (search, past clients) and ending an episode (discharge)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from rapport.accounts.models import Role
from rapport.audit.services import record
from rapport.care import access
from rapport.care.forms import DischargeForm
from rapport.care.models import EpisodeStatus
from rapport.care.search import MAX_QUERY, for_user
from rapport.workspace import discharge as discharges


@require_safe
@login_required
def search(request: HttpRequest) -> HttpResponse:
    """Clients by name, active or past, among those the user may see."""
    query = request.GET.get("q", "")[:MAX_QUERY].strip()
    clients = for_user(request, query) if query else []
    episodes = {}
    if clients:
        for e in (access.episodes_for(request).filter(client__in=clients)
                  .select_related("therapist").order_by("-started_on")):
            episodes.setdefault(e.client_id, []).append(e)
    # The query is a name: the audit keeps how many matched, never what was typed.
    record(request, "care.clients.searched", organisation=request.organisation,
           detail={"results": len(clients)})
    return render(request, "workspace/search.html", {
        "query": query, "results": [(c, episodes.get(c.pk, [])) for c in clients],
    })


@require_safe
@login_required
def past_clients(request: HttpRequest) -> HttpResponse:
    """Ended episodes the user may see, most recently ended first."""
    ended = list(access.episodes_for(request).exclude(status=EpisodeStatus.ACTIVE)
                 .select_related("client", "therapist").order_by("-ended_on", "-started_on", "pk"))
    record(request, "care.past_clients.viewed", organisation=request.organisation,
           detail={"episodes": len(ended)})
    return render(request, "workspace/past_clients.html", {
        "episodes": ended, "is_admin": Role.ADMIN in request.roles,
        "shows_therapist": bool(request.roles & {Role.ADMIN, Role.SUPERVISOR}),
    })


def may_discharge(request: HttpRequest, episode) -> bool:
    """The treating therapist, or an administrator (who may end any episode of the practice)."""
    return access.may_write(request, episode) or Role.ADMIN in request.roles


@login_required
@require_http_methods(["GET", "POST"])
def discharge(request: HttpRequest, code) -> HttpResponse:
    """End an episode in two steps: the form, then a confirmation showing what will happen."""
    episode = access.get_episode_for(request, code)
    if not may_discharge(request, episode):
        return render(request, "403.html", status=403)
    if episode.status != EpisodeStatus.ACTIVE:
        messages.info(request, _("This episode has already ended."))
        return redirect("care-episode", episode.code)
    writes_summary = access.may_write(request, episode)
    form = DischargeForm(request.POST if request.method == "POST" else None,
                         writes_summary=writes_summary,
                         initial={"ended_on": timezone.localdate(),
                                  "status": EpisodeStatus.COMPLETED})
    confirming = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["confirm"]:
            try:
                cancelled = discharges.discharge(
                    request, episode, status=data["status"], ended_on=data["ended_on"],
                    summary=data.get("summary", ""))
            except discharges.DischargeError as exc:
                form.add_error(None, str(exc))
            else:
                done = _("Episode ended.")
                if cancelled:
                    done += " " + _("%(n)d booked session(s) cancelled.") % {"n": cancelled}
                messages.success(request, done)
                return redirect("care-episode", episode.code)
        else:
            confirming = "edit" not in request.POST
    measures = discharges.final_measures(episode)
    if request.method == "GET":
        record(request, "care.discharge_form.viewed", episode, client=episode.client,
               detail={"measures": len(measures)})
    upcoming = episode.sessions.filter(scheduled_at__gt=timezone.now(),
                                       attendance="scheduled").count()
    return render(request, "workspace/discharge.html", {
        "episode": episode, "form": form, "measures": measures, "confirming": confirming,
        "upcoming": upcoming, "writes_summary": writes_summary,
    }, status=400 if form.is_bound and form.errors else 200)
