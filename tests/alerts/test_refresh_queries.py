"""What one findings refresh costs the database: the statements of the worker's task
(`pending.refresh`) are pinned, so that a change adding one to it shows here (issue 10: the
Celery worker shares the machine with the web processes, so every refresh's CPU and statements
count against a check-in submission).

A refresh of an episode whose rupture alert is still seen, after one more response: the claim
with the counts it read (1), the episode with its practice and client (1), the sessions,
responses and client check-ins (3, sent together with the BEGIN on PostgreSQL: one round trip,
rapport.alerts.reads.together), the episode's lock (PostgreSQL only: SQLite serialises
writers), its alerts and their latest evidence (1 + 2), the unchanged alerts' `last_seen_at`
(1), and the episode recorded as done and released with whether it is behind again (1). The
savepoint around the recompute is the test's own (a worker runs it as BEGIN/COMMIT).

Before (same test, two alerts): 16 on both, and a savepoint of the sync's own. The claim read
its counts in a statement of its own, the episode was read with the client's and the episode's
encrypted columns, the sync read the alert steps (only a repair needs them), each alert's
latest evidence apart, ran an UPDATE of the alerts no longer seen when none was, and done, the
release and the final check were three statements.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from rapport.alerts import pending
from rapport.alerts.models import Alert
from rapport.care.models import CareEpisode, Client
from rapport.core.fields import EncryptedDateField, EncryptedTextField
from tests.alerts.conftest import add_sessions
from tests.alerts.test_incremental import submit

PG = connection.vendor == "postgresql"


@pytest.fixture
def sessions(practice):
    return [practice.session, *add_sessions(practice, 7)]


def _rupture(practice) -> Alert:
    with scope(organisation=practice.org):
        (alert,) = Alert.objects.filter(episode=practice.episode, kind="rupture")
        return alert


def test_a_refresh_takes_a_pinned_number_of_statements(practice, sessions):
    for s, level in zip(sessions[:5], (8, 9, 8, 9, 2), strict=True):
        submit(practice, s, level)
    assert pending.refresh(practice.episode.pk) == "done"
    before = _rupture(practice)
    submit(practice, sessions[5], 2)  # still a rupture, with the same evidence
    with CaptureQueriesContext(connection) as queries:
        assert pending.refresh(practice.episode.pk) == "done"
    sql = [q["sql"] for q in queries.captured_queries]
    savepoints = [s for s in sql if "SAVEPOINT" in s]
    assert len(savepoints) == 2, "\n".join(sql)  # the test's own (see above): one, released
    statements = [s for s in sql if "SAVEPOINT" not in s]
    assert len(statements) == (10 if PG else 9), "\n".join(sql)
    # ... and the refresh did what the statements are for.
    after = _rupture(practice)
    assert (after.pk, after.key, after.ongoing) == (before.pk, before.key, True)
    assert after.last_seen_at > before.last_seen_at
    assert pending.refresh(practice.episode.pk) == "clean"
    # The encrypted columns of the client and the episode are neither read nor decrypted: not
    # named through their table, nor through any alias a statement gives it.
    read = []
    for model in (Client, CareEpisode):
        table = f'"{model._meta.db_table}"'
        private = [f'"{f.column}"' for f in model._meta.fields
                   if isinstance(f, EncryptedTextField | EncryptedDateField)]
        assert private
        read += [(query[:60], column) for query in sql
                 for name in [table, *re.findall(rf'{table}\s+(?:AS\s+)?(\w+)', query)]
                 for column in private if f"{name}.{column}" in query]
    assert not read
