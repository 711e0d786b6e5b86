"""`rapport restore` at the command line: bad input gets one line naming the file, exit code 2,
and the target database is left exactly as it was."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rapport.cli import main
from rapport.core import backup as backups
from tests.conftest import make_practice

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's file-level restore")


def _restore(capsys, path: Path, *extra: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_:
        main(["restore", str(path), *extra])
    return exit_.value.code, capsys.readouterr().err


@pytest.fixture(scope="module")
def good_backup(tmp_path_factory, django_db_setup, django_db_blocker):
    """One real backup of a small practice, shared by the module's tests."""
    path = tmp_path_factory.mktemp("backup") / "rapport.backup"
    if connection.vendor != "sqlite":
        return path
    with django_db_blocker.unblock():
        # Committed, so that the backup's own connection sees it; flushed again at once.
        make_practice("Riverside")
        backups.backup(path)
        call_command("flush", interactive=False, verbosity=0)
    return path


def _users() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM accounts_user")
        return cursor.fetchone()[0]


@sqlite_only
def test_a_truncated_backup_is_a_clear_error_and_restores_nothing(tmp_path, good_backup, capsys, db):
    path = tmp_path / "cut.backup"
    data = good_backup.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    Path(f"{path}.json").write_text(Path(f"{good_backup}.json").read_text())
    code, err = _restore(capsys, path, "--force")
    assert code == 2
    assert err.count("\n") == 1 and str(path) in err and "damaged" in err
    assert _users() == 0


@sqlite_only
def test_a_manifest_mismatch_restores_nothing(tmp_path, good_backup, capsys, db):
    path = tmp_path / "other.backup"
    path.write_bytes(good_backup.read_bytes())
    manifest = json.loads(Path(f"{good_backup}.json").read_text())
    manifest["tables"]["care_client"] += 1
    Path(f"{path}.json").write_text(json.dumps(manifest))
    code, err = _restore(capsys, path, "--force")
    assert code == 2
    assert "row counts differ from the manifest" in err and "care_client" in err
    assert _users() == 0  # nothing restored, so a rerun with the right manifest can proceed


@sqlite_only
def test_a_restored_database_file_is_private(tmp_path, good_backup):
    target = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "new.sqlite3")}
    backups.restore(good_backup, target)
    assert Path(target["NAME"]).stat().st_mode & 0o077 == 0
    con = sqlite3.connect(target["NAME"])
    assert con.execute("SELECT COUNT(*) FROM accounts_user").fetchone()[0] == 4
    con.close()


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10,
)


@sqlite_only
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    cut=st.one_of(st.none(), st.integers(min_value=0, max_value=200_000)),
    garbage=st.binary(min_size=1, max_size=64),
    manifest_patch=st.dictionaries(
        st.sampled_from(["engine", "created_at", "rapport_version", "key_fingerprints", "tables",
                         "format", "extra"]), _json, max_size=3),
    raw_manifest=st.one_of(st.none(), st.binary(max_size=40)),
)
def test_fuzzed_backups_and_manifests_fail_cleanly(tmp_path, good_backup, capsys, db, cut, garbage,
                                                   manifest_patch, raw_manifest):
    path = tmp_path / "fuzz.backup"
    data = good_backup.read_bytes()
    if cut is not None:
        data = data[: cut % len(data)] + garbage
    else:
        data = garbage + data[len(garbage):]
    manifest = json.loads(Path(f"{good_backup}.json").read_text())
    manifest.update(manifest_patch)
    if data == good_backup.read_bytes():
        data = data[:-1]  # keep every example a damaged one
    path.write_bytes(data)
    Path(f"{path}.json").write_bytes(raw_manifest if raw_manifest is not None else json.dumps(manifest).encode())
    code, err = _restore(capsys, path, "--force")
    assert code == 2, err
    assert err.count("\n") == 1 and str(path) in err, err
    assert "Traceback" not in err
    assert _users() == 0


postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql",
                                     reason="pg_restore's path: set RAPPORT_DATABASE_URL (CI runs this)")


@pytest.fixture
def pg_backup(tmp_path, transactional_db):
    """A backup of one practice, and a database that has since gained a second one: a restore
    that wrote anything would change its row counts."""
    make_practice("Riverside")
    path = tmp_path / "rapport.backup"
    backups.backup(path)
    make_practice("Hillside")
    return path, backups.table_counts(connection.settings_dict)


def _damaged(path: Path, name: str, data: bytes, manifest: dict | None = None) -> Path:
    other = path.with_name(name)
    other.write_bytes(data)
    Path(f"{other}.json").write_text(json.dumps(manifest) if manifest is not None
                                     else Path(f"{path}.json").read_text())
    return other


@postgresql_only
@pytest.mark.postgres
def test_postgresql_bad_backups_are_one_line_exit_2_and_write_nothing(pg_backup, capsys):
    path, before = pg_backup
    data = path.read_bytes()
    manifest = json.loads(Path(f"{path}.json").read_text())
    miscounted = {**manifest, "tables": {**manifest["tables"], "care_client": 3}}
    cases = {
        "mismatch.backup": (data, miscounted),  # the case: data fine, counts differ
        "half.backup": (data[: len(data) // 2], None),
        "tail-cut.backup": (data[: len(data) - 200], None),  # table of contents whole, data cut
        "garbage.backup": (b"PGDMP" + bytes(range(256)) * 4, None),
        "flipped.backup": (data[: len(data) // 2] + bytes(b ^ 0xFF for b in data[len(data) // 2:]), None),
    }
    for name, (content, patched) in cases.items():
        damaged = _damaged(path, name, content, patched)
        code, err = _restore(capsys, damaged, "--force")
        assert code == 2, (name, err)
        assert err.count("\n") == 1 and str(damaged) in err and "Traceback" not in err, (name, err)
        assert backups.table_counts(connection.settings_dict) == before, name
    assert "nothing was restored" in _restore(capsys, path.with_name("mismatch.backup"), "--force")[1]
