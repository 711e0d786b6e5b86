"""`rapport backup` and `rapport restore`: a backup restored into a fresh database is identical."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from rapport.core import backup as backups
from tests.conftest import make_practice


def _snapshot(db: dict) -> dict[str, list[tuple]]:
    """Every row of every table, straight from the database, in a comparable form."""
    rows = {}
    if db["ENGINE"].endswith("sqlite3"):
        con = backups._sqlite_connect(db)
        try:
            for table in backups.model_tables():
                rows[table] = sorted(map(repr, con.execute(f'SELECT * FROM "{table}"').fetchall()))
        finally:
            con.close()
        return rows
    import psycopg

    with psycopg.connect(**backups._pg_kwargs(db)) as con:
        for table in backups.model_tables():
            rows[table] = sorted(map(repr, con.execute(f'SELECT * FROM "{table}"').fetchall()))
    return rows


@pytest.fixture
def fresh_db(tmp_path):
    """Settings for a new, empty database of the same engine, migrated by the restore itself."""
    source = connection.settings_dict
    if source["ENGINE"].endswith("sqlite3"):
        yield {"ENGINE": source["ENGINE"], "NAME": str(tmp_path / "fresh.sqlite3")}
        return
    import psycopg

    name = f"rapport_restore_{uuid.uuid4().hex[:10]}"
    admin = {**backups._pg_kwargs(source), "dbname": "postgres", "autocommit": True}
    with psycopg.connect(**admin) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    yield {**source, "NAME": name}
    with psycopg.connect(**admin) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.django_db(transaction=True)
def test_backup_restores_every_table_into_a_fresh_database(tmp_path, fresh_db):
    make_practice("Riverside")
    make_practice("Hillside")
    path = tmp_path / "rapport.backup"
    manifest = backups.backup(path)
    assert manifest.tables["care_client"] == 4
    assert json.loads(Path(str(path) + ".json").read_text())["tables"]["care_client"] == 4
    assert path.stat().st_mode & 0o077 == 0

    backups.restore(path, fresh_db)
    assert _snapshot(fresh_db) == _snapshot(connection.settings_dict)


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_database_with_data(tmp_path):
    make_practice("Riverside")
    path = tmp_path / "rapport.backup"
    backups.backup(path)
    with pytest.raises(backups.BackupError, match="not empty"):
        backups.restore(path)


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_when_the_keys_are_missing(tmp_path, fresh_db, settings):
    make_practice("Riverside")
    path = tmp_path / "rapport.backup"
    backups.backup(path)
    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(backups.BackupError, match="encryption keys that are not configured"):
        backups.restore(path, fresh_db)
    assert backups._is_empty(fresh_db)


def test_restore_needs_the_manifest(tmp_path, db):
    path = tmp_path / "lonely.backup"
    path.write_bytes(b"x")
    with pytest.raises(backups.BackupError, match="no manifest"):
        backups.restore(path)


def test_commands_report_clear_errors(tmp_path, db):
    with pytest.raises(CommandError, match="no backup at"):
        call_command("restore", str(tmp_path / "nothing"))


@pytest.mark.django_db(transaction=True)
def test_backup_command_says_where_the_keys_are_not(tmp_path, capsys):
    call_command("backup", str(tmp_path / "b.backup"))
    out = capsys.readouterr().out
    assert "The encryption keys are NOT in the backup" in out
    assert backups.key_fingerprint(__import__("django.conf").conf.settings.ENCRYPTION_KEYS[0]) in out


def _tampered(path: Path, table: str, by: int) -> Path:
    """A copy of the backup whose manifest miscounts one table."""
    other = path.with_name(f"tampered-{path.name}")
    other.write_bytes(path.read_bytes())
    manifest = json.loads(Path(f"{path}.json").read_text())
    manifest["tables"][table] += by
    Path(f"{other}.json").write_text(json.dumps(manifest))
    return other


@pytest.mark.django_db(transaction=True)
def test_a_manifest_mismatch_restores_nothing_on_either_engine(tmp_path, fresh_db):
    make_practice("Riverside")
    path = tmp_path / "rapport.backup"
    backups.backup(path)
    with pytest.raises(backups.BackupError, match=r"row counts differ from the manifest.*care_client"):
        backups.restore(_tampered(path, "care_client", 1), fresh_db)
    assert backups._is_empty(fresh_db)  # nothing restored: a rerun with the right manifest proceeds
    backups.restore(path, fresh_db)
    assert backups.table_counts(fresh_db)["care_client"] == 2


@pytest.mark.django_db(transaction=True)
def test_a_forced_restore_that_fails_its_count_check_leaves_the_old_data(tmp_path, fresh_db):
    make_practice("Riverside")
    first = tmp_path / "first.backup"
    backups.backup(first)
    backups.restore(first, fresh_db)
    before = _snapshot(fresh_db)
    make_practice("Hillside")
    second = tmp_path / "second.backup"
    backups.backup(second)
    with pytest.raises(backups.BackupError, match="row counts differ"):
        backups.restore(_tampered(second, "accounts_user", -1), fresh_db, force=True)
    assert _snapshot(fresh_db) == before  # --clean dropped nothing: it was rolled back


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgresql_manifest_naming_an_unknown_table_is_refused_before_anything(tmp_path, fresh_db):
    if connection.vendor != "postgresql":
        pytest.skip("pg_restore's path: set RAPPORT_DATABASE_URL (CI runs this)")
    make_practice("Riverside")
    path = tmp_path / "rapport.backup"
    backups.backup(path)
    manifest = json.loads(Path(f"{path}.json").read_text())
    manifest["tables"]['x"; DROP TABLE accounts_user; --'] = 1
    Path(f"{path}.json").write_text(json.dumps(manifest))
    with pytest.raises(backups.BackupError, match="tables this version does not have"):
        backups.restore(path, fresh_db)
    assert backups._is_empty(fresh_db)
