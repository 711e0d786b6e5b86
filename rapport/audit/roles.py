"""Two PostgreSQL roles: the owner runs migrations; the application may only append to the trail.

Set RAPPORT_DATABASE_APP_ROLE to the application's role when running `rapport manage migrate`
as the owner: after every migrate the application role is granted what the site needs on every
table, and on the audit table only SELECT and INSERT (no UPDATE, DELETE, TRUNCATE or TRIGGER;
not being the owner it cannot ALTER the table or disable its triggers). Erasure masks the trail
through audit_mask_events, a SECURITY DEFINER function owned by the owner, and only the events
its announcement in the trail names (rapport.audit.masking). See SECURITY.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connections

AUDIT_TABLE = "audit_auditevent"
MASK_FUNCTION = "audit_mask_events(uuid, uuid, bigint[])"
HEAD_FUNCTION = "audit_chain_head()"  # the append lock and the head (rapport.audit.chain)


def grant_app_role(role: str, using: str = "default") -> None:
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute("SELECT quote_ident(%s), quote_ident(current_schema())", [role])
        role_sql, schema = cursor.fetchone()
        cursor.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role_sql}")
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role_sql}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role_sql}")
        cursor.execute(f"REVOKE ALL ON {AUDIT_TABLE} FROM {role_sql}")
        cursor.execute(f"GRANT SELECT, INSERT ON {AUDIT_TABLE} TO {role_sql}")
        for function in (MASK_FUNCTION, HEAD_FUNCTION):
            # Absent after migrating back past the migration that made it: nothing to grant.
            cursor.execute("SELECT to_regprocedure(%s) IS NOT NULL", [function])
            if cursor.fetchone()[0]:
                cursor.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {role_sql}")


def app_role_problems(role: str, using: str = "default") -> list[str]:
    """What the application role may do to the trail that it must not (empty when none)."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            return [f"the role {role} does not exist"]
        cursor.execute(
            "SELECT rolsuper OR rolbypassrls, pg_get_userbyid(c.relowner) = %s "
            "FROM pg_roles, pg_class c WHERE rolname = %s AND c.oid = %s::regclass",
            [role, role, AUDIT_TABLE],
        )
        superuser, owner = cursor.fetchone()
        problems = []
        if superuser:
            problems.append(f"{role} is a superuser")
        if owner:
            problems.append(f"{role} owns {AUDIT_TABLE} (it can disable its triggers)")
        for privilege in ("UPDATE", "DELETE", "TRUNCATE", "TRIGGER"):
            cursor.execute("SELECT has_table_privilege(%s, %s, %s)", [role, AUDIT_TABLE, privilege])
            if cursor.fetchone()[0]:
                problems.append(f"{role} has {privilege} on {AUDIT_TABLE}")
    return problems


def on_post_migrate(sender, using="default", **kwargs) -> None:
    role = getattr(settings, "DATABASE_APP_ROLE", "")
    if role and connections[using].vendor == "postgresql" and sender.name == "rapport.audit":
        grant_app_role(role, using)
