"""Alert pages: the user's open alerts, and one alert with its evidence, suggestions and history."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_safe

from rapport.alerts import services
from rapport.alerts.access import alerts_for, get_alert_for
from rapport.alerts.forms import StepForm
from rapport.alerts.wording import evidence_rows, risk_answer, why_sentence
from rapport.audit.services import record
from rapport.care.access import require_admin
from rapport.checkins import preferences


@require_safe
@login_required
def alert_list(request: HttpRequest) -> HttpResponse:
    alerts = list(
        alerts_for(request)
        .unresolved()
        .select_related("episode__client", "episode__therapist")
        .by_priority()
    )
    record(request, "alerts.list.viewed", organisation=request.organisation,
           detail={"alerts": len(alerts)})
    return render(request, "alerts/list.html", {"alerts": alerts})


# Alerts about the relationship itself open the short repair guide.
REPAIR_GUIDE_KINDS = frozenset({"rupture", "alliance_dip", "alliance_low", "component_drop", "discrepancy"})


@login_required
@require_http_methods(["GET", "POST"])
def alert_detail(request: HttpRequest, code) -> HttpResponse:
    alert = get_alert_for(request, code)
    form = None
    if not alert.is_resolved:
        form = StepForm(request.POST or None, alert=alert)
    if request.method == "POST":
        if form is None:
            messages.error(request, _("This alert is already resolved."))
            return redirect("alerts-detail", alert.code)
        if form.is_valid():
            try:
                services.transition(alert, form.cleaned_data["to_status"], request=request,
                                    note=form.cleaned_data["note"])
            except services.TransitionError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Alert marked %(status)s.") % {
                    "status": alert.get_status_display().lower()})
                return redirect("alerts-detail", alert.code)
    repair_guide = alert.kind in REPAIR_GUIDE_KINDS
    # Repair fits the client: their strongest C-NIP preferences beside the guide.
    client_preferences = preferences.strongest(alert.episode, limit=5) if repair_guide else []
    record(request, "alerts.alert.viewed", alert, client=alert.episode.client,
           detail={"preferences": len(client_preferences)} if repair_guide else None)
    steps = alert.steps.select_related("by")
    updates = [(u, evidence_rows(u.evidence, alert.kind)) for u in alert.updates.all()]
    return render(
        request,
        "alerts/detail.html",
        {
            "alert": alert,
            "evidence": evidence_rows(alert.evidence, alert.kind),
            "risk_answer": risk_answer(alert.evidence) if alert.kind == "risk" else None,
            "why": why_sentence(alert.kind, alert.evidence),
            "steps": steps,
            "updates": updates,
            "form": form,
            "repair_guide": repair_guide,
            "client_preferences": client_preferences,
        },
        status=400 if form is not None and form.is_bound and form.errors else 200,
    )


@login_required
def urgent_settings(request: HttpRequest) -> HttpResponse:
    """The old address of the urgent-alert settings: they are part of the practice's settings."""
    require_admin(request)
    return redirect(reverse("practice-settings") + "#urgent")
