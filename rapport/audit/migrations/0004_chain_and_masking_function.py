"""Seal the existing trail into the hash chain; in PostgreSQL, masking through a function only.

- Every existing event gets its place and hashes (rapport.audit.chain), oldest first.
- The append-only trigger now allows an UPDATE only inside `audit_mask_client` (which sets
  rapport.audit_masking for its own statement), and then only of the masked columns: when, who,
  what and the chain stay as they were. (TRUNCATE is left to privileges: the application's role
  has none, and the owner must be able to flush a test database; the chain shows a truncation.)
- `audit_mask_client(client, object_codes, erasure)` is SECURITY DEFINER: it runs with the rights
  of the role that ran this migration (the owner), so the application's role, which may only
  INSERT into the trail (rapport.audit.roles), can still mask a client it has erased, and nothing
  else. It refuses unless the erasure is recorded.
"""

from django.db import migrations

FUNCTIONS = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND current_setting('rapport.audit_masking', true) = 'on'
       AND NEW.id = OLD.id AND NEW.at = OLD.at
       AND NEW.organisation_id IS NOT DISTINCT FROM OLD.organisation_id
       AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
       AND NEW.action = OLD.action AND NEW.object_type = OLD.object_type
       AND NEW.ip_address IS NOT DISTINCT FROM OLD.ip_address
       AND NEW.seq IS NOT DISTINCT FROM OLD.seq
       AND NEW.content_digest = OLD.content_digest AND NEW.row_hash = OLD.row_hash THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION audit_mask_client(p_client uuid, p_codes text[], p_erasure uuid)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
    masked integer;
    label text := 'client:' || p_client::text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM privacy_erasure WHERE code = p_erasure) THEN
        RAISE EXCEPTION 'no erasure % is recorded', p_erasure USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM set_config('rapport.audit_masking', 'on', true);
    UPDATE audit_auditevent SET
        client_code = NULL,
        object_code = '',
        actor_label = CASE WHEN actor_label = label THEN 'client:erased' ELSE actor_label END,
        detail = jsonb_build_object('masked_by_erasure', p_erasure::text)
    WHERE client_code = p_client OR actor_label = label
       OR detail::text LIKE '%' || p_client::text || '%'
       OR (object_code <> '' AND object_code = ANY(p_codes));
    GET DIAGNOSTICS masked = ROW_COUNT;
    PERFORM set_config('rapport.audit_masking', 'off', true);
    RETURN masked;
END;
$$;
REVOKE ALL ON FUNCTION audit_mask_client(uuid, text[], uuid) FROM PUBLIC;
"""

DROP = """
DROP FUNCTION IF EXISTS audit_mask_client(uuid, text[], uuid);
"""


def seal_existing(apps, schema_editor):
    from rapport.audit import chain

    AuditEvent = apps.get_model("audit", "AuditEvent")
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only")
    previous = chain.GENESIS
    for seq, event in enumerate(AuditEvent.objects.order_by("at", "id").iterator(chunk_size=2000), 1):
        event.seq = seq
        event.content_digest = chain.content_digest(event)
        event.row_hash = chain.row_hash(previous, event)
        AuditEvent.objects.filter(pk=event.pk).update(
            seq=event.seq, content_digest=event.content_digest, row_hash=event.row_hash)
        previous = event.row_hash
    if postgres:
        schema_editor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_append_only")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT quote_ident(current_schema())")
            schema = cursor.fetchone()[0]
        schema_editor.execute(FUNCTIONS.replace("{schema}", schema), params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_chain_fields"), ("privacy", "0001_initial")]
    operations = [
        migrations.RunPython(seal_existing, migrations.RunPython.noop),
        migrations.RunPython(forwards, backwards),
    ]
