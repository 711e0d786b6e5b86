"""Sending one webhook: http(s) only, a timeout, no redirects followed, and (unless the setting
RAPPORT_WEBHOOKS_ALLOW_PRIVATE allows it) never to a private, loopback, link-local or other
non-public address.

The address is checked on the connected socket itself, after the name was resolved and before a
byte of the request is sent, so a name that resolves to a public address when subscribed and to
an internal one later (DNS rebinding) is refused too.
"""

from __future__ import annotations

import http.client
import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class Refused(ValueError):
    """A URL we will not send to; the message says why."""


def _private_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE", False))


def _check_address(address: str) -> None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    if not ip.is_global or ip.is_multicast:
        if not _private_allowed():
            raise Refused(_("That address is on a private or local network."))


def check_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path with query) of a URL we may send to; Refused otherwise.

    Only literal addresses and "localhost" are checked here (no name lookup); a name is checked
    again on every connection.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise Refused(_("Only http and https addresses can receive webhooks."))
    if not parts.hostname or parts.username or parts.password:
        raise Refused(_("Give an address with a host name and no user name or password."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused(_("The port of that address is not a number from 1 to 65535.")) from None
    host = parts.hostname
    if host == "localhost" or host.endswith(".localhost"):
        _check_address("127.0.0.1")
    else:
        try:
            _check_address(host)
        except ValueError as e:
            if isinstance(e, Refused):
                raise
    return parts.scheme, host, port, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


class _Guarded:
    def connect(self) -> None:
        super().connect()
        try:
            _check_address(self.sock.getpeername()[0])
        except Refused:
            self.close()
            raise


class _HTTP(_Guarded, http.client.HTTPConnection):
    pass


class _HTTPS(_Guarded, http.client.HTTPSConnection):
    pass


@dataclass
class Outcome:
    status: int | None  # the HTTP status, None when no answer came
    error: str  # "" when delivered; else a short reason of our own (never the receiver's body)

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(url: str, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST `body` to `url`; Refused for an address we will not send to."""
    scheme, host, port, path = check_url(url)
    cls = _HTTPS if scheme == "https" else _HTTP
    conn = cls(host, port, timeout=settings.WEBHOOKS_TIMEOUT)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read(65536)  # a little of the answer, unread and discarded
        status = response.status
    except TimeoutError:
        return Outcome(None, _("No answer within %(s)s seconds.") % {"s": settings.WEBHOOKS_TIMEOUT})
    except OSError as e:
        return Outcome(None, _("Could not connect: %(error)s") % {"error": type(e).__name__})
    except http.client.HTTPException as e:
        return Outcome(None, _("Not a valid HTTP answer: %(error)s") % {"error": type(e).__name__})
    finally:
        conn.close()
    if 200 <= status < 300:
        return Outcome(status, "")
    if 300 <= status < 400:
        return Outcome(status, _("Answered with a redirect (HTTP %(status)s), which is not followed.")
                       % {"status": status})
    return Outcome(status, _("Answered HTTP %(status)s.") % {"status": status})
