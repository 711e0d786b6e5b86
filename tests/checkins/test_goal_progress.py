"""goal-progress in check-ins: one 0-10 rating per agreed goal, through the link and `submit`."""

from __future__ import annotations

import pytest
from django_scopes import scope

from rapport.checkins.models import CheckIn, Response
from rapport.checkins.services.answers import InvalidAnswers
from rapport.checkins.services.schedule import plan_session
from rapport.checkins.services.submission import submit
from rapport.goals import services as goals
from rapport.goals.models import EventKind, GoalEvent, Side
from rapport.goals.progress import goal_progress
from tests.checkins.conftest import accept_consent, make_checkin, make_link


def agreed_goal(practice, title, episode=None):
    episode = episode or practice.episode
    goal = goals.propose_goal(episode, title, side=Side.THERAPIST, user=episode.therapist)
    return goals.agree_goal(goal, side=Side.CLIENT)


@pytest.fixture
def two_goals(practice):
    with scope(organisation=[practice.org]):
        sleep = agreed_goal(practice, "Sleep through most nights")
        bus = agreed_goal(practice, "Take the bus to work")
        # A proposal the client has not agreed to is not rated.
        goals.propose_goal(practice.episode, "Not agreed yet", side=Side.THERAPIST,
                           user=practice.therapist)
    return sleep, bus


def post(goal_answers: dict, token: str = "") -> dict:
    data = {"instrument": "goal-progress", "action": "submit", "submission": token}
    data.update({f"a-{k}": v for k, v in goal_answers.items()})
    return data


def test_a_client_rates_each_agreed_goal_through_the_link(practice, client, two_goals):
    sleep, bus = two_goals
    accept_consent(practice)
    link = make_link(practice, make_checkin(practice, instruments=["goal-progress"]))
    page = client.get(link).content.decode()
    assert "Sleep through most nights" in page and "Take the bus to work" in page
    assert "Not agreed yet" not in page
    assert f'name="a-{sleep.link_id}"' in page

    done = client.post(link, post({sleep.link_id: "6", bus.link_id: "3"}))
    assert done.status_code == 200 and b"your answers have been sent" in done.content
    with scope(organisation=[practice.org]):
        response = Response.objects.get(instrument_id="goal-progress")
        assert response.answers == {sleep.link_id: 6, bus.link_id: 3}
        assert response.total == 4.5
        progress = goal_progress(practice.episode)
    assert [p.rating for p in progress[sleep.link_id]] == [6]
    assert [p.rating for p in progress[bus.link_id]] == [3]


@pytest.mark.parametrize("bad", ["11", "-1", "lots", "6.5"])
def test_a_bad_rating_is_named_and_nothing_is_stored(practice, client, two_goals, bad):
    sleep, bus = two_goals
    accept_consent(practice)
    link = make_link(practice, make_checkin(practice, instruments=["goal-progress"]))
    page = client.post(link, post({sleep.link_id: bad, bus.link_id: "4"}))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Please give a whole number from 0 to 10" in html
    assert html.count('aria-invalid="true"') == 11  # the 11 points of the first goal only
    assert f'name="a-{bus.link_id}" value="4" checked' in html  # the other answer is kept
    with scope(organisation=[practice.org]):
        assert not Response.objects.filter(instrument_id="goal-progress").exists()


def test_every_agreed_goal_needs_a_rating(practice, two_goals):
    sleep, bus = two_goals
    with scope(organisation=[practice.org]):
        with pytest.raises(InvalidAnswers) as missing:
            submit(episode=practice.episode, instrument_id="goal-progress",
                            answers={sleep.link_id: 5})
        assert missing.value.errors == {bus.link_id: "Please answer this question."}
        assert not Response.objects.filter(instrument_id="goal-progress").exists()


def test_a_rating_for_a_goal_that_is_not_rated_is_refused(practice, two_goals):
    sleep, bus = two_goals
    with scope(organisation=[practice.org]):
        other = agreed_goal(practice, "Another client's goal", episode=practice.colleague_episode)
        answers = {sleep.link_id: 5, bus.link_id: 5, other.link_id: 9}
        with pytest.raises(InvalidAnswers) as refused:
            submit(episode=practice.episode, instrument_id="goal-progress",
                            answers=answers)
        assert None in refused.value.errors
        goals.close_goal(bus, achieved=True, user=practice.therapist)
        with pytest.raises(InvalidAnswers):  # closed goals are no longer rated
            submit(episode=practice.episode, instrument_id="goal-progress",
                            answers={sleep.link_id: 5, bus.link_id: 5})
        stored = submit(episode=practice.episode, instrument_id="goal-progress",
                                 answers={sleep.link_id: 5})
        assert stored.response.answers == {sleep.link_id: 5}


def test_a_rating_of_seven_is_noticed_as_a_milestone(practice, two_goals):
    sleep, bus = two_goals
    with scope(organisation=[practice.org]):
        submit(episode=practice.episode, instrument_id="goal-progress",
                        answers={sleep.link_id: 4, bus.link_id: 2})
        submit(episode=practice.episode, instrument_id="goal-progress",
                        answers={sleep.link_id: 7, bus.link_id: 2})
        assert GoalEvent.objects.filter(goal=sleep, kind=EventKind.MILESTONE,
                                        key="first-high").exists()
        assert not GoalEvent.objects.filter(goal=bus, kind=EventKind.MILESTONE).exists()


def test_without_agreed_goals_goal_progress_is_left_out(practice):
    rules = [{"instrument": "goal-progress", "when": "before", "every": 1},
             {"instrument": "phq9", "when": "before", "every": 1}]
    with scope(organisation=[practice.org]):
        with pytest.raises(InvalidAnswers):
            submit(episode=practice.episode, instrument_id="goal-progress", answers={})
        planned = plan_session(practice.session, rules, 2)
        assert [c.instruments for c in planned] == [["phq9"]]


def test_with_agreed_goals_the_default_schedule_asks_for_ratings(practice, two_goals):
    with scope(organisation=[practice.org]):
        planned = plan_session(practice.session)
        before = next(c for c in planned if c.when == "before" and c.respondent == "client")
    assert "goal-progress" in before.instruments


def test_a_checkin_completes_when_its_goals_were_closed_meanwhile(practice, client, two_goals):
    sleep, bus = two_goals
    accept_consent(practice)
    checkin = make_checkin(practice, instruments=["goal-progress", "phq9"])
    link = make_link(practice, checkin)
    with scope(organisation=[practice.org]):
        for goal in two_goals:
            goals.close_goal(goal, achieved=True, user=practice.therapist)
    page = client.get(link)
    assert b"PHQ-9" in page.content and sleep.title.encode() not in page.content
    answers = {f"a-phq9-{n}": "several-days" for n in range(1, 10)} | {"a-phq9-9": "not-at-all"}
    client.post(link, {"instrument": "phq9", "action": "submit", "submission": "", **answers})
    with scope(organisation=[practice.org]):
        assert CheckIn.objects.get(pk=checkin.pk).is_complete
