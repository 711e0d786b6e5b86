"""Portal login by emailed link, the rate limit on asking for one, and the portal's client session.

A client is not a staff user: the portal keeps a signed client code in the session under its
own key, apart from Django's staff authentication, and opens the client's organisation scope
for each portal request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from functools import wraps

from django.core import signing
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_scopes import scope, scopes_disabled

from rapport.audit.services import client_ip, record
from rapport.care import search
from rapport.care.models import Client
from rapport.core import i18n
from rapport.core.models import TokenBucket
from rapport.core.ratelimit import Limit, available, consume
from rapport.core.tasks import queue_email
from rapport.portal.models import LoginLink

LOGIN_SALT = "rapport.portal.login"
SESSION_SALT = "rapport.portal.client"
SESSION_KEY = "rapport_portal_client"
LINK_AGE = timedelta(minutes=30)
INVITE_AGE = timedelta(days=7)  # an invitation from the practice, read when the client gets to it
SESSION_AGE = timedelta(hours=2)
# Asking for a login link (rapport.core.ratelimit token buckets): 5 per address and 20 per IP
# address, each refilling over an hour. Only the link-sending requests count.
EMAIL_LIMIT = Limit("portal-login-email", capacity=5, period=60 * 60)
IP_LIMIT = Limit("portal-login-ip", capacity=20, period=60 * 60)


def normalise(email: str) -> str:
    return email.strip().lower()


def allow(email: str, ip: str) -> bool:
    """Count one request for a login link; False (nothing counted) when a limit is reached."""
    email = normalise(email)
    if not (available(IP_LIMIT, ip) and available(EMAIL_LIMIT, email)):
        return False
    return consume(IP_LIMIT, ip) and consume(EMAIL_LIMIT, email)


def forget_login_limits(email: str) -> int:
    """Delete the rate-limit bucket of this address (erasure: it would outlive the address)."""
    return TokenBucket.objects.filter(key=EMAIL_LIMIT.key(normalise(email))).delete()[0]


def request_login(request: HttpRequest, email: str) -> bool:
    """Email a login link to each client with this address. Returns False only when rate-limited.

    The caller answers the same whether or not the address is known.
    """
    email = normalise(email)
    if not allow(email, client_ip(request) or "unknown"):
        return False
    with scopes_disabled():
        clients = list(search.with_email(Client.objects.all(), email).select_related("organisation"))
    for client in clients:
        with scope(organisation=[client.organisation]):
            send_link(request, client, age=LINK_AGE)
    return True


def send_link(request: HttpRequest, client: Client, *, age: timedelta, invitation: bool = False) -> None:
    """Email the client a single-use link into their portal, valid for `age`, and audit it.
    The email speaks the client's language; `invitation` words it as the practice's welcome."""
    token = signing.TimestampSigner(salt=LOGIN_SALT).sign(secrets.token_urlsafe(18))
    with transaction.atomic():
        LoginLink.objects.create(
            organisation=client.organisation, client=client,
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            expires_at=timezone.now() + age,
        )
        record(request, "portal.login_link.sent", client, client=client,
               actor_label=f"client:{client.code}" if age == LINK_AGE else None,
               detail={"valid_hours": round(age.total_seconds() / 3600, 1)})
    url = request.build_absolute_uri(reverse("portal-login-link", args=[token]))
    practice = client.organisation.name
    with i18n.speaking(client.language, client.time_zone):
        if invitation:
            subject = _("welcome: your portal")
            lead = _("%(practice)s invites you to your portal, where you can tell us how to reach "
                     "you, which times suit you and what you hope for:") % {"practice": practice}
        else:
            subject = _("your login link")
            lead = _("Use this link to open your portal at %(practice)s:") % {"practice": practice}
        valid = (ngettext("%(count)d day", "%(count)d days", age.days) % {"count": age.days}
                 if age.days else
                 ngettext("%(count)d minute", "%(count)d minutes", age.seconds // 60)
                 % {"count": age.seconds // 60})
        body = _("Hello %(name)s,\n\n%(lead)s\n\n%(url)s\n\nIt works once, for %(valid)s. "
                 "If you did not expect it, you can ignore this email.\n") % {
            "name": client.display_name, "lead": lead, "url": url, "valid": valid}
    queue_email(f"{practice}: {subject}", body, [client.email])


def invite(request: HttpRequest, client: Client) -> None:
    """The practice invites the client into the portal to complete their intake."""
    send_link(request, client, age=INVITE_AGE, invitation=True)


def resolve_login(token: str) -> tuple[str, LoginLink | None]:
    """(status, link): status is ok, expired, used or invalid."""
    try:
        # The longest a link can live; each link's own expiry is checked below.
        signing.TimestampSigner(salt=LOGIN_SALT).unsign(token, max_age=INVITE_AGE.total_seconds())
    except signing.SignatureExpired:
        return "expired", None
    except signing.BadSignature:
        return "invalid", None
    with scopes_disabled():
        link = (LoginLink.objects.select_related("client", "organisation")
                .filter(token_hash=hashlib.sha256(token.encode()).hexdigest()).first())
    if link is None:
        return "invalid", None
    if link.used_at is not None:
        return "used", link
    if link.expires_at <= timezone.now():
        return "expired", link
    return "ok", link


def log_in(request: HttpRequest, link: LoginLink) -> bool:
    """Use the link (once) and start the portal session for its client."""
    with scope(organisation=[link.organisation]), transaction.atomic():
        used = LoginLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=timezone.now())
        if not used:
            return False
        record(request, "portal.login", link.client, client=link.client,
               actor_label=f"client:{link.client.code}")
    request.session.cycle_key()
    request.session[SESSION_KEY] = signing.dumps({"c": str(link.client.code)}, salt=SESSION_SALT)
    return True


def log_out(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()


def portal_client(request: HttpRequest) -> Client | None:
    raw = request.session.get(SESSION_KEY)
    if not raw:
        return None
    try:
        data = signing.loads(raw, salt=SESSION_SALT, max_age=SESSION_AGE.total_seconds())
    except signing.BadSignature:
        return None
    with scopes_disabled():
        return Client.objects.select_related("organisation").filter(code=data["c"]).first()


def client_required(view):
    """Portal views get `request.portal_client` and run inside its organisation's scope."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        client = portal_client(request)
        if client is None:
            request.session.pop(SESSION_KEY, None)
            return redirect("portal-login")
        request.portal_client = client
        # Every portal page in the client's language and time zone.
        i18n.activate_for_client(request, client.language, client.time_zone)
        with scope(organisation=[client.organisation]):
            return view(request, *args, **kwargs)

    return wrapper
