"""Hot paths' statements, written once per process.

The ORM builds and compiles a statement anew on every call: for a query of six joined tables it
costs several times more CPU than the database takes to answer it, and an INSERT's compilation
costs about as much as running it. The two helpers here write such statements once per
database vendor from the models' own metadata (tables, columns, converters, each field's
preparation of its value) and run them with fresh values:

- `Joined`: a SELECT of several models' rows in one statement, read into ordinary model
  instances with `Model.from_db` as the ORM does (deferred fields load on access, saving works):

    LINK = Joined(
        Part(Invitation, "i"),
        Part(CheckIn, "c", "JOIN {checkin} c ON c.id = i.checkin_id"),
        Part(Session, "s", "LEFT JOIN {session} s ON s.id = c.session_id"),  # None when null
        where="i.token_hash = %s",
        extra=("EXISTS (SELECT 1 FROM {draft} d WHERE d.checkin_id = c.id)",),
        tables={"draft": Draft},
    )
    found = LINK.first([token_hash])  # None, or (instances in Part order, extra values)

  `{name}` in a join, `where` or `extra` is the quoted table of `tables[name]` or of a part's
  model named in lower case.
- `insert(obj)`: a new row, as `Model.save()` would insert it, for append-only models whose
  own `save()` calls it (no model signals are sent); `insert_sql(obj)` the same statement to
  run inside a larger one.

- `cursor()`: a cursor whose statements PostgreSQL prepares on each connection (parsed and
  planned once, not on every run), for these and other statements of the hot path;
  `together(n)`: n such cursors whose statements go out in one round trip.

Only for statements whose shape never changes; anything else should use the ORM.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.utils import CursorDebugWrapper
from django.db.models import Model


@dataclass(frozen=True)
class Part:
    """One model in the statement: its alias, how it is joined (the first part has no join),
    and the fields left unread (`defer`, loaded on access as with QuerySet.defer)."""

    model: type[Model]
    alias: str
    join: str = ""
    defer: tuple[str, ...] = ()

    def fields(self) -> list:
        return [f for f in self.model._meta.concrete_fields if f.name not in self.defer]


class Joined:
    """The statement: its parts in order, the WHERE clause (with %s parameters), and `extra`
    expressions read after the parts' columns."""

    def __init__(self, *parts: Part, where: str, extra: Sequence[str] = (),
                 tables: dict[str, type[Model]] | None = None) -> None:
        self.parts, self.where, self.extra = parts, where, tuple(extra)
        self.tables = dict(tables or {})

    def sql(self) -> str:
        return _sql(self, connection.vendor)

    def first(self, params: Sequence) -> tuple[list[Model | None], list] | None:
        """The first row's instances (None for a part whose LEFT JOIN found nothing) and the
        `extra` values, or None when no row matches."""
        with cursor() as c:
            c.execute(self.sql(), list(params))
            row = c.fetchone()
        if row is None:
            return None
        instances, at = [], 0
        for part, (attnames, pk_at, converters) in zip(self.parts, _layout(self, connection.vendor),
                                                       strict=True):
            values = list(row[at:at + len(attnames)])
            at += len(attnames)
            if values[pk_at] is None:  # a LEFT JOIN that matched nothing
                instances.append(None)
                continue
            for n, col, convert in converters:
                values[n] = convert(values[n], col, connection)
            instances.append(part.model.from_db(connection.alias, attnames, values))
        return instances, list(row[at:])


def cursor():
    """A cursor for statements of a fixed shape run often (those written here, and others of
    the hot path). PostgreSQL: one that binds its parameters on the server, which psycopg
    prepares on each connection (settings: RAPPORT_DATABASE_PREPARED), so that the server
    parses and plans each statement once per connection, not on every run: the link's
    statement took longer to plan (0.8 ms) than to run (0.2 ms). Django's own cursors bind on
    the client and are never prepared. Otherwise as `connection.cursor()` makes one: health
    check, connection, thread check, query log."""
    db = connections[DEFAULT_DB_ALIAS]  # once, not through the proxy for every attribute
    if db.vendor != "postgresql":
        return db.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor

    db.close_if_health_check_failed()
    db.ensure_connection()
    db.validate_thread_sharing()
    raw = ServerBindingCursor(db.connection)
    return _Logged(raw, db) if db.queries_logged else db.make_cursor(raw)


@contextlib.contextmanager
def together(count: int):
    """`count` cursors as `cursor()` makes them, whose statements, executed in the block, go
    out together: on PostgreSQL in one round trip (psycopg's pipeline mode, the transaction's
    BEGIN with them), run by the server one after the other as if sent one by one (each ends,
    its row locks taken, before the next starts; each has its own snapshot). Read their
    results in the block, after the last is executed: the first read sends them all.
    Elsewhere each runs as it is executed."""
    cursors = [cursor() for _ in range(count)]
    try:
        db = connections[DEFAULT_DB_ALIAS]
        if db.vendor == "postgresql":
            # An error sent back when the pipeline ends is psycopg's own: Django's, as for
            # any other statement (a duplicate answer is an IntegrityError).
            with db.wrap_database_errors, db.connection.pipeline():
                yield cursors
        else:
            yield cursors
    finally:
        for c in cursors:
            c.close()


class _Logged(CursorDebugWrapper):
    """The query log (DEBUG, tests) of such a cursor: the statement as written, its parameters
    apart (psycopg keeps no text of a prepared statement's run, which Django would log)."""

    def debug_sql(self, sql=None, params=None, use_last_executed_query=False, many=False):
        return super().debug_sql(sql, params, use_last_executed_query=False, many=many)


@functools.cache
def _layout(joined: Joined, vendor: str) -> list[tuple[list[str], int, list]]:
    """Per part: the attribute names read, the primary key's place among them, and the
    converters from database values to Python ones (the backend's, then the field's own, as
    the ORM applies them), only for the columns that have any."""
    layout = []
    for part in joined.parts:
        fields = part.fields()
        converters = []
        for n, f in enumerate(fields):
            col = f.get_col(part.alias)
            converters += [(n, col, c) for c in (*connection.ops.get_db_converters(col),
                                                  *f.get_db_converters(connection))]
        pk_at = next(n for n, f in enumerate(fields) if f.primary_key)
        layout.append(([f.attname for f in fields], pk_at, converters))
    return layout


@functools.cache
def _sql(joined: Joined, vendor: str) -> str:
    q = connection.ops.quote_name
    tables = {p.model.__name__.lower(): p.model for p in joined.parts} | joined.tables
    names = {name: q(model._meta.db_table) for name, model in tables.items()}
    columns = [f"{p.alias}.{q(f.column)}" for p in joined.parts for f in p.fields()]
    columns += [e.format(**names) for e in joined.extra]
    first = joined.parts[0]
    joins = " ".join(p.join.format(**names) for p in joined.parts[1:])
    # Names from the models' metadata and SQL from the code: no value reaches the text.
    return (f"SELECT {', '.join(columns)} FROM {names[first.model.__name__.lower()]} "  # noqa: S608
            f"{first.alias} {joins} WHERE {joined.where.format(**names)}")


def insert(obj: Model) -> None:
    """INSERT a new instance as `Model.save()` does (each field's `pre_save` and database
    preparation, the primary key read back) with the statement written once per process."""
    sql, values = insert_sql(obj)
    with cursor() as c:
        c.execute(sql, values)
        inserted(obj, c.fetchone()[0] if connection.features.can_return_columns_from_insert
                 else c.lastrowid)


def insert_sql(obj: Model) -> tuple[str, list]:
    """The INSERT of a new instance and its values, to run or to put in a larger statement (a
    PostgreSQL WITH); it returns the primary key where the database can (then give it to
    `inserted`)."""
    fields, sql = _insert_sql(type(obj), connection.vendor)
    return sql, [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]


def inserted(obj: Model, pk) -> None:
    """Mark an instance stored under `pk`, as `Model.save()` leaves it."""
    obj.pk = pk
    obj._state.adding, obj._state.db = False, connection.alias


@functools.cache
def _insert_sql(model: type[Model], vendor: str) -> tuple[list, str]:
    q, meta = connection.ops.quote_name, model._meta
    fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field]
    returning = connection.features.can_return_columns_from_insert
    sql = (f"INSERT INTO {q(meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "  # noqa: S608 - names from the model
           f"VALUES ({', '.join(['%s'] * len(fields))})"
           + (f" RETURNING {q(meta.pk.column)}" if returning else ""))
    return fields, sql
