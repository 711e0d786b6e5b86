"""The findings refresh's reads, each written once per process and database vendor.

A refresh runs after every stored response (rapport.alerts.pending), and the ORM builds and
compiles each of its statements anew on every call: for these reads, whose shape never changes,
that cost the worker more CPU than reading the rows and analysing them (see
rapport.core.statements). A `Read` is written from the models' metadata (tables, columns) and
its rows are converted with each field's own converters, as the ORM converts them; `alias.*`
reads all of a model's concrete fields, for `instances`. django_scopes does not see these
statements: each one names the episode's organisation itself.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, connections
from django.db.models import JSONField, Model

from rapport.alerts.models import Alert, AlertUpdate, Status
from rapport.alerts.planning import IGNORED_KINDS
from rapport.care.models import CareEpisode
from rapport.core import statements


@dataclass(frozen=True)
class Read:
    """SELECT `columns` ("alias.field", or "alias.*") and then `expressions` (SQL, read as the
    database returns them), then `tail` (FROM ... WHERE ...), in which `{alias}` is the quoted
    table of that alias's model in `tables`."""

    columns: tuple[str, ...]
    tail: str
    tables: tuple[tuple[str, type[Model]], ...]
    expressions: tuple[str, ...] = ()

    def rows(self, params: Sequence) -> list:
        """The rows (tuples, or lists once converted), in the statement's order."""
        sql = _compiled(self, connection.vendor)[0]
        with statements.cursor() as cursor:
            cursor.execute(sql, list(params))
            return self.converted(cursor.fetchall())

    def converted(self, rows: list) -> list:
        converters = _compiled(self, connection.vendor)[2]
        if not converters:
            return rows
        db = connections[connection.alias]  # once, not through the proxy for every value
        converted = []
        for row in rows:
            row = list(row)
            for n, col, convert in converters:
                row[n] = convert(row[n], col, db)
            converted.append(row)
        return converted

    def instances(self, model: type[Model], rows: list) -> list:
        """Rows of this read as instances of `model` (a Read of its columns only, the primary
        key among them; fields not read load on access), as the ORM builds them."""
        attnames, alias = _compiled(self, connection.vendor)[1], connection.alias
        return [model.from_db(alias, attnames, row) for row in rows]


def together(*reads: tuple[Read, Sequence]) -> list[list]:
    """Each read's rows, as `Read.rows` gives them, the statements sent together (on
    PostgreSQL one round trip, not one each: rapport.core.statements.together)."""
    with statements.together(len(reads)) as cursors:
        for cursor, (read, params) in zip(cursors, reads, strict=True):
            cursor.execute(_compiled(read, connection.vendor)[0], list(params))
        return [read.converted(cursor.fetchall())
                for cursor, (read, _) in zip(cursors, reads, strict=True)]


def _fields(read: Read, column: str) -> list[tuple[str, object]]:
    alias, name = column.split(".")
    meta = dict(read.tables)[alias]._meta
    if name == "*":
        return [(alias, f) for f in meta.concrete_fields]
    return [(alias, meta.get_field(name))]


_EMPTY_JSON = {"{}": dict, "[]": list}


def _empty_json_first(field, convert):
    """A JSON column's converter that gives the empty object or list, which most rows of the
    refresh's reads hold (a PHQ-9's subscales and flags), without the decoder; any other value
    as `convert` gives it."""
    if not isinstance(field, JSONField) or field.decoder is not None or convert != field.from_db_value:
        return convert

    def converted(value, expression, db):
        empty = _EMPTY_JSON.get(value) if isinstance(value, str) else None
        return empty() if empty is not None else convert(value, expression, db)

    return converted


@functools.cache
def _compiled(read: Read, vendor: str) -> tuple[str, list[str], list]:
    """The statement, the attribute names read, and the converters of the columns that have any
    (the backend's, then the field's own, as the ORM applies them)."""
    q = connection.ops.quote_name
    fields = [pair for column in read.columns for pair in _fields(read, column)]
    converters = []
    for n, (alias, f) in enumerate(fields):
        col = f.get_col(alias)
        converters += [(n, col, _empty_json_first(f, c)) for c in (
            *connection.ops.get_db_converters(col), *f.get_db_converters(connection))]
    names = {alias: q(model._meta.db_table) for alias, model in read.tables}
    select = ", ".join([*(f"{alias}.{q(f.column)}" for alias, f in fields), *read.expressions])
    # Names from the models' metadata and SQL from the code: no value reaches the text.
    sql = f"SELECT {select} {read.tail.format(**names)}"  # noqa: S608
    return sql, [f.attname for _, f in fields], converters


# ---- the reads of every findings sync (rapport.alerts.services) ---------------------------------

# FOR NO KEY UPDATE, as every row lock here (rapport.audit.chain, "Locks"): a response stored
# for the episode meanwhile does not wait for it.
_EPISODE_LOCK = Read(("e.id",), "FROM {e} e WHERE e.id = %s AND e.organisation_id = %s "
                     "FOR NO KEY UPDATE", (("e", CareEpisode),))
_ALERTS = Read(("a.*",), "FROM {a} a WHERE a.episode_id = %s AND a.organisation_id = %s AND a.kind "
               f"NOT IN ({', '.join(['%s'] * len(IGNORED_KINDS))}) ORDER BY a.opened_at, a.id",
               (("a", Alert),))
_ALERTS_LOCKED = Read(_ALERTS.columns, _ALERTS.tail + " FOR NO KEY UPDATE", _ALERTS.tables)


def lock_episode(episode: CareEpisode) -> None:
    """Lock the episode's row until the transaction ends (none on SQLite, whose writers are
    serialised anyway)."""
    for read, params in episode_lock(episode):
        read.rows(params)


def episode_lock(episode: CareEpisode) -> list[tuple[Read, list]]:
    """`lock_episode` as reads for `together`: none on SQLite."""
    if not connection.features.has_select_for_update:
        return []
    return [(_EPISODE_LOCK, [episode.pk, episode.organisation_id])]


def alerts_of(episode: CareEpisode) -> list[Alert]:
    """The episode's alerts that findings sync (not IGNORED_KINDS), oldest first, locked until
    the transaction ends (PostgreSQL): the sync saves them after it has appended to the audit
    trail, and a clinician's step on one of them (`services.transition`) locks it before it
    appends, so the sync holds them first (rapport.audit.chain, "Locks")."""
    read = _ALERTS_LOCKED if connection.features.has_select_for_update else _ALERTS
    return read.instances(Alert, read.rows([episode.pk, episode.organisation_id,
                                            *sorted(IGNORED_KINDS)]))


_LATEST_EVIDENCE = Read(
    ("u.alert_id", "u.evidence"),
    "FROM {u} u JOIN {a} a ON a.id = u.alert_id WHERE a.episode_id = %s AND a.organisation_id = %s "
    "AND a.status <> %s AND u.id = (SELECT v.id FROM {u} v WHERE v.alert_id = u.alert_id "
    "ORDER BY v.at DESC, v.id DESC LIMIT 1)",
    (("u", AlertUpdate), ("a", Alert)),
)


def latest_evidence(episode: CareEpisode) -> dict[int, dict]:
    """Alert id -> the evidence of its latest dated update, for the episode's unresolved alerts
    that have one (the others' latest evidence is the one they were raised with)."""
    rows = _LATEST_EVIDENCE.rows([episode.pk, episode.organisation_id, Status.RESOLVED.value])
    return {alert_id: evidence for alert_id, evidence in rows}
