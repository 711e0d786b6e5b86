"""The audit trail, for a practice's administrators: search it, and export what was found."""

from __future__ import annotations

import csv
from datetime import datetime, time, timedelta

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext

from rapport.accounts.twofactor import reauth_redirect
from rapport.audit.forms import AuditFilterForm
from rapport.audit.models import AuditEvent
from rapport.audit.services import record
from rapport.care import access, search
from rapport.care.models import Client


def _filtered(request: HttpRequest):
    clients = search.by_name(Client.objects.all())
    form = AuditFilterForm(request.GET or None, clients=clients)
    events = AuditEvent.objects.filter(organisation=request.organisation).select_related("actor")
    filters = {}
    if form.is_valid():
        data = form.cleaned_data
        tz = timezone.get_current_timezone()
        if data["client"]:
            events = events.filter(client_code=data["client"])
        if data["user"]:
            events = events.filter(actor__email__icontains=data["user"])
        if data["action"]:
            events = events.filter(action__startswith=data["action"])
        if data["date_from"]:
            events = events.filter(at__gte=datetime.combine(data["date_from"], time.min, tzinfo=tz))
        if data["date_to"]:
            end = datetime.combine(data["date_to"] + timedelta(days=1), time.min, tzinfo=tz)
            events = events.filter(at__lt=end)
        filters = {k: str(v) for k, v in data.items() if v}
    elif form.is_bound:
        events = events.none()
    names = {str(c.code): c.name for c in clients}
    return form, events, filters, names


def _who(event: AuditEvent, names: dict[str, str]) -> str:
    """The actor in words (in the reader's language): a staff member's name, the client's name
    (for the administrators who read the trail), Rapport itself, the command line, or someone
    not logged in."""
    label = event.actor_label or ""
    if event.actor is not None:
        return f"{event.actor.name} ({event.actor.email})"
    if label.startswith("client:"):
        name = names.get(label.removeprefix("client:"))
        return gettext("%(name)s (client)") % {"name": name} if name else gettext("An erased client")
    words = {"system": gettext("Rapport (automatic)"), "anonymous": gettext("Someone not logged in"),
             "cli": gettext("The command line on the server")}
    return words.get(label) or label.removeprefix("user:")


@login_required
def trail(request: HttpRequest) -> HttpResponse:
    access.require_admin(request)
    form, events, filters, names = _filtered(request)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    for event in page:
        # An erased client's events keep their code but no longer resolve to a name.
        code = str(event.client_code or "")
        event.client_label = names.get(code) or (
            gettext("An erased client (#%(code)s)") % {"code": code[:8]} if code else "")
        event.who = _who(event, names)
    record(request, "audit.trail.viewed", organisation=request.organisation, detail={"filters": filters})
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "audit/trail.html", {"form": form, "page": page, "query": query.urlencode()})


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV Injection"):
# such cells get a leading apostrophe, which spreadsheets show as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_START) else value


class _Echo:
    def write(self, value):
        return value


@login_required
def export(request: HttpRequest) -> HttpResponse:
    access.require_admin(request)
    if (confirm := reauth_redirect(request)) is not None:
        return confirm
    form, events, filters, names = _filtered(request)
    record(request, "audit.trail.exported", organisation=request.organisation, detail={"filters": filters})
    writer = csv.writer(_Echo())
    rows = (
        [e.at.isoformat(), e.actor_label, e.action, e.object_type, e.object_code,
         str(e.client_code or ""), names.get(str(e.client_code), ""), e.ip_address or ""]
        for e in events.iterator(chunk_size=1000)
    )
    header = ["at", "actor", "action", "object_type", "object_code", "client_code", "client", "ip_address"]
    response = StreamingHttpResponse(
        (writer.writerow([_cell(v) for v in row]) for row in _chain(header, rows)),
        content_type="text/csv",
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    return response


def _chain(first, rest):
    yield first
    yield from rest
