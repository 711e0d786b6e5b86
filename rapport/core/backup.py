"""Backups and restores of the whole database, with the encryption keys kept apart.

SQLite uses its online backup API (a consistent copy while the site runs); PostgreSQL uses the
native pg_dump / pg_restore in their custom format. Each backup gets a manifest beside it
(`<file>.json`) with the row count of every table and the fingerprints of the encryption keys
in use, so a restore can say up front whether the configured keys will read the encrypted text.
The keys themselves are never written into a backup: keep them in a separate, safe place.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connections
from django.utils import timezone

import rapport

FORMAT = 1


class BackupError(Exception):
    """A backup or restore could not be done; the message says why and what to do."""


@dataclass
class Manifest:
    engine: str
    created_at: str
    rapport_version: str
    key_fingerprints: list[str]
    tables: dict[str, int] = field(default_factory=dict)
    format: int = FORMAT


def key_fingerprint(key: str) -> str:
    """A short, non-reversible name for a key, safe to store beside the data."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _engine(db: dict) -> str:
    engine = db["ENGINE"].rsplit(".", 1)[-1]
    if engine not in ("sqlite3", "postgresql"):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {engine}")
    return engine


def _sqlite_connect(db: dict) -> sqlite3.Connection:
    name = str(db["NAME"])
    return sqlite3.connect(name, uri=name.startswith("file:"))


def _pg_env(db: dict) -> dict[str, str]:
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[var] = str(db[key])
    return env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} not found: install the PostgreSQL client tools (Debian: postgresql-client)")
    return path


def _run(args: list[str], db: dict) -> None:
    result = subprocess.run(args, env=_pg_env(db), capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {_one_line(result.stderr)}")


def model_tables() -> list[str]:
    tables = {m._meta.db_table for m in apps.get_models(include_auto_created=True) if m._meta.managed}
    return sorted(tables)


def table_counts(db: dict) -> dict[str, int]:
    """Row counts of every table the project's models use, read straight from the database."""
    counts = {}
    if _engine(db) == "sqlite3":
        con = _sqlite_connect(db)
        try:
            for table in model_tables():
                counts[table] = con.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]  # noqa: S608
        finally:
            con.close()
        return counts
    import psycopg

    with psycopg.connect(**_pg_kwargs(db)) as con:
        for table in model_tables():
            counts[table] = con.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]  # noqa: S608
    return counts


def _pg_kwargs(db: dict) -> dict:
    kwargs = {"dbname": db["NAME"]}
    for key, name in (("HOST", "host"), ("PORT", "port"), ("USER", "user"), ("PASSWORD", "password")):
        if db.get(key):
            kwargs[name] = db[key]
    return kwargs


def _manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def backup(path: Path, db: dict | None = None) -> Manifest:
    """Write a consistent backup of the database to `path`, and its manifest beside it."""
    db = db or connections["default"].settings_dict
    engine = _engine(db)
    path.parent.mkdir(parents=True, exist_ok=True)
    if engine == "sqlite3":
        source, target = _sqlite_connect(db), sqlite3.connect(path)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        counts = table_counts({"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)})
    else:
        counts = _pg_dump(path, db)
    path.chmod(0o600)
    manifest = Manifest(
        engine=engine,
        created_at=timezone.now().isoformat(),
        rapport_version=rapport.__version__,
        key_fingerprints=[key_fingerprint(k) for k in settings.ENCRYPTION_KEYS],
        tables=counts,
    )
    _manifest_path(path).write_text(json.dumps(asdict(manifest), indent=2) + "\n")
    return manifest


def _pg_dump(path: Path, db: dict) -> dict[str, int]:
    """pg_dump and the manifest's row counts from one exported snapshot, so they agree exactly."""
    import psycopg

    with psycopg.connect(**_pg_kwargs(db)) as con:
        con.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = con.execute("SELECT pg_export_snapshot()").fetchone()[0]
        counts = {
            table: con.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]  # noqa: S608
            for table in model_tables()
        }
        _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              f"--snapshot={snapshot}", f"--file={path}", str(db["NAME"])], db)
        con.rollback()
    return counts


def read_manifest(path: Path) -> Manifest:
    mpath = _manifest_path(path)
    if not mpath.exists():
        raise BackupError(f"no manifest beside the backup ({mpath.name}); was it made by `rapport backup`?")
    try:
        manifest = Manifest(**json.loads(mpath.read_text()))
    except (ValueError, TypeError, UnicodeDecodeError, RecursionError) as exc:
        raise BackupError(f"the manifest {mpath.name} is unreadable: {_one_line(exc)}") from exc
    problem = _manifest_problem(manifest)
    if problem:
        raise BackupError(f"the manifest {mpath.name} is unreadable: {problem}")
    return manifest


def _manifest_problem(m: Manifest) -> str | None:
    for name in ("engine", "created_at", "rapport_version"):
        if not isinstance(getattr(m, name), str):
            return f"{name} is not text"
    if not (isinstance(m.key_fingerprints, list) and all(isinstance(f, str) for f in m.key_fingerprints)):
        return "key_fingerprints is not a list of text"
    if not isinstance(m.tables, dict) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in m.tables.values()
    ):
        return "tables is not a map of table names to row counts"
    if m.format != FORMAT:
        return f"format {m.format!r} is not {FORMAT}"
    return None


def _one_line(value) -> str:
    return " ".join(str(value).split())


def missing_keys(manifest: Manifest) -> list[str]:
    """Fingerprints of keys the backup was made with that are not configured now."""
    configured = {key_fingerprint(k) for k in settings.ENCRYPTION_KEYS}
    return [fp for fp in manifest.key_fingerprints if fp not in configured]


def _is_empty(db: dict) -> bool:
    try:
        counts = table_counts(db)
    except Exception:  # no tables at all: a fresh database
        return True
    return not any(counts.values())


def restore(path: Path, db: dict | None = None, *, force: bool = False) -> Manifest:
    """Restore a backup into the database, which must be empty unless `force` is given."""
    db = db or connections["default"].settings_dict
    engine = _engine(db)
    if not path.exists():
        raise BackupError(f"no backup at {path}")
    manifest = read_manifest(path)
    if manifest.engine != engine:
        raise BackupError(f"this is a {manifest.engine} backup; the configured database is {engine}")
    missing = missing_keys(manifest)
    if missing and not force:
        raise BackupError(
            "the backup was made with encryption keys that are not configured now "
            f"(fingerprints {', '.join(missing)}): encrypted text would be unreadable. Add those keys "
            "to RAPPORT_ENCRYPTION_KEYS, or pass --force to restore anyway."
        )
    if not force and not _is_empty(db):
        raise BackupError("the target database is not empty; restore into a fresh database or pass --force")
    if engine == "sqlite3":
        _restore_sqlite(path, db, manifest)
    else:
        _restore_postgresql(path, db, manifest)
    return manifest


# Raised inside the restore's transaction when the restored row counts differ from the manifest.
_COUNTS_FAILED = "rapport: restored row counts differ from the manifest:"


def _count_check_sql(manifest: Manifest) -> str:
    """A PL/pgSQL block that aborts the transaction unless every table has the manifest's count."""
    known = set(model_tables())
    unknown = sorted(set(manifest.tables) - known)
    if unknown:  # also keeps the manifest's text out of the SQL: only known names are quoted in
        raise BackupError(f"the manifest lists tables this version does not have: {', '.join(unknown)}")
    checks = "".join(  # table names from the models only, counts as integers
        f"SELECT count(*) INTO n FROM \"{table}\"; IF n <> {int(count)} THEN "  # noqa: S608
        f"bad := bad || ' {table}: ' || n || ' (manifest {int(count)})'; END IF;\n"
        for table, count in sorted(manifest.tables.items()))
    # pg_restore's script empties search_path; the tables are found as the application finds them.
    return (f"RESET search_path;\nDO $rapport$ DECLARE n bigint; bad text := ''; BEGIN\n{checks}"
            f"IF bad <> '' THEN RAISE EXCEPTION '{_COUNTS_FAILED}%', bad; END IF; END $rapport$;\n")


def _restore_postgresql(path: Path, db: dict, manifest: Manifest) -> None:
    """pg_restore's script, then the row-count check, run by psql as one transaction: a damaged
    file or a count that differs from the manifest rolls everything back (all or nothing)."""
    _run([_pg_tool("pg_restore"), "--list", str(path)], db)  # a truncated or foreign file stops here
    check = _count_check_sql(manifest)
    restore_args = [_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
                    "--no-privileges", "--file=-", str(path)]
    psql_args = [_pg_tool("psql"), "--no-psqlrc", "--quiet", "--single-transaction",
                 "--set=ON_ERROR_STOP=1", f"--dbname={db['NAME']}"]
    env = _pg_env(db)
    with tempfile.TemporaryFile() as restore_err, tempfile.TemporaryFile() as psql_err:
        script = subprocess.Popen(restore_args, env=env, stdout=subprocess.PIPE, stderr=restore_err)  # noqa: S603
        psql = subprocess.Popen(psql_args, env=env, stdin=subprocess.PIPE,  # noqa: S603
                                stdout=subprocess.DEVNULL, stderr=psql_err)
        try:
            shutil.copyfileobj(script.stdout, psql.stdin)
            if script.wait() == 0:
                psql.stdin.write(check.encode())
            else:  # abort the transaction: psql rolls back what it ran so far
                psql.stdin.write(b"SELECT 1/0 AS pg_restore_failed;\n")
        except BrokenPipeError:
            pass  # psql stopped at an error; its own message says which
        finally:
            psql.stdin.close()
            script.stdout.close()
        psql_code, script_code = psql.wait(), script.wait()
        if script_code != 0:
            restore_err.seek(0)
            raise BackupError(f"pg_restore failed: {_one_line(restore_err.read().decode(errors='replace'))}")
        if psql_code != 0:
            psql_err.seek(0)
            message = psql_err.read().decode(errors="replace")
            if _COUNTS_FAILED in message:
                found = message[message.index(_COUNTS_FAILED) + len(_COUNTS_FAILED):].splitlines()[0]
                raise BackupError(f"{path.name}'s row counts differ from the manifest:{found}; "
                                  "nothing was restored")
            raise BackupError(f"psql failed, nothing was restored: {_one_line(message)}")


def _check_counts(manifest: Manifest, found: dict[str, int], where: str) -> None:
    differing = {t: (n, found.get(t)) for t, n in manifest.tables.items() if found.get(t) != n}
    if differing:
        raise BackupError(f"{where} row counts differ from the manifest: {differing}")


def _restore_sqlite(path: Path, db: dict, manifest: Manifest) -> None:
    """Check the backup completely in a private copy, then copy it in: all or nothing."""
    target_name = str(db["NAME"])
    staging = Path(target_name).with_name(f".{Path(target_name).name}.restoring") \
        if not target_name.startswith("file:") else Path(f"{path}.restoring")
    staging.unlink(missing_ok=True)
    os.close(os.open(staging, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600))
    try:
        try:
            source, copy = sqlite3.connect(f"file:{path}?mode=ro", uri=True), sqlite3.connect(staging)
            try:
                source.backup(copy)
                result = copy.execute("PRAGMA integrity_check").fetchone()[0]
            finally:
                source.close()
                copy.close()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path.name} is damaged or not a SQLite backup ({_one_line(exc)})") from exc
        if result != "ok":
            raise BackupError(f"{path.name} is damaged: {_one_line(result)}")
        try:
            counts = table_counts({"ENGINE": "django.db.backends.sqlite3", "NAME": str(staging)})
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path.name} is not a Rapport backup ({_one_line(exc)})") from exc
        _check_counts(manifest, counts, f"{path.name}'s")
        for alias in connections:
            connections[alias].close()
        created = not target_name.startswith("file:") and not Path(target_name).exists()
        if created:  # a new database file: readable by its owner only, from the start
            os.close(os.open(target_name, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600))
        source, target = sqlite3.connect(staging), _sqlite_connect(db)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
        if not target_name.startswith("file:"):
            Path(target_name).chmod(0o600)
    finally:
        staging.unlink(missing_ok=True)
