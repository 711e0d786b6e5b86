"""The practice's settings page (admins): urgent alerts and crisis resources, check-in link
lifetime, reminder and invitation timings with quiet hours, the confidentiality statement, and
(a form of its own on the page) the check-in schedule every new episode starts from. Retention
has its own page (privacy-retention), linked from here."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from rapport import instruments
from rapport.accounts.twofactor import reauth_redirect
from rapport.alerts import notify
from rapport.audit.services import record
from rapport.care import access
from rapport.checkins import rules
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


def _initial(org, current, statement) -> dict:
    urgent, policy = notify.urgent_settings(org), delivery.policy_for(org)
    return {**{f: getattr(urgent, f) for f in URGENT_FIELDS},
            "crisis_resources": current.crisis_resources, "invitation_days": current.invitation_days,
            "statement": statement.text, **{f: getattr(policy, f) for f in REMINDER_FIELDS}}


@login_required
@require_http_methods(["GET", "POST"])
def practice_settings_page(request: HttpRequest) -> HttpResponse:
    access.require_admin(request)
    if request.method == "POST" and (confirm := reauth_redirect(request)) is not None:
        return confirm
    org = request.organisation
    if request.method == "POST" and request.POST.get("action") == "schedule":
        return _default_schedule(request, org)
    current = practice_settings(org)
    statement = current_statement(org)
    policy = delivery.policy_for(org)
    urgent = notify.urgent_settings(org)
    form = PracticeSettingsForm(request.POST or None, initial=_initial(org, current, statement))
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
    return _page(request, form, statement, status=400 if form.is_bound else 200)


def _page(request: HttpRequest, form: PracticeSettingsForm, statement, *, schedule_rows=None,
          schedule_errors=(), status=200) -> HttpResponse:
    return render(request, "practice/settings.html", {
        "form": form, "statement": statement, "crisis": form["crisis_resources"].value(),
        "rows": schedule_rows or rules.rows(practice_settings(request.organisation).rules),
        "errors": schedule_errors, "may_edit": True, "known": instruments.instrument_ids(),
        "when_choices": rules.WHEN_CHOICES}, status=status)


def _default_schedule(request: HttpRequest, org) -> HttpResponse:
    """The check-in schedule a new episode starts from (its therapist adjusts it per episode)."""
    current = practice_settings(org)
    shown = rules.rows(current.rules)
    chosen, errors = rules.posted(request.POST, shown, instruments.instrument_ids())
    if not chosen and not errors:
        errors = [_("Choose at least one questionnaire: a practice's check-ins start from this.")]
    if errors:
        statement = current_statement(org)
        form = PracticeSettingsForm(initial=_initial(org, current, statement))
        return _page(request, form, statement, schedule_rows=shown, schedule_errors=errors, status=400)
    if chosen != current.rules:
        with transaction.atomic():
            current.default_rules = chosen
            current.save(update_fields=["default_rules"])
            record(request, "practice.settings.schedule_changed", current, organisation=org,
                   detail={"rules": chosen})
        messages.success(request, _("Check-in schedule saved. New episodes start from it."))
    else:
        messages.success(request, _("Nothing had changed."))
    return redirect(reverse("practice-settings") + "#schedule")
