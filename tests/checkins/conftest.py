"""Fixtures for check-in tests: a client's check-in before the session, and a link to it."""

from __future__ import annotations

import pytest
from django_scopes import scope

from rapport.checkins.models import CheckIn, Respondent, When
from rapport.checkins.services.consent import accept_statement, current_statement
from rapport.checkins.services.invitations import create_invitation

PHQ9_MILD = {f"phq9-{n}": 1 for n in range(1, 10)} | {"phq9-9": 0}


def make_checkin(practice, instruments=("session-prep", "phq9"), session=None, episode=None):
    episode = episode or practice.episode
    session = session or practice.session
    with scope(organisation=[practice.org]):
        return CheckIn.objects.create(
            organisation=practice.org, episode=episode, session=session, when=When.BEFORE,
            respondent=Respondent.CLIENT, instruments=list(instruments),
        )


def make_link(practice, checkin) -> str:
    with scope(organisation=[practice.org]):
        _, token = create_invitation(checkin)
    return f"/c/{token}/"


def accept_consent(practice, client=None):
    client = client or practice.client
    with scope(organisation=[practice.org]):
        accept_statement(client, current_statement(practice.org))


def phq9_post(answers: dict, token: str = "", action: str = "submit") -> dict:
    data = {"instrument": "phq9", "action": action, "submission": token}
    for key, value in answers.items():
        if key.startswith("phq9-") and isinstance(value, int) and key != "phq9-difficulty":
            value = ["not-at-all", "several-days", "more-than-half", "nearly-every-day"][value]
        data[f"a-{key}"] = value
    return data


@pytest.fixture
def checkin(practice):
    return make_checkin(practice)


@pytest.fixture
def link(practice, checkin):
    return make_link(practice, checkin)
