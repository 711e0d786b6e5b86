"""PostgreSQL: the application's role may only append to the audit trail (rapport.audit.roles).

Each test creates its own application role inside the test's transaction (named after the
test database, so parallel workers never share one) and switches to it with SET LOCAL ROLE:
privileges are checked against it exactly as for a connection that logged in as it. The
transaction is rolled back at the end, taking the role and its grants with it.
"""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from rapport.audit.models import AuditEvent
from rapport.audit.roles import app_role_problems, grant_app_role
from rapport.privacy.services import erase_client
from tests.conftest import login

pytestmark = pytest.mark.postgres


@pytest.fixture
def app_role(db):
    if connection.vendor != "postgresql":
        pytest.skip("database roles are PostgreSQL's: set RAPPORT_DATABASE_URL (CI runs this)")
    role = connection.settings_dict["NAME"].removeprefix("test_") + "_app"
    with connection.cursor() as cursor:
        cursor.execute("SELECT quote_ident(%s)", [role])
        quoted = cursor.fetchone()[0]
        # Idempotent: a role left by an interrupted run, or made by another worker, is reused.
        cursor.execute(f"""DO $$ BEGIN CREATE ROLE {quoted} NOLOGIN;
                           EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$""")
    grant_app_role(role)
    return role, quoted


def _as_app(quoted: str, sql: str, params=()) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {quoted}")  # undone with the savepoint if `sql` fails
        cursor.execute(sql, params)
        cursor.execute("RESET ROLE")


@pytest.fixture
def events(client, practice):
    login(client, practice.therapist)
    client.get(reverse("care-episode", args=[practice.episode.code]))
    client.get(reverse("care-client", args=[practice.client.code]))
    return list(AuditEvent.objects.order_by("seq"))


@pytest.mark.parametrize(
    "attack",
    [
        "UPDATE audit_auditevent SET action = 'x'",
        "DELETE FROM audit_auditevent",
        "TRUNCATE audit_auditevent",
        "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL",
        "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only",
        "SET LOCAL rapport.audit_masking = 'on'; UPDATE audit_auditevent SET action = 'x'",
        "DROP TABLE audit_auditevent",
        "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$ "
        "BEGIN RETURN NEW; END $$ LANGUAGE plpgsql",
    ],
)
def test_the_application_role_cannot_rewrite_the_trail(app_role, events, attack):
    _, quoted = app_role
    before = [(e.pk, e.action, e.row_hash) for e in AuditEvent.objects.order_by("seq")]
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's own pending FK checks
    with pytest.raises(DatabaseError, match="permission denied|must be owner|append-only"):
        _as_app(quoted, attack)
    assert [(e.pk, e.action, e.row_hash) for e in AuditEvent.objects.order_by("seq")] == before


def test_the_application_role_can_append_and_read(app_role, events, practice):
    _, quoted = app_role
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {quoted}")
        event = AuditEvent.objects.create(actor_label="system", action="test.appended")
        assert AuditEvent.objects.filter(pk=event.pk).exists()
        cursor.execute("RESET ROLE")
    assert event.seq == events[-1].seq + 1


def test_the_application_role_masks_an_erased_client_only_through_the_function(app_role, events,
                                                                                 practice):
    _, quoted = app_role
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {quoted}")
        erasure = erase_client(practice.client, by=practice.admin)
        cursor.execute("RESET ROLE")
    assert erasure.counts["audit.events_masked"] >= 2
    assert not AuditEvent.objects.filter(client_code=practice.client.code).exists()


def test_the_masking_function_masks_nothing_but_what_its_erasure_announced(app_role, events,
                                                                          practice, client):
    """A compromised application (the app role) can write erasure rows and call the function:
    neither an erasure row of its own nor an old erasure gets another client's events masked."""
    from rapport.privacy.models import Erasure

    _, quoted = app_role
    login(client, practice.colleague)
    client.get(reverse("care-client", args=[practice.colleague_client.code]))
    theirs = list(AuditEvent.objects.filter(client_code=practice.colleague_client.code)
                  .values_list("pk", flat=True))
    erasure = erase_client(practice.client, by=practice.admin)  # the newest event: its announcement
    fake = Erasure.objects.create(organisation=practice.org, trigger="request",
                                  kept_deidentified_scores=False)
    for erasure_code in (erasure.code, fake.code):
        with pytest.raises(DatabaseError, match="newest event, or it announced other events"):
            _as_app(quoted, "SELECT audit_mask_events(%s, %s, %s::bigint[])",
                    [erasure_code, practice.colleague_client.code, theirs])
    assert AuditEvent.objects.filter(pk__in=theirs, client_code=practice.colleague_client.code).count() \
        == len(theirs)


def test_even_the_owner_cannot_mask_what_is_not_masked_content(events):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's trigger")
    for sql in ("UPDATE audit_auditevent SET ip_address = NULL",
                "UPDATE audit_auditevent SET action = 'x'", "DELETE FROM audit_auditevent"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
                connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's own pending FK checks
            cursor.execute("SET LOCAL rapport.audit_masking = 'on'")
            cursor.execute(sql)


def test_granted_role_passes_the_check_and_the_owner_does_not(app_role):
    role, _ = app_role
    assert app_role_problems(role) == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]
    assert app_role_problems(owner)  # the owner (here a superuser) is no application role


def test_the_grants_pass_over_a_function_a_migration_back_removed(app_role):
    """`migrate audit 0005` drops audit_chain_head(); the grants that follow every migrate must
    not fail on it (the test's transaction puts it back)."""
    role, _ = app_role
    with connection.cursor() as cursor:
        cursor.execute("DROP FUNCTION audit_chain_head()")
    grant_app_role(role)
    assert app_role_problems(role) == []
