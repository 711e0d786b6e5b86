"""The caseload: a fixed number of queries, urgent first, directions, check-ins, next session."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from rapport.alerts.services import transition
from rapport.checkins.models import When
from rapport.checkins.services import submission
from tests.conftest import login
from tests.workspace.conftest import (
    alert,
    gad7,
    new_episode,
    open_checkin,
    phq9,
    relationship,
    submit,
)

URL = reverse("care-caseload")


def populate(practice, start: int, count: int, *, therapist=None) -> None:
    """`count` episodes, each with two scores of each measure, an open check-in and an alert."""
    for n in range(start, start + count):
        episode, sessions = new_episode(practice, f"Client {n:03d}", therapist=therapist)
        for session, level in zip(sessions[:2], (12, 9), strict=True):
            submit(practice, episode, session, "phq9", phq9(level))
            submit(practice, episode, session, "relationship-checkin", relationship(level - 2))
        open_checkin(practice, episode, sessions[2])
        alert(practice, episode, ("urgent", "warning", "info")[n % 3])


def count_queries(http) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = http.get(URL)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


@pytest.mark.parametrize("who", ["therapist", "supervisor", "admin"])
def test_the_caseload_runs_a_fixed_number_of_queries(client, practice, who):
    populate(practice, 0, 5)
    login(client, getattr(practice, who))
    client.get(URL)  # warm-up: per-process caches
    at_5, response = count_queries(client)
    assert len(response.context["rows"]) == 5 + (who == "admin") + 1  # + the fixture episodes
    populate(practice, 5, 45)
    at_50, response = count_queries(client)
    rows = response.context["rows"]
    assert len(rows) == 50 + (who == "admin") + 1
    assert at_50 == at_5, f"{at_5} queries at 5 episodes, {at_50} at 50"
    mine = [r for r in rows if r.episode.client.name.startswith("Client ")]
    assert all(r.outcomes and r.relationship and r.next_session for r in mine)
    assert all(r.checkins_due == 1 for r in mine)
    if who == "admin":  # administers every episode, sees no alerts
        assert all(r.alerts == 0 for r in rows)
    else:
        assert all(r.alerts == 1 for r in mine)


def test_urgent_alerts_come_first_then_warnings_then_the_rest_then_by_name(client, practice):
    episodes = {}
    for name, severity in [("Aaron", None), ("Zed", "urgent"), ("Alice", "warning"),
                           ("Bea", "info"), ("Yan", "warning"), ("Carl", None)]:
        episodes[name], _ = new_episode(practice, name)
        if severity:
            alert(practice, episodes[name], severity)
    # An alert already resolved does not count; an acknowledged one still does.
    with scope(organisation=practice.org):
        done = alert(practice, episodes["Carl"], "urgent", kind="risk")
        transition(done, "resolved", note="Called the client; safe.", request=None)
        seen = alert(practice, episodes["Aaron"], "info", kind="alliance_dip")
        transition(seen, "acknowledged", request=None)
    login(client, practice.therapist)
    rows = client.get(URL).context["rows"]
    names = [r.episode.client.name for r in rows]
    assert names == ["Zed", "Alice", "Yan", "Aaron", "Bea", "Carl", practice.client.name]
    body = client.get(URL).content.decode()
    assert body.index("Zed") < body.index("Alice") < body.index("Yan") < body.index("Bea")


def test_names_sort_as_the_search_sorts_them_accents_and_case_aside(client, practice):
    """Names are decrypted and sorted in Python: "Álvaro" and "émile" sit among the A's and E's,
    not after "Zoë" (as code-point order would put them)."""
    for name in ("Zoë", "émile", "Álvaro", "bea", "Dan"):
        new_episode(practice, name)
    login(client, practice.therapist)
    names = [r.episode.client.name for r in client.get(URL).context["rows"]]
    ours = [n for n in names if n in ("Zoë", "émile", "Álvaro", "bea", "Dan")]
    assert ours == ["Álvaro", "bea", "Dan", "émile", "Zoë"]


def test_directions_follow_each_measure(client, practice):
    episode, sessions = new_episode(practice, "Dana", past=2)
    submit(practice, episode, sessions[0], "phq9", phq9(15))
    submit(practice, episode, sessions[1], "phq9", phq9(8))
    submit(practice, episode, sessions[0], "gad7", gad7(6))
    submit(practice, episode, sessions[1], "gad7", gad7(6))
    submit(practice, episode, sessions[0], "relationship-checkin", relationship(6))
    submit(practice, episode, sessions[1], "relationship-checkin", relationship(8))
    login(client, practice.therapist)
    response = client.get(URL)
    (row,) = [r for r in response.context["rows"] if r.episode == episode]
    phq, gad = row.outcomes
    assert (phq.measure.label, phq.value, phq.direction, phq.verdict) == ("PHQ-9", 8, "down", "better")
    assert phq.reliable  # 7 points, PHQ-9's reliable change is 6
    assert (gad.direction, gad.arrow) == ("same", "→")
    rel = row.relationship
    assert (rel.value, rel.direction, rel.arrow, rel.verdict) == (80, "up", "↑", "better")
    body = response.content.decode()
    # The arrow is hidden from screen readers; the words say it.
    assert '<span class="trend trend-better" aria-hidden="true">↓</span>' in body
    assert "down 7 from 15: better (lower is better), a reliable change" in body
    assert "up 20 from 60: better (higher is better)" in body
    assert "no change since 6" in body
    # The relationship column names itself (on a phone, as the cell's label): the score is not
    # labelled "Relationship" a second time.
    cell = re.search(r'<td data-label="Relationship">(.*?)</td>', body.split("Dana")[1], re.S).group(1)
    assert "Relationship" not in cell and "<strong>80</strong>" in cell


def test_worse_is_worse_whichever_way_the_measure_runs(client, practice):
    episode, sessions = new_episode(practice, "Eli", past=2)
    submit(practice, episode, sessions[0], "phq9", phq9(8))
    submit(practice, episode, sessions[1], "phq9", phq9(10))
    submit(practice, episode, sessions[0], "relationship-checkin", relationship(8))
    submit(practice, episode, sessions[1], "relationship-checkin", relationship(5))
    login(client, practice.therapist)
    (row,) = [r for r in client.get(URL).context["rows"] if r.episode == episode]
    assert (row.outcomes[0].direction, row.outcomes[0].verdict) == ("up", "worse")
    assert not row.outcomes[0].reliable
    assert (row.relationship.direction, row.relationship.verdict) == ("down", "worse")


def test_a_correction_replaces_the_score_it_supersedes(client, practice):
    episode, sessions = new_episode(practice, "Fay", past=2)
    submit(practice, episode, sessions[0], "phq9", phq9(12))
    wrong = submit(practice, episode, sessions[1], "phq9", phq9(20))
    with scope(organisation=practice.org):
        submission.submit(episode=episode, instrument_id="phq9", answers=phq9(10),
                        session=sessions[1], supersedes=wrong)
    login(client, practice.therapist)
    (row,) = [r for r in client.get(URL).context["rows"] if r.episode == episode]
    assert (row.outcomes[0].value, row.outcomes[0].previous) == (10, 12)


def test_due_and_missed_check_ins_and_the_next_session(client, practice):
    episode, sessions = new_episode(practice, "Gus", past=3, future=2)
    open_checkin(practice, episode, sessions[0], When.BEFORE)  # long past: missed
    open_checkin(practice, episode, sessions[1], When.AFTER)  # two weeks ago: missed
    open_checkin(practice, episode, sessions[2], When.AFTER)  # last week: still due
    open_checkin(practice, episode, sessions[3], When.BEFORE)  # next week: due
    answered = open_checkin(practice, episode, sessions[4], When.BEFORE)
    with scope(organisation=practice.org):
        answered.completed_at = timezone.now()
        answered.save()
    login(client, practice.therapist)
    response = client.get(URL)
    (row,) = [r for r in response.context["rows"] if r.episode == episode]
    assert (row.checkins_due, row.checkins_missed) == (2, 2)
    assert row.next_session == str(sessions[3].code)
    body = response.content.decode()
    assert "2 due" in body and "2 missed" in body
    assert reverse("care-session", args=[sessions[3].code]) in body


def test_the_supervisor_sees_the_team_and_the_admin_every_episode(client, practice, other_practice):
    new_episode(practice, "Team Client")
    new_episode(practice, "Colleague's Client", therapist=practice.colleague)
    new_episode(other_practice, "Elsewhere Client", therapist=other_practice.therapist)
    login(client, practice.supervisor)
    body = client.get(URL).content.decode()
    assert "Team Client" in body and "Colleague&#x27;s Client" not in body
    assert "Elsewhere Client" not in body
    login(client, practice.admin)
    body = client.get(URL).content.decode()
    assert "Team Client" in body and "Colleague&#x27;s Client" in body
    assert "Elsewhere Client" not in body
    assert "Administration" in body and reverse("audit-trail") in body
    login(client, practice.colleague)
    body = client.get(URL).content.decode()
    assert "Colleague&#x27;s Client" in body and "Team Client" not in body
