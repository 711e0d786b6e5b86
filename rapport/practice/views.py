"""Running the practice: adding clients (intake) and inviting them into the portal."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from rapport.accounts.models import Role, User
from rapport.audit.services import record
from rapport.portal import services as portal
from rapport.practice import intake
from rapport.practice.forms import NewClientForm
from rapport.scheduling import access


def _therapists(request: HttpRequest):
    """Whom the new client's episode may go to: any therapist for an admin, else oneself."""
    if Role.ADMIN in request.roles:
        return User.objects.filter(memberships__organisation=request.organisation,
                                   memberships__role=Role.THERAPIST, is_active=True).distinct().order_by("name")
    if Role.THERAPIST in request.roles:
        return User.objects.filter(pk=request.user.pk)
    raise Http404("No such page")


@login_required
@require_http_methods(["GET", "POST"])
def add_client(request: HttpRequest) -> HttpResponse:
    therapists = _therapists(request)
    form = NewClientForm(request.POST or None, therapists=therapists,
                         initial={"therapist": request.user if Role.THERAPIST in request.roles else None})
    matches = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        matches = [] if data["different_person"] else intake.possible_duplicates(
            request, data["email"], data["phone"])
        if matches:
            record(request, "practice.client.possible_duplicate", organisation=request.organisation,
                   detail={"matches": [str(m.client.code) for m in matches]})
            form.data = form.data.copy()
            form.data["different_person"] = "on"  # submitting again means "a different person"
        else:
            episode = intake.add_client(request, data, data["therapist"])
            client = episode.client
            messages.success(request, _("Added %(client)s and opened an episode with %(therapist)s.") % {
                "client": client.display_name, "therapist": episode.therapist})
            if data["invite"]:
                portal.invite(request, client)
                messages.success(request, _("Invited %(client)s to the portal.") % {
                    "client": client.display_name})
            return redirect("care-client", client.code)
    return render(request, "practice/add_client.html", {"form": form, "matches": matches})


@login_required
@require_POST
def invite(request: HttpRequest, code) -> HttpResponse:
    """(Re)send the portal invitation: the treating therapist or an admin."""
    episodes = access.bookable_episodes(request)
    client = next((e.client for e in episodes.filter(client__code=code).select_related("client")), None)
    if client is None:
        raise Http404("No such client")
    if not client.email:
        messages.error(request, _("%(client)s has no email address to invite.") % {
            "client": client.display_name})
    else:
        portal.invite(request, client)
        messages.success(request, _("Invited %(client)s to the portal.") % {"client": client.display_name})
    return redirect("care-client", client.code)
