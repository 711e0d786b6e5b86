"""An after-session check-in opens when the session starts: a session a week away cannot be
rated (it once recorded a rupture at a session still to come)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_scopes import scope

from rapport.care.models import Session
from rapport.checkins.models import CheckIn, Respondent, Response, When
from rapport.checkins.services import submission
from rapport.checkins.services.answers import InvalidAnswers
from tests.checkins.conftest import accept_consent, make_link
from tests.workspace.conftest import relationship


@pytest.fixture
def next_week(practice):
    with scope(organisation=[practice.org]):
        session = Session.objects.create(organisation=practice.org, episode=practice.episode,
                                         scheduled_at=timezone.now() + timedelta(days=7))
        checkin = CheckIn.objects.create(organisation=practice.org, episode=practice.episode,
                                         session=session, when=When.AFTER,
                                         respondent=Respondent.CLIENT,
                                         instruments=["relationship-checkin"])
    return session, checkin


def test_the_link_says_when_it_opens_and_shows_no_questions(practice, client, next_week):
    session, checkin = next_week
    accept_consent(practice)
    link = make_link(practice, checkin)
    page = client.get(link)
    assert page.status_code == 200
    assert b"This check-in is not open yet" in page.content
    assert b"Trust" not in page.content and b'type="radio"' not in page.content
    posted = client.post(link, {"instrument": "relationship-checkin", "action": "submit",
                                **{f"a-{k}": v for k, v in relationship(2).items()}})
    assert b"This check-in is not open yet" in posted.content
    with scope(organisation=[practice.org]):
        assert not Response.objects.exists()


def test_submit_refuses_it_until_the_start_and_takes_it_from_then(practice, next_week):
    session, checkin = next_week
    with scope(organisation=[practice.org]):
        with pytest.raises(InvalidAnswers, match="opens when the session starts"):
            submission.submit(episode=practice.episode, instrument_id="relationship-checkin",
                              checkin=checkin, answers=relationship(2))
        assert not Response.objects.exists()
        with time_machine.travel(session.scheduled_at + timedelta(minutes=1)):
            stored = submission.submit(episode=practice.episode,
                                       instrument_id="relationship-checkin",
                                       checkin=checkin, answers=relationship(8))
        assert stored.created and stored.response.session == session


def test_a_before_session_check_in_is_open_ahead_of_time(practice, next_week):
    session, _ = next_week
    with scope(organisation=[practice.org]):
        before = CheckIn.objects.create(organisation=practice.org, episode=practice.episode,
                                        session=session, when=When.BEFORE,
                                        respondent=Respondent.CLIENT, instruments=["phq9"])
        assert before.is_open() and before.opens_at is None
