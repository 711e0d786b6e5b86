"""Who sees which figures, the audit trail, and bad periods."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from rapport.accounts.models import Membership, Role
from rapport.audit.models import AuditEvent
from tests.analytics.conftest import PERIOD, add_sessions, cells, columns, new_episode, scores
from tests.conftest import login

URL = "analytics-overview"


def _get(client, user, params=PERIOD):
    return login(client, user).get(reverse(URL), params)


def _active(response) -> list[str]:
    return [c.value for c in cells(response, "Caseload", "Episodes active")]


def _attended(response) -> list[str]:
    return [c.value for c in cells(response, "Caseload", "Sessions attended")]


def test_a_therapist_sees_their_own_clients_beside_the_practice(client, known):
    response = _get(client, known.practice.therapist)
    assert columns(response) == ["Your clients", "Practice"]
    assert _attended(response) == ["20", "23"]
    assert response.context["breakdown"] == []


def test_a_colleague_sees_only_their_own(client, known):
    response = _get(client, known.practice.colleague)
    assert columns(response) == ["Your clients", "Practice"]
    assert _attended(response) == ["3", "23"]
    assert [c.value for c in cells(response, "Caseload", "Episodes ended")] == ["1", "2"]


def test_a_supervisor_sees_their_team_with_a_breakdown_by_therapist(client, known):
    p = known.practice
    response = _get(client, p.supervisor)
    assert columns(response) == ["Your team", "Practice"]
    assert _attended(response) == ["20", "23"]  # the supervisee's, not the colleague's
    names = [t["name"] for t in response.context["breakdown"]]
    assert names == [p.therapist.name]
    body = response.content.decode()
    assert "By therapist" in body and p.colleague.name not in body


def test_a_supervisor_who_also_treats_sees_themself_in_the_team(client, known):
    p = known.practice
    with scopes_disabled():
        Membership.objects.create(organisation=p.org, user=p.supervisor, role=Role.THERAPIST)
    with scope(organisation=p.org):
        ep = new_episode(p, p.supervisor, "Supervisor's Client", started=date(2026, 9, 1))
        add_sessions(ep, 2)
    response = _get(client, p.supervisor)
    assert _attended(response) == ["22", "25"]
    rows = response.context["breakdown"]
    assert sorted((t["name"], t["you"]) for t in rows) == sorted(
        [(p.therapist.name, False), (p.supervisor.name, True)])


def test_an_admin_sees_the_practice_only(client, known):
    response = _get(client, known.practice.admin)
    assert columns(response) == ["Practice"]
    assert response.context["breakdown"] == []
    assert response.context["scope"] == "practice"


def test_no_client_is_named_to_anyone(client, known):
    p = known.practice
    with scope(organisation=p.org):
        names = [e.client.name for e in (known.improver, known.deteriorator, known.dropout, known.colleague)]
    for user in (p.admin, p.supervisor, p.therapist, p.colleague):
        body = _get(client, user).content.decode()
        assert not [n for n in names if n in body]


def test_another_practice_never_sees_these_figures(client, known, other_practice):
    response = _get(client, other_practice.admin)
    assert _active(response) == ["2"]  # its own two fixture episodes
    assert _attended(response) == ["0"]  # none of ours
    response = _get(client, other_practice.therapist)
    assert _active(response) == ["1", "2"]


def test_a_user_without_a_practice_gets_nothing(client, db, django_user_model):
    loner = django_user_model.objects.create_user("loner@nowhere.test", "x", name="Loner")
    assert _get(client, loner).status_code == 404


def test_the_view_is_audited_without_client_data(client, known):
    p = known.practice
    _get(client, p.supervisor)
    with scopes_disabled():
        event = AuditEvent.objects.get(action="analytics.viewed")
    assert event.actor == p.supervisor and event.organisation == p.org
    assert event.client_code is None and event.object_code == ""
    assert event.detail == {"from": "2026-01-01", "to": "2026-11-20", "scope": "team"}


def test_without_parameters_the_last_twelve_months_are_shown(client, known):
    with time_machine.travel("2026-11-21 12:00Z", tick=False):
        response = _get(client, known.practice.admin, {})
    period = response.context["period"]
    assert (str(period.date_from), str(period.date_to)) == ("2025-11-22", "2026-11-21")
    assert _attended(response) == ["23"]


@pytest.mark.parametrize(("params", "message"), [
    ({"date_from": "2026-13-45", "date_to": "2026-11-20"}, "Enter the first day as a date"),
    ({"date_from": "2026-01-01", "date_to": "tomorrow"}, "Enter the last day as a date"),
    ({"date_from": "", "date_to": "2026-11-20"}, "Enter the first day of the period."),
    ({"date_from": "2026-11-20", "date_to": "2026-01-01"}, "The period starts after it ends"),
    ({"date_from": "0001-01-01", "date_to": "9999-12-31"}, "Choose a date between 1990 and 2100."),
])
def test_a_bad_period_gets_a_clear_message_and_no_figures(client, known, params, message):
    response = _get(client, known.practice.therapist, params)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "tables" not in response.context
    with scopes_disabled():
        assert not AuditEvent.objects.filter(action="analytics.viewed").exists()


def test_scores_after_the_period_do_not_change_it(client, known):
    p = known.practice
    before = _get(client, p.admin).context["tables"]
    with scope(organisation=p.org):
        later = add_sessions(known.deteriorator, 1, start=datetime(2026, 11, 24, tzinfo=UTC))
        scores(later, "phq9", [2])
    after = _get(client, p.admin).context["tables"]
    assert before == after
