"""The episode page tells the relationship's story: scores with the expected band, the
relationship with ruptures and repairs, both views, goals, sessions and open alerts."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django_scopes import scope

from rapport.alerts.findings import refresh_episode
from rapport.audit.models import AuditEvent
from rapport.goals.models import Side
from rapport.goals.services import agree_goal, propose_goal
from tests.conftest import login
from tests.workspace.conftest import new_episode, phq9, reflection, relationship, submit

CONCERNS = "Panic attacks on the train since spring"
GOAL = "Take the train to work twice a week"
LEVELS = (8, 9, 8, 9, 2, 9, 9, 9)  # a rupture at session 5, repaired (two sessions back) by 7


@pytest.fixture
def story(practice):
    episode, sessions = new_episode(practice, "Hana Story", past=len(LEVELS), future=1,
                                    concerns=CONCERNS)
    with scope(organisation=practice.org):
        goal = propose_goal(episode, GOAL, side=Side.THERAPIST, user=practice.therapist)
        agree_goal(goal, side=Side.CLIENT)
    for n, (session, level) in enumerate(zip(sessions, LEVELS, strict=False)):
        submit(practice, episode, session, "phq9", phq9(18 - n))
        submit(practice, episode, session, "relationship-checkin", relationship(level))
        submit(practice, episode, session, "therapist-reflection", reflection(9), user=practice.therapist)
        submit(practice, episode, session, "goal-progress", {goal.link_id: 2 + n // 2})
    with scope(organisation=practice.org):
        refresh_episode(episode)  # as after each stored response
    return episode, sessions, goal


def page(client, episode) -> str:
    response = client.get(reverse("care-episode", args=[episode.code]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_therapist_sees_the_whole_story(client, practice, story):
    episode, sessions, goal = story
    login(client, practice.therapist)
    body = page(client, episode)
    # Outcome scores with the expected-trajectory band, and its data table.
    assert '<polygon class="chart-band"' in body
    assert "PHQ-9 scores and the expected range" in body
    assert "within range" in body
    # The relationship: both views side by side, the rupture and its repair marked.
    assert "Client’s rating" in body and "Therapist’s rating" in body
    assert 'class="chart-mark chart-mark-rupture"' in body
    assert 'class="chart-mark chart-mark-repair"' in body
    assert re.search(r'<th scope="row">5</th><td[^>]*>[^<]*</td><td>20</td><td>90</td><td>70</td>'
                     r'<td><span class="event event-rupture">Rupture</span>', body)
    # The seven components.
    assert "The seven parts of the relationship" in body and "Mutual respect" in body
    # Goals with ratings, linked.
    assert GOAL in body and reverse("goals-goal", args=[goal.code]) in body
    assert reverse("goals-episode", args=[episode.code]) in body
    assert "2 → 2 → 3 → 3 → 4 → 4 → 5 → 5" in body  # every rating, oldest first
    # Sessions with attendance and their pages.
    for s in sessions:
        assert reverse("care-session", args=[s.code]) in body
        assert reverse("checkins-session", args=[s.code]) in body
        assert reverse("notes-record", args=[s.code]) in body
    assert "Attended" in body and "Scheduled" in body
    # Open alerts with suggestions.
    with scope(organisation=practice.org):
        alerts = list(episode.alerts.exclude(status="resolved"))
    assert alerts
    for a in alerts:
        assert reverse("alerts-detail", args=[a.code]) in body
        assert a.suggestions[0].replace("'", "&#x27;").replace('"', "&quot;") in body
    # Free text for the treating therapist.
    assert CONCERNS in body


def test_every_chart_is_an_image_with_a_title_and_a_table(client, practice, story):
    login(client, practice.therapist)
    body = page(client, story[0])
    charts = re.findall(r"<svg [^>]*>", body)
    # PHQ-9, relationship totals, components; each drawn for wide and for narrow screens.
    assert len(charts) == 6
    for svg in charts:
        assert 'role="img"' in svg and "aria-labelledby" in svg
    assert body.count("<title id=") == 6 and body.count("<desc id=") == 6
    ids = re.findall(r'<title id="([^"]+)"', body)
    assert len(set(ids)) == 6
    assert body.count("<caption") >= 5
    assert " style=" not in body and "<script" not in body


def test_the_supervisor_of_the_therapist_sees_the_story(client, practice, story):
    login(client, practice.supervisor)
    body = page(client, story[0])
    assert 'class="chart-mark chart-mark-rupture"' in body
    assert GOAL in body and CONCERNS in body


def test_each_open_alert_says_why_in_the_clients_own_numbers(client, practice, story):
    from django.utils.html import escape

    from rapport.monitoring.explain import why

    episode, _, _ = story
    login(client, practice.therapist)
    body = page(client, episode)
    with scope(organisation=practice.org):
        alerts = list(episode.alerts.exclude(status="resolved"))
    rupture = [a for a in alerts if a.kind == "rupture"]
    assert rupture, [a.kind for a in alerts]  # the rupture at session 5 (20 against a usual 85)
    explained = [(a, why(a.kind, a.evidence)) for a in alerts]
    for a, text in explained:
        if text is not None:
            assert f'<p class="why">{escape(text)}</p>' in body, a.kind
    text = why("rupture", rupture[0].evidence)
    assert text and text.startswith("This session 20; usual level 8")
    login(client, practice.admin)
    assert 'class="why"' not in page(client, episode)


def test_an_admin_sees_no_free_text_goals_or_alerts(client, practice, story):
    episode, sessions, goal = story
    login(client, practice.admin)
    body = page(client, episode)
    assert CONCERNS not in body and GOAL not in body
    assert reverse("notes-record", args=[sessions[0].code]) not in body
    assert "/alerts/" not in body.split("<main", 1)[1]
    assert "chart-mark" not in body
    assert reverse("care-session", args=[sessions[0].code]) in body  # administers sessions


@pytest.mark.parametrize("who", ["colleague", "other"])
def test_others_get_404(client, practice, other_practice, story, who):
    login(client, practice.colleague if who == "colleague" else other_practice.therapist)
    assert client.get(reverse("care-episode", args=[story[0].code])).status_code == 404


def test_the_read_is_audited(client, practice, story):
    login(client, practice.therapist)
    page(client, story[0])
    with scope(organisation=practice.org):
        event = AuditEvent.objects.filter(action="care.episode.viewed").latest("id")
    assert event.object_code == str(story[0].code) and event.detail == {"clinical_text": True}


def test_an_episode_without_data_says_so(client, practice):
    episode, _ = new_episode(practice, "Ivo New", past=0, future=1)
    login(client, practice.therapist)
    body = page(client, episode)
    assert "No outcome scores yet" in body and "No relationship ratings yet" in body
    assert "No goals agreed yet" in body


def test_the_band_follows_the_expected_trajectory(practice, story):
    from rapport.alerts.findings import build_history, trajectories_for
    from rapport.monitoring import thresholds as th
    from rapport.workspace import story as building

    episode = story[0]
    with scope(organisation=practice.org):
        history = build_history(episode).history
        trajectories = trajectories_for(practice.org)
        (phq,) = building._outcome_stories(history, build_history(episode).sessions, trajectories, 9)
    series = history.outcomes[0]
    model = trajectories.model_for("phq9", series.scale)
    expected, sd = model.expected(18, 4)
    row = phq.rows[3]
    assert row.session == 4 and row.score == 15
    assert row.expected == pytest.approx(expected)
    assert row.low == pytest.approx(max(expected - th.ETR_WARNING_Z * sd, 0))
    assert row.high == pytest.approx(expected + th.ETR_WARNING_Z * sd)
