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
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from rapport.audit.services import client_ip, record
from rapport.care.models import Client
from rapport.core.models import TokenBucket
from rapport.core.ratelimit import Limit, available, consume
from rapport.portal.models import LoginLink

LOGIN_SALT = "rapport.portal.login"
SESSION_SALT = "rapport.portal.client"
SESSION_KEY = "rapport_portal_client"
LINK_AGE = timedelta(minutes=30)
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


def request_login(request: HttpRequest, email: str) -> list[EmailMessage] | None:
    """The login-link emails for each client with this address (none for an unknown one), or
    None when rate-limited. The caller answers the same whether or not the address is known,
    and sends the messages with `send_after_response`.
    """
    email = normalise(email)
    if not allow(email, client_ip(request) or "unknown"):
        return None
    with scopes_disabled():
        clients = list(Client.objects.filter(email__iexact=email).select_related("organisation"))
    messages = []
    for client in clients:
        with scope(organisation=[client.organisation]):
            token = signing.TimestampSigner(salt=LOGIN_SALT).sign(secrets.token_urlsafe(18))
            with transaction.atomic():
                LoginLink.objects.create(
                    organisation=client.organisation, client=client,
                    token_hash=hashlib.sha256(token.encode()).hexdigest(),
                    expires_at=timezone.now() + LINK_AGE,
                )
                record(request, "portal.login_link.sent", client, client=client,
                       actor_label=f"client:{client.code}")
            url = request.build_absolute_uri(reverse("portal-login-link", args=[token]))
            messages.append(EmailMessage(
                subject=f"{client.organisation.name}: your login link",
                body=(
                    f"Hello {client.display_name},\n\nUse this link to open your portal at "
                    f"{client.organisation.name}:\n\n{url}\n\nIt works once, for 30 minutes. "
                    "If you did not ask for it, you can ignore this email.\n"
                ),
                to=[client.email],
            ))
    return messages


def send_after_response(response: HttpResponse, messages: list[EmailMessage]) -> HttpResponse:
    """Send once the response has gone out, for known and unknown addresses alike.

    Talking to an SMTP server takes long enough to tell a known address from an unknown one by
    the reply's timing; the WSGI server closes the response (and so sends) only after the reply
    is written, on the same path whether or not there is anything to send.
    """
    def deliver():
        if messages:
            get_connection().send_messages(messages)

    response._resource_closers.append(deliver)
    return response


def resolve_login(token: str) -> tuple[str, LoginLink | None]:
    """(status, link): status is ok, expired, used or invalid."""
    try:
        signing.TimestampSigner(salt=LOGIN_SALT).unsign(token, max_age=LINK_AGE.total_seconds())
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
        with scope(organisation=[client.organisation]):
            return view(request, *args, **kwargs)

    return wrapper
