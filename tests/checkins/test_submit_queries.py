"""What one check-in answer costs the database: the queries of a submission through its link
are pinned, so that a change adding one to the hot path shows here (issue 10).

A one-questionnaire check-in, answered by a client who has consented, in a fresh browser:
the link with the client's consent, whether the check-in has drafts and whether the practice
has webhook endpoints (1), then in one transaction the response, the check-in completed and its
link used up (one statement on PostgreSQL, three elsewhere), the audit chain's lock and head
(on PostgreSQL a statement of its own, sent in the same round trip as the one before: the lock
is taken after the answer's row locks), the audit event, the findings refresh counted.
No session: the browser remembers what it finished and its language in cookies. No draft to
delete and no webhook subscription to look up: the link's query said there are none. The savepoint around the transaction is the test's own
(a request runs it as BEGIN/COMMIT). A risk answer adds the urgent alert with its audit event
and the crisis resources on the thank-you page, and the therapist's language for the alert's
saved suggestions: that path stays synchronous on purpose.

Before issue 10's item 3 (same test): 15 (+1 on PostgreSQL) for an answer, 27 (+2) with risk;
then 13 and 24 until the browser's session (4 queries) gave way to cookies.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from rapport.alerts.models import Alert
from rapport.care.models import Client
from rapport.checkins.models import CheckIn, Invitation, Response
from rapport.core.fields import EncryptedDateField, EncryptedTextField
from tests.checkins.conftest import PHQ9_MILD, accept_consent, make_checkin, make_link, phq9_post

RISK = PHQ9_MILD | {"phq9-9": 2}
PG = connection.vendor == "postgresql"


def _answer(web, link, answers):
    web.get(link)  # the form, as a browser shows it first (and the CSRF cookie)
    data = {**phq9_post(answers, token="5b0c1a43-52de-4bd1-9bd8-0c4cdf1e2a10"),
            "csrfmiddlewaretoken": web.cookies["csrftoken"].value}
    with CaptureQueriesContext(connection) as queries:
        page = web.post(link, data)
    return page, [q["sql"] for q in queries.captured_queries]


@pytest.mark.parametrize(("answers", "sqlite", "postgresql"),
                         [(PHQ9_MILD, 9, 7), (RISK, 20, 18)], ids=["mild", "risk"])
def test_answering_a_checkin_takes_a_pinned_number_of_queries(practice, web, answers, sqlite,
                                                              postgresql):
    accept_consent(practice)
    checkin = make_checkin(practice, instruments=("phq9",))
    link = make_link(practice, checkin)
    page, sql = _answer(web, link, answers)
    assert page.status_code == 200 and b"your answers have been sent" in page.content
    assert len(sql) == (postgresql if PG else sqlite), "\n".join(sql)
    # The client's encrypted columns are neither read nor decrypted to answer a link: not
    # named through the table, nor through any alias a statement gives it.
    table = f'"{Client._meta.db_table}"'
    private = [f'"{field.column}"' for field in Client._meta.fields
               if isinstance(field, EncryptedTextField | EncryptedDateField)]
    assert len(private) >= 6
    read = [(query[:60], column) for query in sql
            for name in [table, *re.findall(rf'{table}\s+(?:AS\s+)?(\w+)', query)]
            for column in private if f"{name}.{column}" in query]
    assert not read
    # ... and everything was done that the queries are for.
    with scope(organisation=[practice.org]):
        checkin = CheckIn.objects.get(pk=checkin.pk)
        assert checkin.is_complete
        assert not Invitation.objects.filter(checkin=checkin, used_at__isnull=True).exists()
        (response,) = Response.objects.filter(checkin=checkin)
        assert Alert.objects.filter(episode=practice.episode, kind="risk").exists() == \
            response.is_risk
    assert (b"Your therapist has been alerted" in page.content) == response.is_risk


def test_a_two_questionnaire_checkin_is_completed_under_its_lock(practice, web):
    """The first step leaves the check-in open; the second completes it (the locked path)."""
    accept_consent(practice)
    checkin = make_checkin(practice, instruments=("phq9", "gad7"))
    link = make_link(practice, checkin)
    page, _ = _answer(web, link, PHQ9_MILD)
    assert page.status_code == 302
    with scope(organisation=[practice.org]):
        checkin.refresh_from_db()
        assert not checkin.is_complete
        assert Invitation.objects.filter(checkin=checkin, used_at__isnull=True).exists()


@pytest.mark.skipif(not PG, reason="prepared statements are PostgreSQL's")
def test_the_links_statement_is_prepared_on_the_connection(practice, web):
    """Planned once per connection, not on every answer (rapport.core.statements): it took the
    server longer to plan than to run."""
    accept_consent(practice)
    link = make_link(practice, make_checkin(practice, instruments=("phq9",)))
    for _ in range(3):
        assert web.get(link).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        prepared = cursor.fetchall()
    runs = [count for statement, count in prepared if "token_hash" in statement]
    assert runs == [3], prepared
