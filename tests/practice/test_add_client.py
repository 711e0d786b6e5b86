"""Adding a client: an episode with a therapist, a portal invitation, duplicates caught, never merged."""

from __future__ import annotations

import re

from django.core import mail
from django.urls import reverse
from django_scopes import scopes_disabled

from rapport.audit.models import AuditEvent
from rapport.care import search
from rapport.care.models import CareEpisode, Client


def named(name: str) -> Client:
    """The one client of that name (names are encrypted: compared after decryption)."""
    (found,) = [c for c in Client.objects.all() if c.name == name]
    return found


def details(**overrides) -> dict:
    return {"name": "Alex Morgan", "preferred_name": "Al", "pronouns": "they/them",
            "email": "Alex@Example.org", "phone": "+44 7700 900123", "language": "en",
            "preferred_channel": "email", "emergency_contact": "Sam Morgan, 07700 900456",
            "invite": "on", **overrides}


def test_a_therapist_adds_a_client_opens_an_episode_and_invites_them(client, practice):
    client.force_login(practice.therapist)
    response = client.post(reverse("practice-add-client"), details(therapist=practice.therapist.pk))
    assert response.status_code == 302
    with scopes_disabled():
        added = named("Alex Morgan")
        episode = CareEpisode.objects.get(client=added)
        actions = set(AuditEvent.objects.filter(client_code=added.code).values_list("action", flat=True))
    assert response["Location"] == reverse("care-client", args=[added.code])
    assert (added.email, added.preferred_name, added.pronouns) == ("alex@example.org", "Al", "they/them")
    assert added.emergency_contact == "Sam Morgan, 07700 900456"
    assert episode.therapist == practice.therapist and episode.status == "active"
    assert {"practice.client.added", "practice.episode.opened", "portal.login_link.sent"} <= actions
    (message,) = mail.outbox
    assert message.to == ["alex@example.org"]
    assert "It works once, for 7 days." in message.body
    link = re.search(r"http://testserver(/portal/login/\S+/)", message.body).group(1)
    client.logout()
    assert client.get(link).status_code == 200


def test_a_therapist_cannot_open_an_episode_for_a_colleague(client, practice):
    client.force_login(practice.therapist)
    response = client.post(reverse("practice-add-client"), details(therapist=practice.colleague.pk))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    with scopes_disabled():
        assert not [c for c in Client.objects.all() if c.name == "Alex Morgan"]


def test_an_admin_chooses_the_therapist(client, practice):
    client.force_login(practice.admin)
    client.post(reverse("practice-add-client"), details(therapist=practice.colleague.pk, invite=""))
    with scopes_disabled():
        assert CareEpisode.objects.get(client=named("Alex Morgan")).therapist == practice.colleague
    assert mail.outbox == []


def test_a_same_email_is_caught_and_adding_anyway_makes_a_second_client(client, practice):
    with scopes_disabled():
        Client.objects.filter(pk=practice.client.pk).update(email="alex@example.org")
    client.force_login(practice.therapist)
    data = details(therapist=practice.therapist.pk, phone="")
    first = client.post(reverse("practice-add-client"), data)
    page = first.content.decode()
    assert first.status_code == 200
    assert "This may be someone the practice already knows" in page
    assert "Riverside Client</a>: the same email." in page
    hidden = re.search(r'name="different_person" value="([^"]*)"', page).group(1)
    with scopes_disabled():
        assert search.with_email(Client.objects.all(), "alex@example.org").count() == 1
    second = client.post(reverse("practice-add-client"), {**data, "different_person": hidden})
    assert second.status_code == 302
    with scopes_disabled():
        assert search.with_email(Client.objects.all(), "alex@example.org").count() == 2  # never merged
        event = AuditEvent.objects.get(action="practice.client.added")
    assert event.detail == {"despite_possible_duplicate": True}


def test_a_colleagues_client_with_the_same_phone_is_not_named(client, practice):
    with scopes_disabled():
        Client.objects.filter(pk=practice.colleague_client.pk).update(phone="07700 900123")
    client.force_login(practice.therapist)
    page = client.post(reverse("practice-add-client"),
                       details(therapist=practice.therapist.pk, phone="077-00-900123")).content.decode()
    assert "A client of another therapist has the same phone" in page
    assert "Riverside Other Client" not in page


def test_another_practices_clients_are_not_duplicates(client, practice, other_practice):
    with scopes_disabled():
        Client.objects.filter(pk=other_practice.client.pk).update(email="alex@example.org")
    client.force_login(practice.therapist)
    assert client.post(reverse("practice-add-client"),
                       details(therapist=practice.therapist.pk)).status_code == 302


def test_a_text_preference_needs_a_phone_and_an_invitation_needs_an_email(client, practice):
    client.force_login(practice.therapist)
    page = client.post(reverse("practice-add-client"), details(
        therapist=practice.therapist.pk, preferred_channel="text", phone="", email="")).content.decode()
    assert "A mobile number is needed to reach them by text message." in page
    assert "The portal invitation goes by email" in page
    with scopes_disabled():
        assert not [c for c in Client.objects.all() if c.name == "Alex Morgan"]


def test_only_the_treating_therapist_or_an_admin_resends_an_invitation(client, practice):
    with scopes_disabled():
        Client.objects.filter(pk=practice.client.pk).update(email="rc@example.org")
    url = reverse("practice-invite", args=[practice.client.code])
    for user in (practice.colleague, practice.supervisor):
        client.force_login(user)
        assert client.post(url).status_code == 404
    assert mail.outbox == []
    client.force_login(practice.therapist)
    assert client.post(url).status_code == 302
    assert [m.to for m in mail.outbox] == [["rc@example.org"]]
