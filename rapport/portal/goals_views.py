"""The client's goals in the portal: see them with progress, agree, propose.

Mounted under the portal's prefix; `client_required` (rapport.portal.services) gives
`request.portal_client` and opens the client's organisation scope. The services check that every
goal and episode belongs to this client and raise GoalNotFound (a 404) otherwise.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from rapport.goals import services
from rapport.goals.forms import ClientGoalForm
from rapport.portal.services import client_required


def _page(request: HttpRequest, form: ClientGoalForm, status: int = 200) -> HttpResponse:
    client = request.portal_client
    episodes = list(services.client_episodes_for_goals(client))
    return render(request, "goals/portal_goals.html", {
        "client": client, "goals": services.goals_for_client(client, request),
        "form": form, "episodes": episodes,
    }, status=status)


@client_required
@require_http_methods(["GET"])
def goals(request: HttpRequest) -> HttpResponse:
    return _page(request, ClientGoalForm())


@client_required
@require_POST
def propose(request: HttpRequest) -> HttpResponse:
    client = request.portal_client
    form = ClientGoalForm(request.POST)
    if form.is_valid():
        episodes = list(services.client_episodes_for_goals(client))
        chosen = request.POST.get("episode") or (str(episodes[0].code) if len(episodes) == 1 else "")
        try:
            services.propose_goal_as_client(client, chosen, form.cleaned_data["title"],
                                            form.cleaned_data["description"], request=request)
        except services.GoalNotFound:
            form.add_error(None, _("Please choose which of your therapies this goal belongs to."))
        except services.GoalError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Thank you. Your goal is proposed; your therapist will "
                                        "look at it with you."))
            return redirect("portal-goals")
    return _page(request, form, status=400)


@client_required
@require_POST
def agree(request: HttpRequest, code) -> HttpResponse:
    try:
        services.agree_goal_as_client(request.portal_client, code, request=request)
    except services.GoalError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Thank you. You agreed to this goal."))
    return redirect("portal-goals")
