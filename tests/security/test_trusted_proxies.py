"""The client's address behind a reverse proxy: believed only from RAPPORT_TRUSTED_PROXIES.

The end-to-end tests here run a reverse proxy (tests/security/reverse_proxy.py, as nginx with
`proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for` behaves) on loopback in front of
the live test server (test_proxy_process.py runs it as a process of its own in front of
`rapport serve`); clients connect to it from different loopback addresses (127.0.0.2,
127.0.0.3), so each has its own real address and the proxy is the only peer the app sees.
"""

from __future__ import annotations

import http.client
import re
import urllib.parse

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from django_scopes import scopes_disabled

from rapport.audit.models import AuditEvent
from rapport.core.proxies import client_ip, parse_networks
from rapport.portal import services
from tests.security.reverse_proxy import serve_in_thread


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "expected"),
    [
        ("", "198.51.100.9", "203.0.113.5", "198.51.100.9"),  # no proxies trusted: header ignored
        ("10.0.0.0/8", "198.51.100.9", "203.0.113.5", "198.51.100.9"),  # peer is not a proxy
        ("10.0.0.0/8", "10.1.2.3", "203.0.113.5", "203.0.113.5"),
        ("10.0.0.0/8", "10.1.2.3", "192.0.2.66, 203.0.113.5", "203.0.113.5"),  # spoofed left part
        ("10.0.0.0/8", "10.1.2.3", "203.0.113.5, 10.9.9.9", "203.0.113.5"),  # two proxies
        ("10.0.0.0/8", "10.1.2.3", "", "10.1.2.3"),
        ("10.0.0.0/8", "10.1.2.3", "not-an-address", "10.1.2.3"),
        ("10.0.0.0/8,2001:db8::/32", "2001:db8::1", "[2001:db8:1::5]:443, 2001:db9::7", "2001:db9::7"),
        ("127.0.0.1", "127.0.0.1", "198.51.100.20:5555", "198.51.100.20"),
    ],
)
def test_client_ip_believes_the_header_only_from_trusted_proxies(settings, trusted, remote,
                                                                 forwarded, expected):
    settings.TRUSTED_PROXIES = parse_networks(trusted)
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_a_malformed_proxy_list_is_refused_with_the_bad_entry_named():
    with pytest.raises(ImproperlyConfigured, match="'10.0.0.300'"):
        parse_networks("127.0.0.1, 10.0.0.300")


@pytest.fixture
def proxy(live_server):
    backend = urllib.parse.urlsplit(live_server.url)
    server = serve_in_thread((backend.hostname, backend.port))
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _ask_for_portal_link(port: int, source: str, email: str, forged: str | None = None) -> int:
    """GET the form and POST it, as a browser at `source` would; returns the POST's status."""
    def connect():
        return http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))

    conn = connect()
    conn.request("GET", "/portal/login/")
    page = conn.getresponse()
    html = page.read().decode()
    cookie = page.getheader("Set-Cookie").split(";")[0]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    conn.close()
    conn = connect()
    headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded",
               "Referer": f"http://127.0.0.1:{port}/portal/login/"}
    if forged:
        headers["X-Forwarded-For"] = forged
    conn.request("POST", "/portal/login/", urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "email": email}), headers)
    status = conn.getresponse().status
    conn.close()
    return status


def _last_ip(client) -> str:
    with scopes_disabled():
        return str(AuditEvent.objects.filter(action="portal.login_link.sent", client_code=client.code)
                   .latest("id").ip_address)


@pytest.mark.django_db(transaction=True)
def test_behind_a_real_proxy_each_client_has_its_own_limit_and_audit_address(settings, proxy):
    from tests.conftest import make_practice

    settings.TRUSTED_PROXIES = parse_networks("127.0.0.1")
    practice = make_practice("Riverside")
    with scopes_disabled():
        practice.client.email = "client@riverside.test"
        practice.client.save()
    for n in range(services.IP_LIMIT.capacity):
        assert _ask_for_portal_link(proxy, "127.0.0.2", f"flood{n}@y.test") == 200
    assert _ask_for_portal_link(proxy, "127.0.0.2", "client@riverside.test") == 429
    # Another client behind the same proxy keeps their own limit, and the trail names them.
    assert _ask_for_portal_link(proxy, "127.0.0.3", "client@riverside.test") == 200
    assert _last_ip(practice.client) == "127.0.0.3"
    # A client cannot pose as another by sending the header itself: the proxy appends the real
    # peer, and only the proxy's own hop is believed.
    assert _ask_for_portal_link(proxy, "127.0.0.4", "client@riverside.test", forged="127.0.0.3") == 200
    assert _last_ip(practice.client) == "127.0.0.4"


@pytest.mark.django_db(transaction=True)
def test_without_trusted_proxies_the_header_is_ignored(settings, live_server):
    from tests.conftest import make_practice

    settings.TRUSTED_PROXIES = []
    practice = make_practice("Riverside")
    with scopes_disabled():
        practice.client.email = "client@riverside.test"
        practice.client.save()
    port = urllib.parse.urlsplit(live_server.url).port
    assert _ask_for_portal_link(port, "127.0.0.5", "client@riverside.test", forged="192.0.2.1") == 200
    assert _last_ip(practice.client) == "127.0.0.5"
