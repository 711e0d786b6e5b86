"""The client's address behind trusted reverse proxies (RAPPORT_TRUSTED_PROXIES).

`X-Forwarded-For` is written by whoever sent the request, so it is believed only as far as the
proxies we trust: starting from the peer (REMOTE_ADDR) and walking the header from right to
left, every address that belongs to a trusted proxy is skipped; the first one that does not is
the client. With no trusted proxies (the default) the header is ignored and the peer is the
client. Rate-limit keys and the audit trail's IP column both come from here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(raw: str, *, name: str = "RAPPORT_TRUSTED_PROXIES") -> list[Network]:
    """Comma-separated addresses or CIDRs; a clear error naming the bad entry."""
    networks = []
    for entry in (part.strip() for part in raw.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {entry!r} is not an IP address or network (e.g. 10.0.0.0/8)"
            ) from None
    return networks


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # "192.0.2.1:443"
        value = value.split(":")[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _trusted(address, networks: Iterable[Network]) -> bool:
    return any(address in network for network in networks)


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    peer = _address(request.META.get("REMOTE_ADDR") or "")
    if peer is None:
        return None
    networks = settings.TRUSTED_PROXIES
    if not _trusted(peer, networks):
        return str(peer)
    hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            # A proxy we trust wrote something that is not an address: believe nothing further.
            return str(peer)
        if not _trusted(address, networks):
            return str(address)
        peer = address
    return str(peer)
