"""The practice's webhooks (administrators): subscribe an address, see its delivery log, change
its events, rotate its secret (shown once), remove it. One view per POST action."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from rapport.accounts.twofactor import reauth_redirect
from rapport.audit.services import record
from rapport.care import access
from rapport.webhooks import events
from rapport.webhooks.forms import EndpointForm
from rapport.webhooks.models import Endpoint
from rapport.webhooks.services import create_endpoint, rotate_secret

SHOWN_ONCE = "webhooks.new_secret"  # session: {endpoint code: secret}, shown on the next GET
LOG_LENGTH = 50


def _admin(request: HttpRequest) -> HttpResponse | None:
    access.require_admin(request)
    return reauth_redirect(request) if request.method == "POST" else None


def _own(request: HttpRequest, code) -> Endpoint:
    return get_object_or_404(Endpoint, code=code, organisation=request.organisation)


def _own_for_post(request: HttpRequest, code) -> tuple[Endpoint, HttpResponse | None]:
    """The practice's endpoint (404 for anyone else) and, if identity must be confirmed first,
    the redirect to do so."""
    access.require_admin(request)
    item = _own(request, code)
    return item, reauth_redirect(request)


def _show_once(request: HttpRequest, endpoint: Endpoint, secret: str) -> None:
    request.session[SHOWN_ONCE] = {str(endpoint.code): secret}


@login_required
@require_http_methods(["GET", "POST"])
def endpoints(request: HttpRequest) -> HttpResponse:
    if (confirm := _admin(request)) is not None:
        return confirm
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        endpoint, secret = create_endpoint(request.organisation, url=form.cleaned_data["url"],
                                           events=form.cleaned_data["events"], request=request)
        if not form.cleaned_data["active"]:
            endpoint.active = False
            endpoint.save(update_fields=["active"])
        _show_once(request, endpoint, secret)
        return redirect("webhooks-endpoint", endpoint.code)
    rows = [(row, [events.EVENTS.get(e, e) for e in row.events])
            for row in Endpoint.objects.filter(organisation=request.organisation)]
    return render(request, "webhooks/list.html", {"form": form, "rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def endpoint(request: HttpRequest, code) -> HttpResponse:
    item, confirm = _own_for_post(request, code)
    if request.method == "POST" and confirm is not None:
        return confirm
    form = EndpointForm(request.POST or None, initial={
        "url": item.url, "events": item.events, "active": item.active})
    if request.method == "POST" and form.is_valid():
        changed = [f for f in ("url", "events", "active") if getattr(item, f) != form.cleaned_data[f]]
        if changed:
            for f in changed:
                setattr(item, f, form.cleaned_data[f])
            item.save(update_fields=changed)
            record(request, "webhooks.endpoint.changed", item, organisation=item.organisation,
                   detail={"changed": changed})
        messages.success(request, _("Saved.") if changed else _("Nothing had changed."))
        return redirect("webhooks-endpoint", item.code)
    secret = None
    if request.method == "GET":
        secret = request.session.pop(SHOWN_ONCE, {}).get(str(item.code))
    return render(request, "webhooks/endpoint.html", {
        "item": item, "form": form, "secret": secret, "now": timezone.now(),
        "deliveries": [(d, events.EVENTS.get(d.event, d.event))
                       for d in item.deliveries.all()[:LOG_LENGTH]]})


@login_required
@require_POST
def rotate(request: HttpRequest, code) -> HttpResponse:
    item, confirm = _own_for_post(request, code)
    if confirm is not None:
        return confirm
    keep_old = request.POST.get("keep_old") == "on"
    _show_once(request, item, rotate_secret(item, request, keep_old=keep_old))
    return redirect("webhooks-endpoint", item.code)


@login_required
@require_POST
def delete(request: HttpRequest, code) -> HttpResponse:
    item, confirm = _own_for_post(request, code)
    if confirm is not None:
        return confirm
    record(request, "webhooks.endpoint.deleted", item, organisation=item.organisation,
           detail={"events": item.events})
    item.delete()
    messages.success(request, _("The address was removed; it gets no more events."))
    return redirect("webhooks-list")
