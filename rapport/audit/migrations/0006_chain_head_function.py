"""`audit_chain_head()`: the audit chain's append lock and its head in one statement (PostgreSQL).

Appending an event takes a transaction-level advisory lock, then reads the newest event's seq and
row_hash (rapport.audit.chain). Two statements, because a statement's snapshot is taken when it
starts: read in the statement that waited for the lock, the head would miss the event the
previous holder committed meanwhile. A VOLATILE PL/pgSQL function takes a new snapshot for each
query it runs (READ COMMITTED), so the read after its PERFORM sees that event: the lock and the
head are one statement, which a caller may prepare and may run inside its own statement (the
check-in's answer does: rapport.checkins.services.submission).
"""

from django.db import migrations

# rapport.audit.chain.LOCK_KEY ("RAPPORT1"), written out: a migration does not import the code.
FUNCTION = """
CREATE OR REPLACE FUNCTION audit_chain_head(OUT seq bigint, OUT row_hash varchar)
LANGUAGE plpgsql VOLATILE SET search_path = {schema}, pg_temp AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(5927106890454684721);
    SELECT e.seq, e.row_hash INTO seq, row_hash FROM audit_auditevent e
    WHERE e.seq IS NOT NULL ORDER BY e.seq DESC LIMIT 1;
END $$;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT quote_ident(current_schema())")
            schema = cursor.fetchone()[0]
        schema_editor.execute(FUNCTION.replace("{schema}", schema), params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS audit_chain_head();", params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_masking_bound_to_its_announcement")]
    operations = [migrations.RunPython(forwards, backwards)]
