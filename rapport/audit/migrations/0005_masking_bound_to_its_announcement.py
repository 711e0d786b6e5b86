"""Masking bound to the erasure's announcement in the trail (rapport.audit.masking).

`audit_mask_client(client, object_codes, erasure)` only checked that an erasure row existed, and
the application's role may insert such rows: a compromised application could mask any client's
events, or reuse an old erasure, and verify_audit accepted it. `audit_mask_events(erasure,
client, ids)` masks the listed events only when the chain's newest event is that erasure's
announcement and its digests of the client's code and of the ids, and its count, match.
"""

import importlib

from django.db import migrations

FUNCTION = """
DROP FUNCTION IF EXISTS audit_mask_client(uuid, text[], uuid);

CREATE OR REPLACE FUNCTION audit_mask_events(p_erasure uuid, p_client uuid, p_ids bigint[])
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_temp AS $$
DECLARE
    masked integer;
    label text := 'client:' || p_client::text;
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM audit_auditevent
        WHERE seq = (SELECT max(seq) FROM audit_auditevent)
          AND action = 'privacy.client.erased' AND object_code = p_erasure::text
          AND detail->>'client' = encode(sha256(convert_to(p_client::text, 'UTF8')), 'hex')
          AND detail->>'events' = encode(sha256(convert_to(
                  array_to_string(ARRAY(SELECT unnest(p_ids) ORDER BY 1), ','), 'UTF8')), 'hex')
          AND detail->>'events_masked' = cardinality(p_ids)::text
    ) THEN
        RAISE EXCEPTION 'erasure % is not the trail''s newest event, or it announced other events',
            p_erasure USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM set_config('rapport.audit_masking', 'on', true);
    UPDATE audit_auditevent SET
        client_code = NULL,
        object_code = '',
        actor_label = CASE WHEN actor_label = label THEN 'client:erased' ELSE actor_label END,
        detail = jsonb_build_object('masked_by_erasure', p_erasure::text)
    WHERE id = ANY(p_ids);
    GET DIAGNOSTICS masked = ROW_COUNT;
    PERFORM set_config('rapport.audit_masking', 'off', true);
    RETURN masked;
END;
$$;
REVOKE ALL ON FUNCTION audit_mask_events(uuid, uuid, bigint[]) FROM PUBLIC;
"""


def _schema(schema_editor) -> str:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT quote_ident(current_schema())")
        return cursor.fetchone()[0]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION.replace("{schema}", _schema(schema_editor)), params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        before = importlib.import_module("rapport.audit.migrations.0004_chain_and_masking_function")
        schema_editor.execute("DROP FUNCTION IF EXISTS audit_mask_events(uuid, uuid, bigint[]);", params=None)
        schema_editor.execute(before.FUNCTIONS.replace("{schema}", _schema(schema_editor)), params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_chain_and_masking_function")]
    operations = [migrations.RunPython(forwards, backwards)]
