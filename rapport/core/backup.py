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
        raise BackupError(f"{Path(args[0]).name} failed: {result.stderr.strip()}")


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
        return Manifest(**json.loads(mpath.read_text()))
    except (ValueError, TypeError) as exc:
        raise BackupError(f"the manifest {mpath.name} is unreadable: {exc}") from exc


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
        for alias in connections:
            connections[alias].close()
        source, target = sqlite3.connect(path), _sqlite_connect(db)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()
    else:
        _run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
              "--single-transaction", f"--dbname={db['NAME']}", str(path)], db)
    restored = table_counts(db)
    differing = {t: (n, restored.get(t)) for t, n in manifest.tables.items() if restored.get(t) != n}
    if differing:
        raise BackupError(f"restored row counts differ from the manifest: {differing}")
    return manifest
