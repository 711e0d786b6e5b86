from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness for a load balancer: 200 when the database answers, else 503.

    Also reports the background work (counts only, nothing about anyone): whether the broker
    answers and how long its oldest queued task has waited, and how many tasks failed for good
    (`rapport manage failed_tasks`). A broker that is down does not make the site unready: answers are still stored, and the
    work they cause is caught up when it is back.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not ready"
        return JsonResponse(
            {"status": "error", "database": "error", "error": f"database: {type(exc).__name__}"},
            status=503,
        )
    from rapport.core import broker
    from rapport.core.models import TaskFailure

    queue = broker.status()
    return JsonResponse({
        "status": "ok" if queue["broker"] != "error" else "degraded",
        "database": "ok",
        **queue,
        "failed_tasks": TaskFailure.objects.filter(requeued_at__isnull=True).count(),
    })


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("care-caseload")
    return redirect("accounts-login")


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page says: send them to the icon, so no page
    load ends in a 404 (in demo mode, Django's debug page listing every URL pattern)."""
    return HttpResponsePermanentRedirect(static("rapport/favicon.svg"))
