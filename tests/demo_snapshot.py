"""The demo practice, built once per test run and copied into the database where needed.

Building the demo (`rapport.demo.generator.generate`) takes tens of seconds: every check-in is
validated, scored, audited and analysed. Tests only read it, so it is built once per (seed, day),
keeping the rows it wrote (a snapshot taken before rolling the build back), and `load_demo`
copies those rows into the database in a fraction of the time: inside a test's transaction
(rolled back after it, or after a module with `built_once_per_module`) or, for a transactional
test (the browser tests), committed and flushed after it.

Under pytest-xdist the first worker that needs a snapshot builds it and leaves it in a file (in
the folder tests/conftest.py makes for the run) for the others: every worker's test database
starts from the same migrations, so the rows fit each. A worker that needs it meanwhile waits
for that build rather than doing it again.

The rows keep their ids, so the objects `generate` returned still name them; each caller gets
its own copy of those objects.
"""

from __future__ import annotations

import copy
import fcntl
import os
import pickle
from datetime import date, time
from pathlib import Path

from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, transaction

# The folder this run's test processes share (made and removed by tests/conftest.py).
SHARED_DIR = "RAPPORT_TEST_SHARED_DIR"

_BUILT: dict[tuple[int, date], tuple[object, dict[str, tuple[list[str], list[tuple]]]]] = {}


def _tables() -> dict[str, str]:
    """{table: its primary key column} of every model's table."""
    existing = set(connection.introspection.table_names())
    return {m._meta.db_table: m._meta.pk.column for m in apps.get_models(include_auto_created=True)
            if m._meta.db_table in existing and not m._meta.proxy and m._meta.managed}


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _heads(cursor) -> dict[str, tuple[str, set]]:
    """Each table's primary keys so far (as text, so that every key type compares)."""
    heads = {}
    for table, pk in _tables().items():
        cursor.execute(f"SELECT {_q(pk)} FROM {_q(table)}")  # noqa: S608
        heads[table] = (pk, {str(k) for (k,) in cursor.fetchall()})
    return heads


def _rows_since(cursor, heads) -> dict[str, tuple[list[str], list[tuple]]]:
    rows = {}
    for table, (pk, before) in heads.items():
        columns = [c.name for c in connection.introspection.get_table_description(cursor, table)]
        names = ", ".join(_q(c) for c in columns)
        if connection.vendor == "postgresql":
            # As text, so that every type (json, arrays, intervals) goes back in as it came.
            names = ", ".join(f"{_q(c)}::text" for c in columns)
        cursor.execute(f"SELECT {names} FROM {_q(table)}")  # noqa: S608
        at = columns.index(pk)
        found = [row for row in cursor.fetchall() if str(row[at]) not in before]
        if found:
            rows[table] = (columns, found)
    return rows


def _build(seed: int, today: date):
    from rapport.demo.generator import generate

    with connection.cursor() as cursor:
        heads = _heads(cursor)
    with transaction.atomic():
        practice = generate(seed=seed, today=today)
        with connection.cursor() as cursor:
            rows = _rows_since(cursor, heads)
        transaction.set_rollback(True)
    return practice, rows


def _built(seed: int, today: date):
    shared = os.environ.get(SHARED_DIR)
    if not shared:
        return _build(seed, today)
    path = Path(shared) / f"demo-{seed}-{today.isoformat()}-{connection.vendor}.pickle"
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one worker builds; the others wait, then read
        if path.exists():
            return pickle.loads(path.read_bytes())  # noqa: S301 (written by this run's workers)
        built = _build(seed, today)
        partial = path.with_suffix(".partial")
        partial.write_bytes(pickle.dumps(built))
        partial.rename(path)
        return built


def _bindable(value):
    """A value read back as Django's SQLite converters give it, as the driver takes it (a time
    of day is read as `datetime.time`, which sqlite3 has no adapter for)."""
    if isinstance(value, time) and connection.vendor == "sqlite":
        return connection.ops.adapt_timefield_value(value)
    return value


def load_demo(seed: int, today: date):
    """The demo practice for (seed, today) in the database; returns its objects (a copy)."""
    key = (seed, today)
    if key not in _BUILT:
        _BUILT[key] = _built(seed, today)
    practice, rows = _BUILT[key]
    with transaction.atomic(), connection.cursor() as cursor:
        for table, (columns, values) in rows.items():
            quoted = ", ".join(_q(c) for c in columns)
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {_q(table)} ({quoted}) VALUES ({marks})",  # noqa: S608
                               [tuple(map(_bindable, row)) for row in values])
        if connection.vendor == "postgresql":
            tables = set(rows)
            models = [m for m in apps.get_models() if m._meta.db_table in tables]
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(sql)
    return copy.deepcopy(practice)
