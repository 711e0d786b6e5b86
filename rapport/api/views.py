"""The administrators' page for the practice's API tokens: list, create (shown once), revoke."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from rapport.accounts.models import User
from rapport.accounts.twofactor import reauth_redirect
from rapport.api import tokens
from rapport.api.forms import NewTokenForm, scope_label
from rapport.api.models import ApiToken
from rapport.audit.services import record
from rapport.care import access


def _members(request: HttpRequest):
    return (User.objects.filter(memberships__organisation=request.organisation, is_active=True)
            .distinct().order_by("name"))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    access.require_admin(request)
    form = NewTokenForm(request.POST or None, members=_members(request))
    if request.method == "POST":
        if (confirm := reauth_redirect(request)) is not None:
            return confirm
        if form.is_valid():
            data = form.cleaned_data
            try:
                new = tokens.create_token(request, name=data["name"], user=data["user"],
                                          scopes=data["scopes"], days=data["days"])
            except tokens.TokenError as exc:
                form.add_error(None, str(exc))
            else:
                return render(request, "api/token_created.html", {"token": new.token, "raw": new.raw,
                              "scopes": [scope_label(s) for s in new.token.scopes]}, status=201)
    rows = [(t, [scope_label(s) for s in t.scopes]) for t in ApiToken.objects.select_related("user")]
    record(request, "api.tokens.viewed", organisation=request.organisation)
    return render(request, "api/tokens.html", {"rows": rows, "form": form})


@login_required
@require_POST
def revoke(request: HttpRequest, code) -> HttpResponse:
    access.require_admin(request)
    try:
        token = ApiToken.objects.get(code=access.parse_code(code))
    except ApiToken.DoesNotExist as exc:
        raise Http404("No such token") from exc
    if (confirm := reauth_redirect(request)) is not None:
        return confirm
    tokens.revoke_token(request, token)
    messages.success(request, _("The token %(name)s no longer works.") % {"name": token.name})
    return redirect("api-tokens")
