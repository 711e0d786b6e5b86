"""Webhooks: signed per Standard Webhooks (checked with the library's own verifier), delivered
with retries, logged, the secret rotatable, each practice's events only to its own addresses,
and outgoing requests refused where they must not go."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from pytest_httpserver import HTTPServer
from standardwebhooks import Webhook, WebhookVerificationError
from werkzeug import Response as WResponse

from rapport.alerts.services import raise_alert, transition
from rapport.checkins.models import CheckIn, Respondent, When
from rapport.checkins.services.schedule import mark_missed
from rapport.webhooks import events, outgoing
from rapport.webhooks.models import Delivery, DeliveryStatus, Endpoint
from rapport.webhooks.services import create_endpoint, rotate_secret
from rapport.webhooks.tasks import ATTEMPTS, BACKOFF, backoff

ALL = list(events.EVENTS)


@pytest.fixture
def receiver(httpserver: HTTPServer):
    """A local receiver that records what it got (method, headers, body)."""
    got = []

    def handle(request):
        got.append((dict(request.headers), request.get_data(as_text=True)))
        return WResponse("ok", status=200)

    httpserver.expect_request("/hooks", method="POST").respond_with_handler(handle)
    return httpserver.url_for("/hooks"), got


def _raise(practice, key="rupture:relationship-checkin:1"):
    return raise_alert(episode=practice.episode, kind="rupture", severity="warning", key=key,
                       evidence={"score": 40, "usual": 80})


def _deliveries(endpoint):
    with scopes_disabled():
        return list(Delivery.objects.filter(endpoint=endpoint).order_by("id"))


def test_an_alert_raised_is_delivered_signed_and_verifies(practice, receiver,
                                                          django_capture_on_commit_callbacks):
    url, got = receiver
    with scope(organisation=practice.org):
        endpoint, secret = create_endpoint(practice.org, url=url, events=[events.ALERT_RAISED])
        with django_capture_on_commit_callbacks(execute=True):
            alert = _raise(practice)
    [(headers, body)] = got
    payload = Webhook(secret).verify(body, headers)  # the library's verifier, not ours
    assert payload["type"] == "alert.raised"
    assert payload["data"] == {"alert": str(alert.code), "episode": str(practice.episode.code),
                               "client": str(practice.client.code), "kind": "rupture",
                               "severity": "warning", "status": "open"}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("warning", "urgent"), headers)
    [delivery] = _deliveries(endpoint)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.DELIVERED, 1, 200)
    assert headers["Webhook-Id"] == delivery.message_id


def test_retries_after_a_500_then_delivers_and_logs_each_attempt(
        practice, httpserver, django_capture_on_commit_callbacks):
    answers = iter([500, 500, 200])
    bodies = []

    def handle(request):
        bodies.append((request.headers["webhook-id"], request.get_data(as_text=True)))
        return WResponse("", status=next(answers))

    httpserver.expect_request("/flaky", method="POST").respond_with_handler(handle)
    with scope(organisation=practice.org):
        endpoint, _ = create_endpoint(practice.org, url=httpserver.url_for("/flaky"),
                                      events=[events.ALERT_RAISED])
        with django_capture_on_commit_callbacks(execute=True):
            _raise(practice)
    [delivery] = _deliveries(endpoint)
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == (
        DeliveryStatus.DELIVERED, 3, 200, "")
    # The same message (id and body) each time, so the receiver can de-duplicate.
    assert len(bodies) == 3 and len(set(bodies)) == 1


def test_gives_up_after_the_last_attempt_and_says_why(practice, httpserver,
                                                     django_capture_on_commit_callbacks):
    httpserver.expect_request("/down", method="POST").respond_with_data("", status=503)
    with scope(organisation=practice.org):
        endpoint, _ = create_endpoint(practice.org, url=httpserver.url_for("/down"),
                                      events=[events.ALERT_RAISED])
        with django_capture_on_commit_callbacks(execute=True):
            _raise(practice)
    [delivery] = _deliveries(endpoint)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.FAILED, ATTEMPTS, 503)
    assert delivery.last_error == "Answered HTTP 503."


def test_backoff_grows_exponentially_and_is_capped():
    # full jitter: a random wait up to BACKOFF * 2**(failed - 1) (at most an hour)
    for failed in range(1, 10):
        assert 0 <= backoff(failed) <= min(BACKOFF * 2 ** (failed - 1), 3600)
    assert max(backoff(9) for _ in range(50)) > BACKOFF * 2 ** 4


def test_another_practices_events_never_reach_this_practices_addresses(
        practice, other_practice, receiver, django_capture_on_commit_callbacks):
    url, got = receiver
    with scope(organisation=other_practice.org):
        theirs, _ = create_endpoint(other_practice.org, url=url, events=ALL)
    with scope(organisation=practice.org), django_capture_on_commit_callbacks(execute=True):
        alert = _raise(practice)
        transition(alert, "resolved", request=None, note="Talked it through")
    assert got == [] and _deliveries(theirs) == []


def test_only_subscribed_active_addresses_get_an_event(practice, receiver,
                                                       django_capture_on_commit_callbacks):
    url, got = receiver
    with scope(organisation=practice.org):
        resolved_only, _ = create_endpoint(practice.org, url=url, events=[events.ALERT_RESOLVED])
        off, _ = create_endpoint(practice.org, url=url, events=ALL)
        Endpoint.objects.filter(pk=off.pk).update(active=False)
        with django_capture_on_commit_callbacks(execute=True):
            alert = _raise(practice)
        assert got == []
        with django_capture_on_commit_callbacks(execute=True):
            transition(alert, "resolved", request=None, note="Talked it through")
    assert [d.event for d in _deliveries(resolved_only)] == ["alert.resolved"]
    assert _deliveries(off) == [] and len(got) == 1


def test_an_event_rolled_back_is_never_sent(practice, receiver, django_capture_on_commit_callbacks):
    from django.db import transaction

    url, got = receiver
    with scope(organisation=practice.org):
        endpoint, _ = create_endpoint(practice.org, url=url, events=ALL)
        with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
            with transaction.atomic():
                _raise(practice)
                raise RuntimeError("the change fails")
    assert got == [] and _deliveries(endpoint) == []


def test_a_missed_check_in_is_sent_once(practice, receiver, django_capture_on_commit_callbacks):
    url, got = receiver
    with scope(organisation=practice.org):
        endpoint, secret = create_endpoint(practice.org, url=url, events=[events.CHECKIN_MISSED])
        checkin = CheckIn.objects.create(
            organisation=practice.org, episode=practice.episode, session=practice.session,
            when=When.BEFORE, respondent=Respondent.CLIENT, instruments=["phq9"])
        before = practice.session.scheduled_at + timedelta(minutes=30)
        with django_capture_on_commit_callbacks(execute=True):
            assert mark_missed(practice.org, now=before) == 0  # still open
            assert mark_missed(practice.org, now=timezone.now()) == 1
            assert mark_missed(practice.org, now=timezone.now()) == 0  # once only
    [(headers, body)] = got
    data = Webhook(secret).verify(body, headers)["data"]
    assert data == {"checkin": str(checkin.code), "episode": str(practice.episode.code),
                    "client": str(practice.client.code), "when": "before", "instruments": ["phq9"]}
    assert len(_deliveries(endpoint)) == 1


def test_a_rotation_that_keeps_the_old_secret_signs_with_both_for_a_day(
        practice, receiver, django_capture_on_commit_callbacks):
    from rapport.webhooks.services import OVERLAP

    url, got = receiver
    with scope(organisation=practice.org):
        endpoint, old = create_endpoint(practice.org, url=url, events=[events.ALERT_RAISED])
        new = rotate_secret(endpoint, keep_old=True)
        with django_capture_on_commit_callbacks(execute=True):
            _raise(practice)
        Endpoint.objects.filter(pk=endpoint.pk).update(
            previous_secret_until=timezone.now() - timedelta(seconds=1))  # the day is over
        with django_capture_on_commit_callbacks(execute=True):
            _raise(practice, key="rupture:relationship-checkin:2")
    (first_headers, first), (later_headers, later) = got
    assert len(first_headers["Webhook-Signature"].split(" ")) == 2
    Webhook(new).verify(first, first_headers)
    Webhook(old).verify(first, first_headers)  # a receiver not yet switched over
    Webhook(new).verify(later, later_headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(later, later_headers)
    assert OVERLAP == timedelta(hours=24)


def test_rotating_the_secret_signs_with_the_new_one_only(practice, receiver,
                                                         django_capture_on_commit_callbacks):
    url, got = receiver
    with scope(organisation=practice.org):
        endpoint, old = create_endpoint(practice.org, url=url, events=[events.ALERT_RAISED])
        new = rotate_secret(endpoint)
        with django_capture_on_commit_callbacks(execute=True):
            _raise(practice)
    assert new != old and new.startswith("whsec_")
    [(headers, body)] = got
    Webhook(new).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(body, headers)
    with scopes_disabled():
        assert Endpoint.objects.get(pk=endpoint.pk).secret == new  # stored (encrypted) and read back


@pytest.mark.parametrize("url", ["ftp://example.org/x", "file:///etc/passwd", "gopher://example.org",
                                 "http://user:pw@example.org/", "http://example.org:99999/"])
def test_only_plain_http_and_https_addresses(url):
    with pytest.raises(outgoing.Refused):
        outgoing.check_url(url)


@override_settings(WEBHOOKS_ALLOW_PRIVATE=False)
@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/", "http://localhost/x", "http://10.0.0.5/",
                                 "http://169.254.169.254/latest/meta-data/", "http://[::1]/",
                                 "http://192.168.1.1/", "http://[::ffff:127.0.0.1]/"])
def test_private_and_loopback_addresses_are_refused_in_production(url):
    with pytest.raises(outgoing.Refused):
        outgoing.check_url(url)


def test_the_connected_address_is_checked_before_anything_is_sent(practice, httpserver):
    """Whatever a name resolved to (DNS rebinding included), the socket's peer is checked before
    the request is written: a loopback peer is refused when private addresses are not allowed."""
    httpserver.expect_request("/x").respond_with_data("ok")
    with override_settings(WEBHOOKS_ALLOW_PRIVATE=False):
        conn = outgoing._HTTP("127.0.0.1", httpserver.port, timeout=2)
        with pytest.raises(outgoing.Refused):
            conn.connect()
        assert conn.sock is None
    assert httpserver.log == []
    conn = outgoing._HTTP("127.0.0.1", httpserver.port, timeout=2)  # allowed in test mode
    conn.connect()
    conn.close()


@override_settings(WEBHOOKS_ALLOW_PRIVATE=False)
def test_a_refused_address_fails_at_once_without_retries(practice, httpserver,
                                                        django_capture_on_commit_callbacks):
    with scope(organisation=practice.org):
        with override_settings(WEBHOOKS_ALLOW_PRIVATE=True):
            endpoint, _ = create_endpoint(practice.org, url=httpserver.url_for("/x"),
                                          events=[events.ALERT_RAISED])
        with django_capture_on_commit_callbacks(execute=True):
            _raise(practice)
    [delivery] = _deliveries(endpoint)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert delivery.last_error == "That address is on a private or local network."
    assert httpserver.log == []


def test_the_sweep_sends_a_delivery_whose_attempt_was_lost_and_trims_the_log(practice, receiver):
    from rapport.webhooks.tasks import KEEP_DAYS, STALLED_AFTER, sweep_deliveries

    url, got = receiver
    long_ago = timezone.now() - STALLED_AFTER - timedelta(minutes=1)
    with scope(organisation=practice.org):
        endpoint, secret = create_endpoint(practice.org, url=url, events=ALL)

        def delivery(message_id, **fields):
            return Delivery.objects.create(organisation=practice.org, endpoint=endpoint,
                                           message_id=message_id, event="alert.raised",
                                           payload={"type": "alert.raised", "data": {}}, **fields)

        lost = delivery("msg_lost", created_at=long_ago)
        waiting = delivery("msg_waiting", status="retrying", attempts=2,
                           last_attempt_at=timezone.now())  # its next attempt is still queued
        old = delivery("msg_old", status="delivered", attempts=1,
                       delivered_at=timezone.now() - timedelta(days=KEEP_DAYS + 1))
    assert sweep_deliveries() == 1
    [(headers, body)] = got
    assert Webhook(secret).verify(body, headers) and headers["Webhook-Id"] == "msg_lost"
    with scopes_disabled():
        assert Delivery.objects.get(pk=lost.pk).status == DeliveryStatus.DELIVERED
        assert Delivery.objects.get(pk=waiting.pk).attempts == 2
        assert not Delivery.objects.filter(pk=old.pk).exists()


def test_erasing_a_client_deletes_the_deliveries_that_name_them(practice, other_practice):
    from rapport.privacy.services import erase_client

    with scope(organisation=practice.org):
        endpoint, _ = create_endpoint(practice.org, url="https://example.org/h", events=ALL)
        Endpoint.objects.filter(pk=endpoint.pk).update(active=False)
        for n, client in enumerate((practice.client, practice.colleague_client)):
            Delivery.objects.create(
                organisation=practice.org, endpoint=endpoint, message_id=f"msg_{n}",
                event="alert.raised", payload={"type": "alert.raised",
                                               "data": {"client": str(client.code)}})
        erase_client(practice.client, reason="asked")
    with scopes_disabled():
        assert list(Delivery.objects.values_list("message_id", flat=True)) == ["msg_1"]
