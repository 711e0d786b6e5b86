"""The page costs the same number of queries for a small and a large caseload."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope

from tests.analytics.conftest import PERIOD, add_sessions, checkin, new_episode, scores
from tests.conftest import login

# 20 for a supervisor on a cold cache (21 on PostgreSQL): the request's own 5 (session, user,
# two-factor device, organisations, roles), the page's 11 (episodes, sessions, responses,
# check-ins; the practice's expected-treatment-response curves, 2 on a cold cache; supervised
# therapists and the team's episode ids; the audit event and the chain's head before it, plus
# PostgreSQL's advisory lock: rapport.audit.chain), the urgent-alerts banner's 2 and the session
# save's 2.
MAX_QUERIES = 21 if connection.vendor == "postgresql" else 20


def _grow(practice, episodes: int) -> None:
    with scope(organisation=practice.org):
        for i in range(episodes):
            therapist = practice.therapist if i % 2 else practice.colleague
            ep = new_episode(practice, therapist, f"Client {i}", started=date(2026, 6, 1))
            sessions = add_sessions(ep, 6)
            scores(sessions, "phq9", [18, 16, 15, 12, 11, 9 + i % 5])
            scores(sessions, "gad7", [14, 12, 12, 10, 9, 8])
            scores(sessions, "relationship-checkin", [80, 82, 40, 81, 80, 79])
            for s in sessions[:3]:
                checkin(s, done=bool(i % 3))


def _queries(client, user) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("analytics-overview"), PERIOD)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["supervisor", "admin"])
def test_the_query_count_does_not_grow_with_the_caseload(client, practice, django_assert_max_num_queries, who):
    user = getattr(practice, who)
    login(client, user)
    _grow(practice, 3)
    with django_assert_max_num_queries(MAX_QUERIES):
        small = _queries(client, user)
    _grow(practice, 40)
    with django_assert_max_num_queries(MAX_QUERIES):
        large = _queries(client, user)
    assert small == large
    # The large practice really was analysed: its figures are there.
    response = client.get(reverse("analytics-overview"), PERIOD)
    practice_cells = response.context["tables"][0]["rows"][0]["cells"]
    assert practice_cells[-1].n == 45
