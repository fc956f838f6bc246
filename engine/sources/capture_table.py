"""Trigger capture in a MariaDB/MySQL host: a capture table the engine empties.

A host in another database cannot reach StatusFlow's events, so its triggers append
to ``sf_capture`` in the host database (running with their definer's rights: the host
application's role needs no grant). The engine moves the rows into its events and
then deletes them: each moved event keeps the capture row's id, and a unique index on
(source, capture id) makes moving a row twice (after a crash between the two commits)
impossible. Rows are deleted by id, so a host transaction that commits late with a
lower id is still moved.

A failure inside capture would abort the host's own statement, so the table has
nothing that can fail: no foreign key, no unique key but its own counter, binary
columns that take any bytes, and keys cut to 200 characters by the trigger.

Write-backs to such a host commit with a marker row (the step's idempotency key) in
``sf_host_writes`` in the same host transaction; a step retried after a crash finds it
and does not write again.
"""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    text,
)
from sqlalchemy.dialects.mysql import DATETIME, LONGBLOB
from sqlalchemy.schema import CreateTable

from engine.storage.tables import status_events

if TYPE_CHECKING:
    from engine.sources.registry import SourceInfo

CAPTURE_TABLE = "sf_capture"
MARKER_TABLE = "sf_host_writes"
MOVE_BATCH = 1000
MOVE_SECONDS = 0.5  # how often the engine empties a host's capture table

_host = MetaData()
capture = Table(
    CAPTURE_TABLE,
    _host,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("source_id", Integer, nullable=False),
    Column("record_key", LargeBinary(800), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("field", String(128), nullable=False),
    Column("old_value", LargeBinary().with_variant(LONGBLOB(), "mysql", "mariadb")),
    Column("new_value", LargeBinary().with_variant(LONGBLOB(), "mysql", "mariadb")),
    Column(
        "occurred_at", DateTime().with_variant(DATETIME(fsp=6), "mysql", "mariadb"), nullable=False
    ),
    Column("caused_by_run_id", String(36)),
    Column("causation_depth", Integer, nullable=False),
    comment="StatusFlow: changes captured by its triggers, moved to its events and deleted",
    mysql_engine="InnoDB",
)
markers = Table(
    MARKER_TABLE,
    _host,
    Column("step_key", String(120), primary_key=True),
    Column("written_at", DateTime(), nullable=False, server_default=text("CURRENT_TIMESTAMP")),
    comment="StatusFlow: the steps whose write to this database has committed",
    mysql_engine="InnoDB",
)


def create_ddl(host: Connection) -> list[str]:
    """The statements that create the two tables (for an administrator to review)."""
    return [
        str(CreateTable(t, if_not_exists=True).compile(host)).strip() for t in (capture, markers)
    ]


def drop_ddl(host: Connection) -> list[str]:
    quote = host.dialect.identifier_preparer.quote
    return [f"DROP TABLE IF EXISTS {quote(t.name)}" for t in (capture, markers)]


def create_tables(host: Connection) -> None:
    _host.create_all(host, checkfirst=True)


def drop_tables(host: Connection) -> None:
    _host.drop_all(host, checkfirst=True)


def _text(value: bytes | None) -> str | None:
    return None if value is None else bytes(value).decode("utf-8", errors="replace")


def move(conn: Connection, host: Connection, source: SourceInfo) -> list[int]:
    """Copy the source's captured rows into StatusFlow's events (in ``conn``'s
    transaction); returns their ids, which the caller deletes from the host once that
    transaction has committed (:func:`forget`)."""
    rows = host.execute(
        select(capture)
        .where(capture.c.source_id == source.id)
        .order_by(capture.c.id)
        .limit(MOVE_BATCH)
    ).all()
    if not rows:
        return []
    ids = [row.id for row in rows]
    known = set(
        conn.scalars(
            select(status_events.c.capture_id)
            .where(status_events.c.source_id == source.id)
            .where(status_events.c.capture_id.in_(ids))
        )
    )
    fresh: list[dict[str, Any]] = [
        {
            "source_id": source.id,
            "record_key": _text(row.record_key) or "",
            "kind": row.kind,
            "field": row.field,
            "old_value": _text(row.old_value),
            "new_value": _text(row.new_value),
            "occurred_at": row.occurred_at.replace(tzinfo=UTC),  # the trigger's UTC_TIMESTAMP
            "caused_by_run_id": row.caused_by_run_id,
            "causation_depth": row.causation_depth,
            "capture_id": row.id,
        }
        for row in rows
        if row.id not in known
    ]
    if fresh:
        conn.execute(insert(status_events), fresh)
    return ids


def forget(host: Connection, ids: list[int]) -> None:
    """Delete moved rows from the host's capture table."""
    if ids:
        host.execute(delete(capture).where(capture.c.id.in_(ids)))


def forget_source(host: Connection, source: SourceInfo) -> None:
    """A removed source's rows that were never moved."""
    host.execute(delete(capture).where(capture.c.source_id == source.id))


def written(host: Connection, step_key: str) -> bool:
    """Whether the step's write to this host has committed already."""
    return host.scalar(select(markers.c.step_key).where(markers.c.step_key == step_key)) is not None


def mark(host: Connection, step_key: str) -> None:
    host.execute(insert(markers).values(step_key=step_key))
