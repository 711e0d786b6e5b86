"""A practice knows whether it has webhook endpoints (Organisation.has_webhook_endpoints), so
that an answer in a practice without any costs no look-up; the flag must never hide an
endpoint from an event."""

from __future__ import annotations

from django_scopes import scope, scopes_disabled

from rapport.accounts.models import Organisation
from rapport.webhooks import events
from rapport.webhooks.models import Delivery, Endpoint
from rapport.webhooks.services import create_endpoint
from tests.checkins.conftest import PHQ9_MILD, accept_consent, make_checkin, make_link, phq9_post


def _flag(org) -> bool:
    return Organisation.objects.get(pk=org.pk).has_webhook_endpoints


def test_the_flag_follows_the_endpoints_created_and_deleted(practice, other_practice):
    assert not _flag(practice.org)
    with scope(organisation=practice.org):
        first, _ = create_endpoint(practice.org, url="https://example.org/a", events=["alert.raised"])
        second, _ = create_endpoint(practice.org, url="https://example.org/b", events=["alert.raised"])
    assert _flag(practice.org) and practice.org.has_webhook_endpoints  # the row in hand too
    assert not _flag(other_practice.org)  # only that practice
    with scopes_disabled():
        Endpoint.objects.filter(pk=first.pk).update(active=False)  # inactive still counts
        first.delete()
    assert _flag(practice.org)
    with scopes_disabled():
        second.delete()
    assert not _flag(practice.org)


def test_an_answer_reaches_an_endpoint_made_after_its_practice_was_last_read(
        practice, client, django_capture_on_commit_callbacks):
    accept_consent(practice)
    link = make_link(practice, make_checkin(practice, instruments=("phq9",)))
    stale = Organisation.objects.get(pk=practice.org.pk)  # read before the endpoint exists
    with scope(organisation=stale):
        endpoint, _ = create_endpoint(Organisation.objects.get(pk=stale.pk),
                                      url="https://example.org/hooks",
                                      events=[events.RESPONSE_STORED])
    assert not stale.has_webhook_endpoints  # that copy is stale; the link reads afresh
    with django_capture_on_commit_callbacks(execute=False):
        page = client.post(link, phq9_post(PHQ9_MILD))
    assert b"your answers have been sent" in page.content
    with scopes_disabled():
        assert list(Delivery.objects.filter(endpoint=endpoint).values_list("event", flat=True)) \
            == [events.RESPONSE_STORED]


def test_an_answer_in_a_practice_without_endpoints_queues_nothing(practice, client):
    accept_consent(practice)
    page = client.post(make_link(practice, make_checkin(practice, instruments=("phq9",))),
                       phq9_post(PHQ9_MILD))
    assert b"your answers have been sent" in page.content
    with scopes_disabled():
        assert not Delivery.objects.exists()
