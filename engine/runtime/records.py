"""Reading and writing the business records a source watches.

Tables are reflected once per source and kept, because the hot path reads a record
for every step. Writes the engine makes are stamped with the causing run and depth
(through the event triggers' write context), in the caller's transaction, so the
record change and the step result commit together: exactly once. A write with no run
is a host application's own change (the demo's Records panel makes those).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Select,
    Table,
    Update,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from engine.errors import StatusFlowError
from engine.runtime.bulk import one_of
from engine.sources import polling
from engine.sources.introspection import key_value, reflect_table
from engine.sources.registry import SourceInfo
from engine.sources.triggers import clear_write_context, set_write_context

KEY_PARAMETER = "statusflow_record_key"  # named unlike any column a record table may have


class RecordStore:
    """Record access for the sources of one database, with reflected tables cached."""

    def __init__(self) -> None:
        self._tables: dict[str, Table] = {}
        self._reads: dict[tuple[str, str], tuple[Select[Any], Select[Any]]] = {}
        self._updates: dict[str, Update] = {}

    def table(self, conn: Connection, name: str) -> Table:
        """The host table, reflected once."""
        table = self._tables.get(name)
        if table is None:
            table = reflect_table(conn, name)
            self._tables[name] = table
        return table

    def _key(self, conn: Connection, source: SourceInfo, key: str) -> tuple[Column[Any], Any]:
        column = self.table(conn, source.table).c[source.key_column]
        try:
            return column, key_value(column, key)
        except (ValueError, ArithmeticError):
            raise StatusFlowError(f"'{key}' is not a key of {source.name}.") from None

    def _selects(
        self, conn: Connection, table: str, column: str
    ) -> tuple[Select[Any], Select[Any]]:
        """Rows of ``table`` by one value and by a list of values of ``column``, built
        once: the hot path reads a record for every step."""
        selects = self._reads.get((table, column))
        if selects is None:
            reflected = self.table(conn, table)
            by = reflected.c[column]
            selects = (
                select(reflected).where(by == bindparam("value")),
                select(reflected).where(one_of(conn, by, "values")),
            )
            self._reads[(table, column)] = selects
        return selects

    def read(self, conn: Connection, source: SourceInfo, key: str) -> dict[str, Any] | None:
        """The record's fields (plus its labels, when the source has a label table); None
        when there is no such record (a key like "12a" for a number key included)."""
        try:
            _, value = self._key(conn, source, key)
        except StatusFlowError:
            return None
        one, _ = self._selects(conn, source.table, source.key_column)
        row = conn.execute(one, {"value": value}).mappings().first()
        if row is None:
            return None
        record = dict(row)
        if source.label_table:
            record["labels"] = self.labels(conn, source, key)
        return record

    def read_many(
        self, conn: Connection, source: SourceInfo, keys: Collection[str]
    ) -> dict[str, dict[str, Any] | None]:
        """:meth:`read` for several records, in one query (two with labels)."""
        wanted: dict[Any, list[str]] = {}
        for key in set(keys):
            try:
                wanted.setdefault(self._key(conn, source, key)[1], []).append(key)
            except StatusFlowError:
                continue
        found: dict[str, dict[str, Any] | None] = {}
        if wanted:
            _, many = self._selects(conn, source.table, source.key_column)
            for row in conn.execute(many, {"values": list(wanted)}).mappings():
                for key in wanted.pop(row[source.key_column], []):
                    found[key] = dict(row)
        if source.label_table and found:
            labels = self._labels_of(conn, source, list(found))
            for key, record in found.items():
                if record is not None:
                    record["labels"] = labels[key]
        for key in (k for ks in wanted.values() for k in ks):  # missing, or spelled otherwise
            found[key] = self.read(conn, source, key)
        return {key: found.get(key) for key in keys}

    def first_keys(self, conn: Connection, source: SourceInfo, limit: int) -> list[str]:
        """Keys of the first records (by key), e.g. for a sample in previews."""
        column = self.table(conn, source.table).c[source.key_column]
        keys = conn.execute(select(column).order_by(column).limit(limit)).scalars()
        return [str(key) for key in keys]

    def _label_owner(self, conn: Connection, source: SourceInfo, key: str) -> tuple[Table, Any]:
        if not (source.label_table and source.label_key_column and source.label_column):
            raise StatusFlowError(f"{source.name} has no label table; labels cannot be set.")
        table = self.table(conn, source.label_table)
        try:
            return table, key_value(table.c[source.label_key_column], key)
        except (ValueError, ArithmeticError):
            raise StatusFlowError(f"'{key}' is not a key of {source.name}.") from None

    def labels(self, conn: Connection, source: SourceInfo, key: str) -> list[str]:
        return self._labels_of(conn, source, [key])[key]

    def _labels_of(
        self, conn: Connection, source: SourceInfo, keys: list[str]
    ) -> dict[str, list[str]]:
        """The labels of each record, sorted, by key."""
        owners = {key: self._label_owner(conn, source, key)[1] for key in keys}
        assert source.label_table and source.label_key_column and source.label_column
        one, many = self._selects(conn, source.label_table, source.label_key_column)
        if len(owners) == 1:
            rows = conn.execute(one, {"value": owners[keys[0]]}).mappings()
            return {keys[0]: sorted(str(row[source.label_column]) for row in rows)}
        found: dict[Any, list[str]] = {}
        for row in conn.execute(many, {"values": list(owners.values())}).mappings():
            found.setdefault(row[source.label_key_column], []).append(str(row[source.label_column]))
        return {key: sorted(found.get(owner, [])) for key, owner in owners.items()}

    @contextmanager
    def _as_run(self, conn: Connection, run_id: str | None, depth: int) -> Iterator[None]:
        """Stamp the writes inside with the causing run; no run: a host's own change.

        On SQLite the stamp is a row, cleared after the write. PostgreSQL keeps it for
        the transaction only, so it is not cleared after each write (the next write of
        a run stamps its own; a write without a run clears it first): one round trip
        per record write instead of two. A write that fails leaves the stamp; the
        caller rolls back (to its savepoint), which removes both."""
        postgres = conn.dialect.name == "postgresql"
        if run_id is None:
            if postgres:
                clear_write_context(conn)
            yield
            return
        set_write_context(conn, run_id, depth)
        yield
        if not postgres:
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
        table = self.table(conn, source.table)
        unknown = [name for name in values if name not in table.c]
        if unknown:
            raise StatusFlowError(f"{source.table} has no column {', '.join(unknown)}.")
        statement = self._updates.get(source.table)
        if statement is None:  # the columns to set come with the parameters
            statement = update(table).where(column == bindparam(KEY_PARAMETER))
            if source.polled and source.changed_column:
                # the poll reads rows by this column: the engine's own change must show
                statement = statement.values({source.changed_column: func.current_timestamp()})
            self._updates[source.table] = statement
        with self._as_run(conn, run_id, depth):
            changed = conn.execute(statement, {**values, KEY_PARAMETER: value}).rowcount
        if changed and run_id is not None and source.polled:
            polling.log_write(conn, source, key, values, run_id=run_id, depth=depth)
        return changed

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
        if run_id is not None and source.polled:
            change = {polling.LABEL_FIELD: ("+" if present else "-") + label}
            polling.log_write(conn, source, key, change, run_id=run_id, depth=depth)
        return True
