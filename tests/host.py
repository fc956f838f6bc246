"""Writing as the host application does: to its own tables, never StatusFlow's.

On PostgreSQL StatusFlow's connections search only StatusFlow's schema; the host's
tables (the tests' and the demo's) live in ``public``, as a customer's would.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection

from engine.storage.database import Database


@contextmanager
def as_host(db: Database) -> Iterator[Connection]:
    """A transaction in which plain table names are the host application's tables."""
    with db.write() as conn:
        if db.is_postgresql:
            conn.exec_driver_sql("SET LOCAL search_path TO public")
        yield conn


def stored(db: Database, table: str) -> str:
    """A host table's name as StatusFlow stores it: with its schema on PostgreSQL."""
    return f"public.{table}" if db.is_postgresql else table
