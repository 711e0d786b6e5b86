"""An API world: the practice's objects (a check-in, a response, an alert, a goal) and tokens."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.test import RequestFactory
from django.utils import timezone
from django_scopes import scope

from rapport.accounts.models import Membership, Role
from rapport.alerts.services import raise_alert
from rapport.api import tokens
from rapport.api.models import SCOPES, ApiToken
from rapport.checkins.models import CheckIn, Respondent, When
from rapport.checkins.services.submission import submit
from rapport.goals.models import Side
from rapport.goals.services import propose_goal

PHQ9_MILD = {f"phq9-{n}": 1 for n in range(1, 10)} | {"phq9-9": 0}


def make_token(practice, user, scopes=SCOPES, days=30, name="test") -> str:
    """A token of `practice` acting as `user`; returns the raw token."""
    request = RequestFactory().post("/")
    request.user, request.organisation = practice.admin, practice.org
    with scope(organisation=[practice.org]):
        return tokens.create_token(request, name=name, user=user, scopes=list(scopes), days=days).raw


def bearer(raw: str | None) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"} if raw else {}


def build_world(practice, other_practice, django_user_model):
    outsider = django_user_model.objects.create_user("outside@riverside.test", "x", name="O")
    Membership.objects.create(organisation=practice.org, user=outsider, role=Role.SUPERVISOR)
    with scope(organisation=[practice.org]):
        practice.client.email = "client@riverside.test"
        practice.client.save()
        practice.session.scheduled_at = timezone.now() - timedelta(hours=1)
        practice.session.save()
        checkin = CheckIn.objects.create(
            organisation=practice.org, episode=practice.episode, session=practice.session,
            when=When.BEFORE, respondent=Respondent.CLIENT, instruments=["phq9", "gad7"])
        response = submit(episode=practice.episode, instrument_id="phq9", answers=PHQ9_MILD,
                          checkin=checkin).response
        alert = raise_alert(episode=practice.episode, kind="rupture", severity="warning",
                            key="rupture:relationship-checkin:1", evidence={"score": 40, "usual": 80})
        goal = propose_goal(practice.episode, "Sleep through the night", side=Side.THERAPIST,
                            user=practice.therapist)
    raw = {
        "therapist_own": make_token(practice, practice.therapist),
        "therapist_other": make_token(practice, practice.colleague),
        "supervisor_team": make_token(practice, practice.supervisor),
        "supervisor_outside": make_token(practice, outsider),
        "admin_own": make_token(practice, practice.admin),
        "other_practice": make_token(other_practice, other_practice.therapist),
        "expired": make_token(practice, practice.therapist, name="expired"),
        "revoked": make_token(practice, practice.therapist, name="revoked"),
        "read_only": make_token(practice, practice.therapist, [s for s in SCOPES if s.endswith(":read")]),
        "no_scope": make_token(practice, practice.therapist, ["fhir:read"], name="no-scope"),
        "none": None,
    }
    with scope(organisation=[practice.org]):
        ApiToken.objects.filter(name="expired").update(expires_at=timezone.now() - timedelta(seconds=1))
        ApiToken.objects.filter(name="revoked").update(revoked_at=timezone.now())
        ApiToken.objects.filter(name="no-scope").update(scopes=[])
    return SimpleNamespace(**vars(practice), checkin=checkin, response=response, alert=alert,
                           goal=goal, raw=raw, other=other_practice)


@pytest.fixture
def world(practice, other_practice, django_user_model):
    return build_world(practice, other_practice, django_user_model)


@pytest.fixture
def goal_ratings(world):
    """The client agrees to the goal and rates it once: the episode's goal Questionnaire exists."""
    from rapport.goals.services import agree_goal

    with scope(organisation=[world.org]):
        agree_goal(world.goal, side=Side.CLIENT)
        world.goal.refresh_from_db()
        return submit(episode=world.episode, instrument_id="goal-progress",
                      answers={world.goal.link_id: 6}).response
