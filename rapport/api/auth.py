"""Token authentication around every API and FHIR view.

`token_view` wraps a view: it reads `Authorization: Bearer <token>`, refuses an unknown, expired
or revoked token (401) and a token over its rate (429), and otherwise lets the request act as the
token's staff member in the token's practice, inside that practice's scope, exactly as a page
would (`request.user`, `request.organisation`, `request.roles`), so the pages' access helpers
answer for the API too. A GET that succeeds gets an ETag from its body and answers
`If-None-Match` with 304. A request with no token reaches the view unauthenticated: the API's
documentation is public, everything else answers 401.
"""

from __future__ import annotations

import json
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_vary_headers, set_response_etag
from django.utils.translation import gettext as _
from django_scopes import scope
from ninja.security import HttpBearer

from rapport.accounts.roles import roles_in
from rapport.api import tokens
from rapport.api.models import ApiToken
from rapport.audit.services import record
from rapport.core.ratelimit import Limit, consume

FHIR_JSON = "application/fhir+json"


def rate_limit() -> Limit:
    per_minute = int(getattr(settings, "RAPPORT_API_REQUESTS_PER_MINUTE", 120))
    return Limit("api-token", per_minute, 60.0)


def error(request: HttpRequest, status: int, message: str, **headers: str) -> HttpResponse:
    """A JSON error: {"detail": ...} for the API, an OperationOutcome for FHIR."""
    if request.path.startswith("/fhir/"):
        body = {"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": _FHIR_CODES.get(status, "processing"), "diagnostics": message}]}
        response = HttpResponse(json.dumps(body), status=status, content_type=FHIR_JSON)
    else:
        response = JsonResponse({"detail": message}, status=status)
    for key, value in headers.items():
        response[key] = value
    return response


_FHIR_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 429: "throttled"}


def _bearer(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    kind, _sep, value = header.partition(" ")
    return value.strip() if kind.lower() == "bearer" and value.strip() else None


def _refuse(request: HttpRequest, token: ApiToken | None) -> HttpResponse:
    if token is not None:  # a real token that no longer works: worth a line in the trail
        with scope(organisation=[token.organisation]):
            record(request, "api.token.refused", token, organisation=token.organisation,
                   actor_label=f"token:{token.prefix}",
                   detail={"revoked": token.revoked_at is not None, "path": request.path[:200]})
    return error(request, 401, _("The API token is unknown, expired or revoked."),
                 **{"WWW-Authenticate": 'Bearer realm="rapport"'})


def _with_etag(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    patch_vary_headers(response, ["Authorization"])
    response["Cache-Control"] = "private, no-cache"
    if request.method != "GET" or response.status_code != 200 or response.streaming:
        return response
    set_response_etag(response)
    return get_conditional_response(request, etag=response["ETag"], response=response)


def token_view(view):
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        request.api_token = None
        raw = _bearer(request)
        if raw is None:
            return view(request, *args, **kwargs)
        token = tokens.find(raw)
        if token is None or not token.is_usable() or not token.user.is_active:
            return _refuse(request, token)
        if not consume(rate_limit(), str(token.pk)):
            return error(request, 429, _("Too many requests with this token; try again in a minute."),
                         **{"Retry-After": "60"})
        request.user = token.user
        request.organisation = token.organisation
        request.roles = roles_in(token.user, token.organisation)
        request.api_token = token
        with scope(organisation=[token.organisation]):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
            response = view(request, *args, **kwargs)
        return _with_etag(request, response)

    wrapped.csrf_exempt = True  # no cookie authenticates these requests
    return wrapped


class TokenAuth(HttpBearer):
    """For the OpenAPI document and ninja's 401: the token was checked by `token_view`."""

    def authenticate(self, request, token):
        return getattr(request, "api_token", None)


def need(request: HttpRequest, wanted: str) -> None:
    """403 unless the request's token has the scope (e.g. "clients:read")."""
    from ninja.errors import HttpError

    token: ApiToken | None = getattr(request, "api_token", None)
    if token is None or not token.allows(wanted):
        raise HttpError(403, _("This token does not have the %(scope)s scope.") % {"scope": wanted})
