"""Record sources: the business tables StatusFlow watches, registered by an administrator.

Registering a source checks every name against the database, stores the source,
installs its triggers (or, for poll capture, its first poll) and writes the audit
entry in one transaction: either the source is fully watched, or nothing changed.

Capture is chosen per source. *trigger*: the database writes an event row in the
same transaction as the host's change (nothing is missed, no delay). *poll*: no
change to the host's tables at all; the engine reads the table every few seconds and
compares it with what it saw last (two changes between polls are seen as one, and
the delay is up to the poll interval).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, select, update

from engine import audit
from engine.errors import SourceError
from engine.permissions import require
from engine.sources import polling, triggers
from engine.sources.hosts import hosts, is_mysql, parse_host_url, shown
from engine.sources.introspection import (
    check_columns,
    check_table,
    column_names,
    foreign_key_columns,
    table_fields,
)
from engine.storage.database import Database
from engine.storage.tables import graphs, record_sources

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
CAPTURE_MODES = ("trigger", "poll")
DEFAULT_POLL_SECONDS = 5.0
MIN_POLL_SECONDS = 0.5
MAX_POLL_SECONDS = 86_400.0
NAME_HINTS = ("name", "customer", "title", "email")
MAX_DEFAULT_DISPLAY = 3


@dataclass(frozen=True)
class SourceInfo:
    """A registered record source, with column names as the database stores them."""

    id: int
    name: str
    table: str
    key_column: str
    status_column: str
    label_table: str | None
    label_key_column: str | None
    label_column: str | None
    display_columns: tuple[str, ...]
    watched_columns: tuple[str, ...]
    fields: Mapping[str, str]
    capture: str = "trigger"
    changed_column: str | None = None
    poll_seconds: float | None = None
    host_url: str | None = None  # None: the records are in StatusFlow's own database

    @property
    def polled(self) -> bool:
        return self.capture == "poll"


@dataclass(frozen=True)
class Capture:
    """How a source's changes are captured, as a person asks for it."""

    mode: str = "trigger"  # trigger | poll
    changed_column: str | None = None  # poll: the host's "changed at" column
    poll_seconds: float | None = None  # poll: seconds between polls
    install: bool = True  # trigger: False when an administrator runs the DDL by hand


@dataclass(frozen=True)
class _Labels:
    table: str | None = None
    key_column: str | None = None
    column: str | None = None


@contextmanager
def reading(conn_or_db: Connection | Database) -> Iterator[Connection]:
    """The caller's connection as it is, or a read transaction on the database."""
    if isinstance(conn_or_db, Database):
        with conn_or_db.read() as conn:
            yield conn
    else:
        yield conn_or_db


def _from_row(row: Row[Any]) -> SourceInfo:
    return SourceInfo(
        id=row.id,
        name=row.name,
        table=row.table_name,
        key_column=row.key_column,
        status_column=row.status_column,
        label_table=row.label_table,
        label_key_column=row.label_key_column,
        label_column=row.label_column,
        display_columns=tuple(row.display_columns),
        watched_columns=tuple(row.watched_columns),
        fields=dict(row.fields),
        capture=row.capture,
        changed_column=row.changed_column,
        poll_seconds=row.poll_seconds,
        host_url=row.host_url,
    )


def _check_name(name: str) -> None:
    if not NAME_PATTERN.match(name):
        raise SourceError(
            f"'{name}' cannot be a source name. Use a short name of lowercase letters, "
            "digits and underscores that starts with a letter (at most 40), e.g. orders."
        )


def _refuse_duplicates(conn: Connection, name: str, table: str, host_url: str | None) -> None:
    same_table = (record_sources.c.table_name == table) & (
        record_sources.c.host_url.is_(None)
        if host_url is None
        else record_sources.c.host_url == host_url
    )
    query = select(record_sources.c.name, record_sources.c.table_name).where(
        (record_sources.c.name == name) | same_table
    )
    for row in conn.execute(query):
        if row.name == name:
            raise SourceError(f"A record source named '{name}' exists already; choose another.")
        raise SourceError(
            f"The table {table} is already registered as the record source '{row.name}'; "
            "use that source instead of registering the table twice."
        )


def _label_key(conn: Connection, label_table: str, table: str) -> str:
    candidates = foreign_key_columns(conn, label_table, table)
    if len(candidates) == 1:
        return candidates[0]
    columns = ", ".join(column_names(conn, label_table))
    if candidates:
        problem = f"{label_table} has several columns that refer to {table}"
    else:
        problem = f"{label_table} has no column with a foreign key to {table}"
    raise SourceError(
        f"{problem}, so StatusFlow cannot tell which one holds the record key. "
        f"Pass --label-key-column with one of: {columns}."
    )


def _labels(
    conn: Connection, table: str, label_table: str | None, key_column: str | None, column: str
) -> _Labels:
    if label_table is None:
        if key_column is not None:
            raise SourceError("A label key column needs a label table: pass --label-table too.")
        return _Labels()
    label_table = check_table(conn, label_table)
    (column,) = check_columns(conn, label_table, [column])
    if key_column is None:
        return _Labels(label_table, _label_key(conn, label_table, table), column)
    (key_column,) = check_columns(conn, label_table, [key_column])
    return _Labels(label_table, key_column, column)


def _watched(conn: Connection, table: str, columns: Sequence[str], status: str) -> tuple[str, ...]:
    watched = tuple(check_columns(conn, table, columns))
    if status in watched:
        raise SourceError(
            f"{status} is the status column and is always watched; "
            "leave it out of the watched columns."
        )
    return watched


def _default_display(key_column: str, fields: Mapping[str, str]) -> tuple[str, ...]:
    """The key plus a few text columns that look like what people call a record by."""
    names = [
        column
        for column, kind in fields.items()
        if kind == "text" and column != key_column and any(h in column.lower() for h in NAME_HINTS)
    ]
    return (key_column, *names[:MAX_DEFAULT_DISPLAY])


def _checked_source(
    conn: Connection,
    host: Connection,
    host_url: str | None,
    name: str,
    table: str,
    key_and_status: tuple[str, str],
    labels: tuple[str | None, str | None, str],
    display_columns: Sequence[str],
    watched_columns: Sequence[str],
    capture: Capture,
) -> SourceInfo:
    """The source as it will be stored (id still 0), every name checked against the
    database it is in (``host``) and as stored there."""
    table = check_table(host, table)
    _refuse_duplicates(conn, name, table, host_url)
    key_column, status_column = check_columns(host, table, key_and_status)
    label = _labels(host, table, *labels)
    fields = table_fields(host, table)
    display = tuple(check_columns(host, table, display_columns))
    return SourceInfo(
        id=0,
        name=name,
        table=table,
        key_column=key_column,
        status_column=status_column,
        label_table=label.table,
        label_key_column=label.key_column,
        label_column=label.column,
        display_columns=display or _default_display(key_column, fields),
        watched_columns=_watched(host, table, watched_columns, status_column),
        fields=fields,
        host_url=host_url,
        **_capture_columns(host, table, fields, capture, separate=host_url is not None),
    )


def _capture_columns(
    conn: Connection, table: str, fields: Mapping[str, str], capture: Capture, *, separate: bool
) -> dict[str, Any]:
    """The stored capture settings, each checked (``conn`` reaches the table; it is in a
    host database of its own when ``separate``)."""
    if capture.mode not in CAPTURE_MODES:
        raise SourceError(
            f"'{capture.mode}' is not a capture mode; use trigger (the database reports each "
            "change) or poll (StatusFlow reads the table every few seconds)."
        )
    if capture.mode == "trigger":
        if capture.changed_column or capture.poll_seconds:
            raise SourceError(
                "A changed-at column and a poll interval belong to poll capture; "
                "add --capture poll, or leave them out."
            )
        if not separate or is_mysql(conn):
            return {"capture": "trigger"}
        raise SourceError(
            f"Trigger capture in a {conn.dialect.name} database other than StatusFlow's own "
            "is not supported; keep StatusFlow in a schema of that database (leave out "
            "--host-url), or use --capture poll."
        )
    if not capture.install:
        raise SourceError(
            "--install-later is for trigger capture; poll capture installs nothing on "
            "the host's tables."
        )
    changed = None
    if capture.changed_column:
        (changed,) = check_columns(conn, table, [capture.changed_column])
        if fields.get(changed) != "datetime":
            raise SourceError(
                f"{changed} holds {fields.get(changed)} values, not date-times; the "
                "changed-at column must be the time each row was last changed."
            )
    seconds = DEFAULT_POLL_SECONDS if capture.poll_seconds is None else capture.poll_seconds
    if not MIN_POLL_SECONDS <= seconds <= MAX_POLL_SECONDS:
        raise SourceError(
            f"A poll interval of {seconds:g} s is outside {MIN_POLL_SECONDS:g}–"
            f"{MAX_POLL_SECONDS:g} s; choose a number of seconds in that range."
        )
    return {"capture": "poll", "changed_column": changed, "poll_seconds": float(seconds)}


def _insert(conn: Connection, source: SourceInfo, actor: str) -> int:
    values = asdict(source)
    del values["id"]
    values["table_name"] = values.pop("table")
    statement = insert(record_sources).values(
        **values, created_at=datetime.now(UTC), created_by=actor
    )
    return conn.execute(statement.returning(record_sources.c.id)).scalar_one()


def add_source(
    db: Database,
    *,
    name: str,
    table: str,
    key_column: str,
    status_column: str,
    label_table: str | None = None,
    label_key_column: str | None = None,
    label_column: str = "label",
    display_columns: Sequence[str] = (),
    watched_columns: Sequence[str] = (),
    capture: Capture = Capture(),
    host_url: str | None = None,
    actor: str = "system",
) -> SourceInfo:
    """Register a business table as a record source and start capturing its changes;
    ``host_url`` names the host database when it is not StatusFlow's own."""
    _check_name(name)
    url = parse_host_url(host_url).render_as_string(hide_password=False) if host_url else None
    with db.write() as conn:
        require(conn, actor, "sources.manage")
        host_of = hosts.opened(url, name) if url else nullcontext(conn)
        with host_of as host:
            checked = _checked_source(
                conn,
                host,
                url,
                name,
                table,
                (key_column, status_column),
                (label_table, label_key_column, label_column),
                display_columns,
                watched_columns,
                capture,
            )
            source = replace(checked, id=_insert(conn, checked, actor))
            audit.record(
                conn,
                actor=actor,
                action="source.add",
                object_type="record_source",
                object_id=name,
                summary=f"Registered the table {source.table}{_where(source)} as the record "
                f"source '{name}' ({capture_words(source)}).",
                after=asdict(source),
            )
            if source.polled:
                polling.start(conn, host, source)
            else:
                triggers.install(host, source, create_triggers=capture.install)
                if url:  # the engine empties the host's capture table
                    polling.schedule(conn, source)
    return source


def _where(source: SourceInfo) -> str:
    return f" in {host_words(source)}" if source.host_url else ""


def host_words(source: SourceInfo) -> str:
    """Where a source's records live, as people write the URL (no driver, no password)."""
    if not source.host_url:
        return "StatusFlow's own database"
    return shown(parse_host_url(source.host_url))


def renew_capture(db: Database) -> int:
    """Bring the capture function up to this program's (``db upgrade`` calls it): triggers
    installed by an earlier StatusFlow keep calling it and get its guarantees. Returns
    the number of trigger-captured sources."""
    if not db.is_postgresql:
        return 0
    with db.write() as conn:
        count = conn.scalar(select(func.count()).where(record_sources.c.capture == "trigger"))
        if count:
            triggers.install_function(conn)
    return int(count or 0)


def capture_words(source: SourceInfo) -> str:
    if source.polled:
        by = f"by {source.changed_column}" if source.changed_column else "by comparing every row"
        return f"polled every {source.poll_seconds:g} s, {by}"
    return "captured by triggers"


def list_sources(db: Database) -> list[SourceInfo]:
    """Every registered source, by name."""
    with db.read() as conn:
        return list_sources_in(conn)


def list_sources_in(conn: Connection) -> list[SourceInfo]:
    rows = conn.execute(select(record_sources).order_by(record_sources.c.name))
    return [_from_row(row) for row in rows]


def get_source(conn_or_db: Connection | Database, name: str) -> SourceInfo:
    """The source called ``name``; the error lists the names that do exist."""
    with reading(conn_or_db) as conn:
        row = conn.execute(select(record_sources).where(record_sources.c.name == name)).first()
        if row is not None:
            return _from_row(row)
        known = conn.scalars(select(record_sources.c.name).order_by(record_sources.c.name))
        listing = ", ".join(known) or "none are registered yet"
    raise SourceError(f"There is no record source named '{name}'. Known sources: {listing}.")


def get_source_by_id(conn: Connection, source_id: int) -> SourceInfo:
    return _from_row(
        conn.execute(select(record_sources).where(record_sources.c.id == source_id)).one()
    )


def remove_source(db: Database, name: str, actor: str = "system") -> None:
    """Stop watching a source and forget it, unless a graph still uses it."""
    with db.write() as conn:
        require(conn, actor, "sources.manage")
        source = get_source(conn, name)
        query = select(graphs.c.name).where(graphs.c.source_id == source.id).order_by(graphs.c.name)
        users = list(conn.scalars(query))
        if users:
            raise SourceError(
                f"The record source '{name}' is used by the graphs {', '.join(users)}. "
                "Delete those graphs or point them at another source first."
            )
        conn.execute(delete(record_sources).where(record_sources.c.id == source.id))
        if not source.polled:
            with hosts.connect(conn, source) as host:
                triggers.uninstall(host, source)
        audit.record(
            conn,
            actor=actor,
            action="source.remove",
            object_type="record_source",
            object_id=name,
            summary=f"Removed the record source '{name}'; changes to {source.table} are "
            "no longer watched.",
            before=asdict(source),
        )


def refresh_fields(db: Database, name: str, actor: str = "system") -> SourceInfo:
    """Read the table's columns again, after the host application changed its table."""
    with db.write() as conn:
        require(conn, actor, "sources.manage")
        source = get_source(conn, name)
        with hosts.connect(conn, source) as host:
            fields = table_fields(host, check_table(host, source.table))
        conn.execute(
            update(record_sources).where(record_sources.c.id == source.id).values(fields=fields)
        )
        audit.record(
            conn,
            actor=actor,
            action="source.refresh_fields",
            object_type="record_source",
            object_id=name,
            summary=f"Read the columns of {source.table} again for the record source '{name}'.",
            before=dict(source.fields),
            after=fields,
        )
    return replace(source, fields=fields)
