"""Creating, finding and revoking API tokens.

A token is `rpt_<prefix>_<secret>`: the prefix names it in lists and the audit trail, and only
the SHA-256 of the whole token is stored (the secret has 256 bits of randomness, so a fast hash
is enough; a slow one would only slow every request). The administrator sees the token once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_scopes import scopes_disabled

from rapport.accounts.models import Membership
from rapport.api.models import SCOPES, ApiToken
from rapport.audit.services import record

MAX_DAYS = 366


class TokenError(ValueError):
    """A token that cannot be created as asked (the message says why)."""


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass
class NewToken:
    token: ApiToken
    raw: str  # shown once, never stored


def create_token(request: HttpRequest, *, name: str, user, scopes: list[str], days: int) -> NewToken:
    """A new token of the request's practice acting as `user` (a member of it)."""
    organisation = request.organisation
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise TokenError(f"Unknown scopes: {', '.join(unknown)}.")
    if not scopes:
        raise TokenError("Choose at least one scope.")
    if not 1 <= days <= MAX_DAYS:
        raise TokenError(f"A token lasts from 1 to {MAX_DAYS} days.")
    if not Membership.objects.filter(organisation=organisation, user=user, user__is_active=True).exists():
        raise TokenError("A token acts as an active member of this practice.")
    prefix = secrets.token_hex(4)
    raw = f"rpt_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            organisation=organisation, name=name.strip()[:100] or "API token", user=user,
            created_by=request.user, prefix=prefix, digest=digest(raw),
            scopes=[s for s in SCOPES if s in scopes],
            expires_at=timezone.now() + timedelta(days=days),
        )
        record(request, "api.token.created", token, organisation=organisation,
               detail={"prefix": prefix, "scopes": token.scopes, "acts_as": user.email, "days": days})
    return NewToken(token, raw)


def revoke_token(request: HttpRequest, token: ApiToken) -> None:
    if token.revoked_at is not None:
        return
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(request, "api.token.revoked", token, organisation=token.organisation,
               detail={"prefix": token.prefix})


def find(raw: str) -> ApiToken | None:
    """The token with this value, whatever its state (no scope is open yet), or None."""
    if not raw.startswith("rpt_") or len(raw) > 200:
        return None
    with scopes_disabled():
        return (ApiToken.objects.select_related("organisation", "user")
                .filter(digest=digest(raw)).first())
