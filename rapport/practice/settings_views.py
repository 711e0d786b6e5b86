"""The practice's settings page (admins): crisis resources, check-in link lifetime, the
confidentiality statement. Retention has its own page (privacy-retention), linked from here."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from rapport.accounts.twofactor import reauth_redirect
from rapport.alerts import notify
from rapport.audit.services import record
from rapport.care import access
from rapport.checkins.services.consent import (
    current_statement,
    practice_settings,
    publish_statement,
)
from rapport.practice.forms import PracticeSettingsForm
from rapport.scheduling import delivery

REMINDER_FIELDS = ("hours_before", "quiet_from", "quiet_until", "checkin_invitations",
                   "checkin_hours_before", "followup_hours")
URGENT_FIELDS = ("duty_name", "duty_email", "duty_phone", "escalate_after_minutes")


@login_required
@require_http_methods(["GET", "POST"])
def practice_settings_page(request: HttpRequest) -> HttpResponse:
    access.require_admin(request)
    if request.method == "POST" and (confirm := reauth_redirect(request)) is not None:
        return confirm
    org = request.organisation
    current = practice_settings(org)
    statement = current_statement(org)
    policy = delivery.policy_for(org)
    urgent = notify.urgent_settings(org)
    form = PracticeSettingsForm(request.POST or None, initial={
        **{f: getattr(urgent, f) for f in URGENT_FIELDS},
        "crisis_resources": current.crisis_resources, "invitation_days": current.invitation_days,
        "statement": statement.text, **{f: getattr(policy, f) for f in REMINDER_FIELDS}})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with transaction.atomic():
            changed = [f for f in URGENT_FIELDS if getattr(urgent, f) != data[f]]
            if changed or current.crisis_resources != data["crisis_resources"]:
                notify.save_urgent_settings(request, org, data)  # audited there
                changed.append("urgent")
                current.refresh_from_db()
            if current.invitation_days != data["invitation_days"]:
                current.invitation_days = data["invitation_days"]
                current.save(update_fields=["invitation_days"])
                record(request, "practice.settings.changed", current, organisation=org,
                       detail={"changed": ["invitation_days"]})
                changed.append("invitation_days")
            timing = [f for f in REMINDER_FIELDS if str(getattr(policy, f))[:5] != str(data[f])[:5]]
            if timing:
                for f in REMINDER_FIELDS:
                    setattr(policy, f, data[f])
                policy.save()
                record(request, "practice.settings.reminders_changed", policy, organisation=org,
                       detail={f: str(data[f]) for f in timing})
                changed += timing
            # Browsers send textarea line breaks as CRLF: compare the text, not the line endings.
            if data["statement"].replace("\r\n", "\n").strip() != statement.text.replace("\r\n", "\n").strip():
                publish_statement(org, data["statement"].replace("\r\n", "\n").strip(), request)
                changed.append("statement")
        messages.success(request, _("Settings saved.") if changed else _("Nothing had changed."))
        return redirect("practice-settings")
    if request.method == "GET":
        record(request, "practice.settings.viewed", organisation=org)
    return render(request, "practice/settings.html", {
        "form": form, "statement": statement, "crisis": form["crisis_resources"].value()},
        status=400 if form.is_bound else 200)
