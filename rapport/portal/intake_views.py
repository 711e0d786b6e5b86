"""The client's intake page in the portal (see rapport/portal/intake.py)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from rapport.audit.services import record
from rapport.checkins.services.consent import current_statement, needs_consent
from rapport.checkins.services.invitations import create_invitation
from rapport.goals.services import GoalError
from rapport.portal import intake
from rapport.portal.services import client_required
from rapport.scheduling.models import Availability


@client_required
@require_http_methods(["GET", "POST"])
def intake_page(request: HttpRequest) -> HttpResponse:
    client = request.portal_client
    statement = needs_consent(client)
    ticked = []
    for slot in Availability.objects.filter(client=client):
        ticked += [f"{slot.weekday}-{part}" for part, (_label, starts, ends) in intake.PARTS.items()
                   if (slot.starts, slot.ends) == (starts, ends)]
    form = intake.IntakeForm(request.POST or None, client=client, needs_consent=statement is not None,
                             initial={"preferred_channel": client.preferred_channel,
                                      "reminders": not client.reminders_opt_out, "slots": ticked,
                                      "time_zone": client.time_zone})
    if request.method == "POST" and request.POST.get("action") == "preferences":
        return _update_preferences(request, client)
    if request.method == "POST" and form.is_valid():
        try:
            intake.complete(request, client, form.cleaned_data, statement)
        except GoalError as exc:
            form.add_error("hope", str(exc))
        else:
            messages.success(request, _("Thank you: your answers are saved."))
            return redirect("portal-home")
    if request.method == "GET":
        record(request, "portal.intake.viewed", client, client=client, actor_label=f"client:{client.code}")
    return render(request, "portal/intake.html", {
        "client": client, "form": form, "statement": statement or current_statement(client.organisation),
        "needs_consent": statement is not None, "first_time": client.intake_completed_at is None,
        "has_episode": intake.current_episode(client) is not None,
        "days": [(day.label, list(form["slots"])[3 * n:3 * n + 3])
                 for n, day in enumerate(intake.Weekday)],
    })


def _update_preferences(request: HttpRequest, client) -> HttpResponse:
    """Straight into the preferences questionnaire (C-NIP), to give them again."""
    checkin = intake.ask_preferences(request, client)
    if checkin is None:
        messages.error(request, _("You can give your preferences once your therapy has started."))
        return redirect("portal-intake")
    _invitation, token = create_invitation(checkin, channel="portal", request=request)
    return redirect("checkins-answer", token)
