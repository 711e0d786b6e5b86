"""Shared session summaries, next steps and homework in the client portal (never a private note)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from rapport.audit.services import record
from rapport.notes import services
from rapport.notes.models import ClosingSummary
from rapport.portal.services import client_required


@client_required
@require_http_methods(["GET"])
def summaries(request: HttpRequest) -> HttpResponse:
    client = request.portal_client
    closing = list(ClosingSummary.objects.filter(episode__client=client)
                   .select_related("episode__therapist").order_by("-created_at"))
    if closing:
        record(request, "notes.closing_summary.viewed_by_client", client, client=client,
               detail={"summaries": len(closing)})
    return render(request, "notes/portal_summaries.html", {
        "client": client, "records": services.shared_records_for_client(client, request),
        "closing": closing,
    })


@client_required
@require_POST
def tick(request: HttpRequest, code) -> HttpResponse:
    done = request.POST.get("done") == "1"
    services.tick_homework(request.portal_client, code, done, request=request)
    messages.success(request, _("Marked as done.") if done else _("Marked as not done yet."))
    return redirect("portal-summaries")
