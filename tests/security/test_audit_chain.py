"""The audit trail's hash chain: `rapport manage verify_audit` detects any edit, deletion or
truncation, including one made by the database's owner, and accepts an erasure's masking."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from rapport.audit.models import AuditEvent
from rapport.privacy.services import erase_client
from tests.conftest import login


def _as_owner(sql: str, params=()) -> None:
    """What a database owner (or root on the machine) can do whatever the application may."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's own pending FK checks
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")


@pytest.fixture
def trail(client, practice):
    login(client, practice.therapist)
    for _ in range(3):
        client.get(reverse("care-episode", args=[practice.episode.code]))
        client.get(reverse("care-client", args=[practice.client.code]))
    events = list(AuditEvent.objects.order_by("seq"))
    assert len(events) >= 6
    return events


def _verify(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue()


def test_an_untouched_trail_is_intact_and_gapless(trail):
    assert [e.seq for e in trail] == list(range(1, len(trail) + 1))
    assert f"{len(trail)} events" in _verify()


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("UPDATE audit_auditevent SET action = 'care.nothing' WHERE seq = 3", "event 3 (id"),
        ("UPDATE audit_auditevent SET at = at - interval '1 day' WHERE seq = 2" if connection.vendor ==
         "postgresql" else "UPDATE audit_auditevent SET at = '2020-01-01 00:00:00' WHERE seq = 2",
         "event 2 (id"),
        ("UPDATE audit_auditevent SET actor_label = 'user:someone@else.test' WHERE seq = 4",
         "its content differs"),
        ("UPDATE audit_auditevent SET ip_address = '192.0.2.1' WHERE seq = 1", "event 1 (id"),
        ("DELETE FROM audit_auditevent WHERE seq = 3", "events 3 to 3 are missing"),
        ("DELETE FROM audit_auditevent WHERE seq = 1", "events 1 to 1 are missing"),
    ],
)
def test_an_edit_or_deletion_by_the_owner_is_detected(trail, sql, message):
    _as_owner(sql)
    with pytest.raises(CommandError, match="NOT intact") as error:
        _verify()
    assert message in str(error.value)


def test_truncation_is_detected_against_a_kept_checkpoint(trail, tmp_path):
    checkpoint = tmp_path / "audit.heads"
    _verify("--checkpoint", str(checkpoint))
    assert checkpoint.read_text().split()[0] == str(len(trail))
    _as_owner("DELETE FROM audit_auditevent WHERE seq >= %s", [len(trail) - 1])
    with pytest.raises(CommandError, match="the trail was truncated"):
        _verify("--checkpoint", str(checkpoint))
    _as_owner("DELETE FROM audit_auditevent")
    with pytest.raises(CommandError, match="the trail was truncated"):
        _verify("--checkpoint", str(checkpoint))


def test_a_rewritten_chain_is_detected_against_a_kept_checkpoint(trail, tmp_path):
    from rapport.audit import chain

    checkpoint = tmp_path / "audit.heads"
    _verify("--checkpoint", str(checkpoint))
    # The owner edits an event and recomputes every hash after it, as someone who read this code
    # would: the chain is consistent again, but no longer ends in the head that was kept.
    _as_owner("UPDATE audit_auditevent SET action = 'care.nothing' WHERE seq = 2")
    previous = chain.GENESIS
    for event in AuditEvent.objects.order_by("seq"):
        digest, row = chain.content_digest(event), None
        event.content_digest = digest
        row = chain.row_hash(previous, event)
        _as_owner("UPDATE audit_auditevent SET content_digest = %s, row_hash = %s WHERE id = %s",
                  [digest, row, event.pk])
        previous = row
    assert "intact" in _verify()  # without the checkpoint nothing can tell
    with pytest.raises(CommandError, match="no longer has the checkpoint's hash"):
        _verify("--checkpoint", str(checkpoint))


def test_erasure_masking_keeps_the_chain_intact(trail, practice, tmp_path):
    checkpoint = tmp_path / "audit.heads"
    _verify("--checkpoint", str(checkpoint))
    erase_client(practice.client, by=practice.admin)
    assert AuditEvent.objects.filter(detail__has_key="masked_by_erasure").count() >= 6
    assert "intact" in _verify("--checkpoint", str(checkpoint))


def test_a_forged_masking_is_detected(trail):
    _as_owner("UPDATE audit_auditevent SET client_code = NULL, object_code = '', "
              "detail = '{\"masked_by_erasure\": \"00000000-0000-0000-0000-000000000000\"}' WHERE seq = 2")
    with pytest.raises(CommandError, match="event 2 .* its content differs"):
        _verify()


def _mask_as_owner(event_id: int, erasure_code) -> None:
    _as_owner("UPDATE audit_auditevent SET client_code = NULL, object_code = '', detail = %s "
              "WHERE id = %s", [f'{{"masked_by_erasure": "{erasure_code}"}}', event_id])


def test_a_masking_in_the_name_of_an_erasure_the_trail_never_announced_is_detected(trail, practice):
    """The erasure table is the application's to write: a row there proves nothing."""
    from rapport.privacy.models import Erasure

    fake = Erasure.objects.create(organisation=practice.org, trigger="request",
                                  kept_deidentified_scores=False)
    _mask_as_owner(trail[1].pk, fake.code)
    with pytest.raises(CommandError, match=f"event {trail[1].seq} .* its content differs"):
        _verify()


def test_an_erasure_reused_to_mask_another_clients_events_is_detected(trail, practice, client):
    login(client, practice.colleague)
    client.get(reverse("care-client", args=[practice.colleague_client.code]))
    theirs = AuditEvent.objects.filter(client_code=practice.colleague_client.code).latest("seq")
    erasure = erase_client(practice.client, by=practice.admin)
    assert "intact" in _verify()
    _mask_as_owner(theirs.pk, erasure.code)
    with pytest.raises(CommandError, match=f"erasure {erasure.code}.*masked in its name"):
        _verify()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the function is PostgreSQL's")
def test_the_head_function_takes_the_same_lock_as_every_other_append(trail):
    """audit_chain_head() (migration audit 0006) writes the lock's key out: it must be the one
    `chain.lock()` takes (masking), or the two would not exclude each other."""
    from rapport.audit import chain

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_functiondef('audit_chain_head'::regproc)")
        (definition,) = cursor.fetchone()
        cursor.execute(f"SELECT seq, row_hash FROM {chain.HEAD_FUNCTION}")
        head = cursor.fetchone()
    assert f"pg_advisory_xact_lock({chain.LOCK_KEY})" in definition
    assert head == AuditEvent.objects.order_by("-seq").values_list("seq", "row_hash").first()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the function is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_the_head_function_holds_the_append_lock_until_the_transaction_ends():
    """Another connection cannot take the append lock while a transaction that read the head
    is open, and can once it ends."""
    import psycopg
    from django.db import transaction

    from rapport.audit import chain

    params = {k: v for k, v in connection.get_connection_params().items()
              if k not in ("context", "cursor_factory")}  # Django's adapters for its own
    with psycopg.connect(**params, autocommit=True) as other:
        def free() -> bool:
            taken = other.execute("SELECT pg_try_advisory_lock(%s)", [chain.LOCK_KEY]).fetchone()[0]
            if taken:
                other.execute("SELECT pg_advisory_unlock(%s)", [chain.LOCK_KEY])
            return taken

        assert free()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT seq, row_hash FROM {chain.HEAD_FUNCTION}")
            assert not free()
        assert free()
