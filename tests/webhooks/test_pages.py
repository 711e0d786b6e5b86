"""The administrator's webhook pages: subscribe, the secret shown once, rotate, the log, remove."""

from __future__ import annotations

import re

from django.urls import reverse
from django_scopes import scope, scopes_disabled

from rapport.alerts.services import raise_alert
from rapport.audit.models import AuditEvent
from rapport.webhooks.models import Delivery, Endpoint

SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]+")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _admin(client, practice):
    client.force_login(practice.admin)
    client.reauthenticate()
    return client


def _text(response) -> str:
    return re.sub(r"<[^>]+>", " ", response.content.decode())


def test_subscribe_shows_the_secret_once_and_logs_deliveries(client, practice,
                                                             django_capture_on_commit_callbacks):
    _admin(client, practice)
    response = client.post(reverse("webhooks-list"), {
        "url": "https://example.org/hooks", "events": ["alert.raised", "checkin.missed"],
        "active": "on"})
    assert response.status_code == 302
    with scopes_disabled():
        endpoint = Endpoint.objects.get(organisation=practice.org)
    assert endpoint.events == ["alert.raised", "checkin.missed"] and endpoint.active
    page = client.get(response["Location"])
    [shown] = SECRET.findall(page.content.decode())
    assert shown == endpoint.secret
    assert SECRET.findall(client.get(response["Location"]).content.decode()) == []  # once only
    with scopes_disabled():
        assert AuditEvent.objects.filter(action="webhooks.endpoint.created",
                                         actor=practice.admin).count() == 1

    with scope(organisation=practice.org):
        Endpoint.objects.filter(pk=endpoint.pk).update(active=False)  # nothing leaves the test
        raise_alert(episode=practice.episode, kind="rupture", severity="warning",
                    key="rupture:relationship-checkin:1", evidence={"score": 40})
        Endpoint.objects.filter(pk=endpoint.pk).update(active=True)
        Delivery.objects.create(organisation=practice.org, endpoint=endpoint, message_id="msg_1",
                                event="alert.raised", payload={}, status="retrying", attempts=3,
                                last_status_code=500, last_error="Answered HTTP 500.")
    page = client.get(response["Location"])
    text = _text(page)
    assert "Failed, will try again" in text and "Answered HTTP 500." in text
    assert UUID.findall(text) == []


def test_rotating_shows_the_new_secret_once(client, practice):
    _admin(client, practice)
    client.post(reverse("webhooks-list"), {"url": "https://example.org/h", "events": "alert.raised"})
    with scopes_disabled():
        endpoint = Endpoint.objects.get(organisation=practice.org)
    old = endpoint.secret
    client.get(reverse("webhooks-endpoint", args=[endpoint.code]))  # the first secret, seen
    response = client.post(reverse("webhooks-rotate", args=[endpoint.code]), {"keep_old": "on"})
    page = client.get(response["Location"])
    [shown] = SECRET.findall(page.content.decode())
    endpoint.refresh_from_db()
    assert shown == endpoint.secret != old and endpoint.previous_secret == old
    assert "signed with the previous secret too until" in _text(page)
    client.post(reverse("webhooks-rotate", args=[endpoint.code]))  # leaked: the old stops now
    endpoint.refresh_from_db()
    assert endpoint.previous_secret == "" and endpoint.previous_secret_until is None


def test_bad_addresses_are_refused_with_a_reason_and_nothing_stored(client, practice, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    _admin(client, practice)
    for url, reason in (("ftp://example.org/x", "Only http and https"), ("not a url", "Enter a valid URL"),
                        ("http://127.0.0.1:8080/hooks", "private or local network"),
                        ("https://example.org/x", "This field is required")):
        response = client.post(reverse("webhooks-list"), {"url": url})
        assert response.status_code == 200 and reason in _text(response), url
    with scopes_disabled():
        assert not Endpoint.objects.exists()


def test_another_practices_admin_cannot_see_or_change_an_endpoint(client, practice, other_practice):
    _admin(client, practice)
    client.post(reverse("webhooks-list"), {"url": "https://receiver.example.com/h", "events": "alert.raised"})
    with scopes_disabled():
        endpoint = Endpoint.objects.get(organisation=practice.org)
    _admin(client, other_practice)
    for name in ("webhooks-endpoint", "webhooks-rotate", "webhooks-delete"):
        assert client.post(reverse(name, args=[endpoint.code]),
                           {"url": "https://evil.example/", "events": "alert.raised"}).status_code == 404
    assert "receiver.example.com" not in client.get(reverse("webhooks-list")).content.decode()
    old = endpoint.secret
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.secret) == ("https://receiver.example.com/h", old)


def test_changing_the_events_or_switching_off_is_saved_and_audited(client, practice):
    _admin(client, practice)
    client.post(reverse("webhooks-list"), {"url": "https://example.org/h", "events": "alert.raised",
                                           "active": "on"})
    with scopes_disabled():
        endpoint = Endpoint.objects.get(organisation=practice.org)
    url = reverse("webhooks-endpoint", args=[endpoint.code])
    response = client.post(url, {"url": "https://example.org/h",
                                 "events": ["alert.resolved", "checkin.missed"]})
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.events, endpoint.active) == (["alert.resolved", "checkin.missed"], False)
    with scopes_disabled():
        event = AuditEvent.objects.get(action="webhooks.endpoint.changed")
    assert event.actor == practice.admin and event.detail == {"changed": ["events", "active"]}
    listing = _text(client.get(reverse("webhooks-list")))
    assert "An alert was resolved; A check-in was missed" in listing and "Off" in listing
    # An unknown event is refused and nothing changes.
    assert client.post(url, {"url": "https://example.org/h", "events": "client.renamed"}
                       ).status_code == 200
    endpoint.refresh_from_db()
    assert endpoint.events == ["alert.resolved", "checkin.missed"]


def test_removing_an_address_deletes_it_and_its_log(client, practice):
    _admin(client, practice)
    client.post(reverse("webhooks-list"), {"url": "https://example.org/h", "events": "alert.raised"})
    with scopes_disabled():
        endpoint = Endpoint.objects.get(organisation=practice.org)
        Delivery.objects.create(organisation=practice.org, endpoint=endpoint, message_id="msg_x",
                                event="alert.raised", payload={})
    response = client.post(reverse("webhooks-delete", args=[endpoint.code]))
    assert response.status_code == 302 and response["Location"] == reverse("webhooks-list")
    with scopes_disabled():
        assert not Endpoint.objects.exists() and not Delivery.objects.exists()
        assert AuditEvent.objects.filter(action="webhooks.endpoint.deleted",
                                         actor=practice.admin).exists()
