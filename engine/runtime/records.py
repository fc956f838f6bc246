"""Reading and writing the business records a source watches.

Tables are reflected once per source and kept, because the hot path reads a record
for every step. Writes the engine makes are stamped with the causing run and depth
(through the event triggers' write context), in the caller's transaction, so the
record change and the step result commit together: exactly once. A write with no run
is a host application's own change (the demo's Records panel makes those).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Column, Connection, MetaData, Table, delete, insert, select, update

from engine.errors import StatusFlowError
from engine.sources.introspection import key_value
from engine.sources.registry import SourceInfo
from engine.sources.triggers import clear_write_context, set_write_context


class RecordStore:
    """Record access for the sources of one database, with reflected tables cached."""

    def __init__(self) -> None:
        self._tables: dict[str, Table] = {}

    def _table(self, conn: Connection, name: str) -> Table:
        table = self._tables.get(name)
        if table is None:
            table = Table(name, MetaData(), autoload_with=conn, resolve_fks=False)
            self._tables[name] = table
        return table

    def _key(self, conn: Connection, source: SourceInfo, key: str) -> tuple[Column[Any], Any]:
        column = self._table(conn, source.table).c[source.key_column]
        try:
            return column, key_value(column, key)
        except (ValueError, ArithmeticError):
            raise StatusFlowError(f"'{key}' is not a key of {source.name}.") from None

    def read(self, conn: Connection, source: SourceInfo, key: str) -> dict[str, Any] | None:
        """The record's fields (plus its labels, when the source has a label table); None
        when there is no such record (a key like "12a" for a number key included)."""
        try:
            column, value = self._key(conn, source, key)
        except StatusFlowError:
            return None
        table = self._table(conn, source.table)
        row = conn.execute(select(table).where(column == value)).mappings().first()
        if row is None:
            return None
        record = dict(row)
        if source.label_table:
            record["labels"] = self.labels(conn, source, key)
        return record

    def first_keys(self, conn: Connection, source: SourceInfo, limit: int) -> list[str]:
        """Keys of the first records (by key), e.g. for a sample in previews."""
        column = self._table(conn, source.table).c[source.key_column]
        keys = conn.execute(select(column).order_by(column).limit(limit)).scalars()
        return [str(key) for key in keys]

    def _label_owner(self, conn: Connection, source: SourceInfo, key: str) -> tuple[Table, Any]:
        if not (source.label_table and source.label_key_column and source.label_column):
            raise StatusFlowError(f"{source.name} has no label table; labels cannot be set.")
        table = self._table(conn, source.label_table)
        try:
            return table, key_value(table.c[source.label_key_column], key)
        except (ValueError, ArithmeticError):
            raise StatusFlowError(f"'{key}' is not a key of {source.name}.") from None

    def labels(self, conn: Connection, source: SourceInfo, key: str) -> list[str]:
        table, owner = self._label_owner(conn, source, key)
        assert source.label_key_column and source.label_column
        rows = conn.execute(
            select(table.c[source.label_column]).where(table.c[source.label_key_column] == owner)
        ).scalars()
        return sorted(str(label) for label in rows)

    @contextmanager
    def _as_run(self, conn: Connection, run_id: str | None, depth: int) -> Iterator[None]:
        """Stamp the writes inside with the causing run; no run: a host's own change."""
        if run_id is None:
            yield
            return
        set_write_context(conn, run_id, depth)
        try:
            yield
        finally:
            clear_write_context(conn)

    def write_fields(
        self,
        conn: Connection,
        source: SourceInfo,
        key: str,
        values: dict[str, Any],
        *,
        run_id: str | None,
        depth: int = 0,
    ) -> int:
        """Update columns of one record (as the run ``run_id``); returns rows changed."""
        column, value = self._key(conn, source, key)
        table = self._table(conn, source.table)
        unknown = [name for name in values if name not in table.c]
        if unknown:
            raise StatusFlowError(f"{source.table} has no column {', '.join(unknown)}.")
        with self._as_run(conn, run_id, depth):
            return conn.execute(update(table).where(column == value).values(**values)).rowcount

    def set_label(
        self,
        conn: Connection,
        source: SourceInfo,
        key: str,
        label: str,
        *,
        present: bool,
        run_id: str | None,
        depth: int = 0,
    ) -> bool:
        """Apply or remove a label (as the run); False when nothing had to change."""
        if (label in self.labels(conn, source, key)) == present:
            return False
        table, owner = self._label_owner(conn, source, key)
        assert source.label_key_column and source.label_column
        owner_column, label_column = table.c[source.label_key_column], table.c[source.label_column]
        with self._as_run(conn, run_id, depth):
            if present:
                conn.execute(
                    insert(table).values({owner_column.name: owner, label_column.name: label})
                )
            else:
                conn.execute(
                    delete(table).where(owner_column == owner).where(label_column == label)
                )
        return True
