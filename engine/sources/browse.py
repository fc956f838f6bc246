"""What a person picks from when registering a record source: schemas, tables, columns.

The designer's source form fills its lists from here, so nobody types a name the
database does not have. Every list leaves out StatusFlow's own schema and tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection

from engine.permissions import require
from engine.sources.hosts import hosts
from engine.sources.introspection import (
    business_tables,
    check_table,
    foreign_key_columns,
    host_schemas,
    table_fields,
)
from engine.storage.database import Database


@dataclass(frozen=True)
class Catalog:
    """The schemas a source may come from (empty on SQLite) and the tables of one."""

    schemas: tuple[str, ...]
    schema: str | None
    tables: tuple[str, ...]  # as registered: schema.table on PostgreSQL


@dataclass(frozen=True)
class TableShape:
    """One table's columns (name → field kind) and the tables that could hold its labels."""

    table: str
    fields: dict[str, str]
    label_tables: tuple[str, ...]  # tables with a foreign key to this one


@contextmanager
def _reading(
    db: Database, actor: str, host_url: str | None, name: str | None
) -> Iterator[Connection]:
    """A read of StatusFlow's database, or of the host named by ``host_url`` (as the
    source ``name`` would reach it), once the person may manage sources."""
    with db.read() as conn:
        require(conn, actor, "sources.manage")
        if not host_url:
            yield conn
            return
        with hosts.opened(host_url, name) as host:
            yield host


def catalog(
    db: Database,
    schema: str | None = None,
    actor: str = "system",
    *,
    host_url: str | None = None,
    name: str | None = None,
) -> Catalog:
    """The host's schemas and the tables of ``schema`` (the first one when not given)."""
    with _reading(db, actor, host_url, name) as conn:
        postgresql = conn.dialect.name == "postgresql"
        schemas = tuple(host_schemas(conn))
        if postgresql and schema is None:
            schema = "public" if "public" in schemas else next(iter(schemas), None)
        if postgresql and schema is None:
            return Catalog(schemas, None, ())
        names = business_tables(conn, schema)
    tables = tuple(f"{schema}.{name}" if schema else name for name in names)
    return Catalog(schemas, schema, tables)


def shape(
    db: Database,
    table: str,
    actor: str = "system",
    *,
    host_url: str | None = None,
    name: str | None = None,
) -> TableShape:
    """The table's columns, and which tables of its schema refer to it (label tables)."""
    with _reading(db, actor, host_url, name) as conn:
        stored = check_table(conn, table)
        fields = table_fields(conn, stored)
        schema = stored.rpartition(".")[0] or None
        candidates = [f"{schema}.{t}" if schema else t for t in business_tables(conn, schema)]
        labels = tuple(
            other
            for other in candidates
            if other != stored and foreign_key_columns(conn, other, stored)
        )
    return TableShape(stored, fields, labels)
