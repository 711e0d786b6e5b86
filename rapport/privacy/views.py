"""Administrators carry out erasure requests and set the retention policy."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from rapport.accounts.twofactor import reauth_redirect
from rapport.audit.services import record
from rapport.care import access
from rapport.privacy.forms import EraseForm, RetentionForm
from rapport.privacy.models import Erasure
from rapport.privacy.services import erase_client, policy_for


@login_required
@require_http_methods(["GET", "POST"])
def erase(request: HttpRequest, code) -> HttpResponse:
    access.require_admin(request)
    client = access.get_client_for(request, code)
    if (confirm := reauth_redirect(request)) is not None:
        return confirm
    policy = policy_for(request.organisation)
    form = EraseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        erasure = erase_client(client, request=request, reason=form.cleaned_data["reason"])
        messages.success(request, _("The client's data has been erased (record %(code)s).") % {
            "code": erasure.code})
        return redirect("privacy-erasures")
    record(request, "privacy.erase_form.viewed", client, client=client)
    return render(request, "privacy/erase.html", {"client": client, "form": form, "policy": policy})


@login_required
def erasures(request: HttpRequest) -> HttpResponse:
    access.require_admin(request)
    rows = Erasure.objects.filter(organisation=request.organisation).select_related("by")
    record(request, "privacy.erasures.viewed", organisation=request.organisation)
    return render(request, "privacy/erasures.html", {"erasures": rows})


@login_required
@require_http_methods(["GET", "POST"])
def retention(request: HttpRequest) -> HttpResponse:
    access.require_admin(request)
    policy = policy_for(request.organisation)
    form = RetentionForm(request.POST or None, initial={
        "retain_days_after_last_episode": policy.retain_days_after_last_episode,
        "keep_deidentified_scores": policy.keep_deidentified_scores,
    })
    if request.method == "POST":
        if (confirm := reauth_redirect(request)) is not None:
            return confirm
        if form.is_valid():
            before = {"days": policy.retain_days_after_last_episode, "keep": policy.keep_deidentified_scores}
            policy.retain_days_after_last_episode = form.cleaned_data["retain_days_after_last_episode"]
            policy.keep_deidentified_scores = form.cleaned_data["keep_deidentified_scores"]
            policy.updated_at = timezone.now()
            policy.save()
            record(request, "privacy.retention.changed", organisation=request.organisation, detail={
                "from": before,
                "to": {"days": policy.retain_days_after_last_episode, "keep": policy.keep_deidentified_scores},
            })
            messages.success(request, _("Retention policy saved."))
            return redirect("privacy-retention")
    return render(request, "privacy/retention.html", {"form": form, "policy": policy})
