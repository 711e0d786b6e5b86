"""Two clients who go by the same first name are told apart wherever clients are listed."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from django.urls import reverse
from django_scopes import scopes_disabled

from rapport.care.models import CareEpisode, Client, Session
from tests.conftest import login


def _client(practice, name: str, preferred: str, *, ended: bool) -> Client:
    with scopes_disabled():
        client = Client.objects.create(organisation=practice.org, name=name, preferred_name=preferred)
        episode = CareEpisode.objects.create(
            organisation=practice.org, client=client, therapist=practice.therapist,
            started_on=date(2026, 9, 1), status="completed" if ended else "active",
            ended_on=date(2026, 11, 1) if ended else None)
        Session.objects.create(organisation=practice.org, episode=episode,
                               scheduled_at=datetime(2026, 9, 2, 9 + len(name) % 8, tzinfo=UTC))
    return client


def test_two_viktors_are_told_apart_in_lists_and_on_their_pages(client, practice):
    haddad = _client(practice, "Viktor Haddad", "Viktor", ended=False)
    obrien = _client(practice, "Viktor O'Brien", "Viktor", ended=False)
    gone = [_client(practice, "Viktor Lund", "Viktor", ended=True),
            _client(practice, "Alexandra Ruiz", "Sasha", ended=True)]
    assert haddad.listed_name == "Viktor Haddad" and gone[1].listed_name == "Alexandra Ruiz (Sasha)"
    login(client, practice.therapist)

    def text(url, **params) -> str:
        response = client.get(url, params)
        assert response.status_code == 200, url
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))

    week = text(reverse("scheduling-week", args=[practice.therapist.code]), week="2026-09-02")
    assert "Viktor Haddad" in week and "Viktor O&#x27;Brien" in week
    past = text(reverse("care-past-clients"))
    assert "Viktor Lund" in past and "Alexandra Ruiz (Sasha)" in past
    for who in (haddad, obrien):
        with scopes_disabled():
            episode = who.episodes.get()
            session = episode.sessions.get()
        name = who.name.replace("'", "&#x27;")
        assert name in text(reverse("care-episode", args=[episode.code])).split("Open alerts")[0]
        assert name in text(reverse("care-session", args=[session.code]))
        assert name in text(reverse("care-client", args=[who.code]))
