"""Reading and writing the business records a source watches.

Tables are reflected once per source and kept, because the hot path reads a record
for every step. Writes the engine makes are stamped with the causing run and depth
(through the event triggers' write context), in the caller's transaction, so the
record change and the step result commit together: exactly once. A write with no run
is a host application's own change (the demo's Records panel makes those).

A source in a host database of its own (MariaDB, MySQL) is read and written through
that host's connection (:mod:`engine.sources.hosts`). There a write commits in its own
host transaction, just before the step's: with trigger capture it commits with a
marker (the step's key) so a step retried after a crash does not write again; with
poll capture the host holds nothing of StatusFlow's, and a write only changes a value
that is still the one the step read (a guarded UPDATE).
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
from engine.sources import capture_table, polling
from engine.sources.hosts import HostDatabases, hosts, is_mysql
from engine.sources.introspection import key_value, reflect_table
from engine.sources.registry import SourceInfo
from engine.sources.triggers import clear_write_context, set_write_context

KEY_PARAMETER = "statusflow_record_key"
Place = tuple[
    str | None, int | None, str | None, str
]  # host, port, database, table  # named unlike any column a record table may have


class RecordStore:
    """Record access for the sources of one database, with reflected tables cached."""

    def __init__(self, host_databases: HostDatabases | None = None) -> None:
        self.hosts = host_databases or hosts
        self._tables: dict[Place, Table] = {}
        self._reads: dict[Place, tuple[Select[Any], Select[Any]]] = {}
        self._updates: dict[str, Update] = {}

    def table(self, conn: Connection, name: str) -> Table:
        """The host table, reflected once (``conn`` reaches the database it is in)."""
        place = _place(conn, name)
        table = self._tables.get(place)
        if table is None:
            table = reflect_table(conn, name)
            self._tables[place] = table
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
        place = _place(conn, f"{table}.{column}")
        selects = self._reads.get(place)
        if selects is None:
            reflected = self.table(conn, table)
            by = reflected.c[column]
            selects = (
                select(reflected).where(by == bindparam("value")),
                select(reflected).where(one_of(conn, by, "values")),
            )
            self._reads[place] = selects
        return selects

    def read(self, conn: Connection, source: SourceInfo, key: str) -> dict[str, Any] | None:
        """The record's fields (plus its labels, when the source has a label table); None
        when there is no such record (a key like "12a" for a number key included)."""
        with self.hosts.connect(conn, source) as host:
            return self._read(host, source, key)

    def _read(self, host: Connection, source: SourceInfo, key: str) -> dict[str, Any] | None:
        try:
            _, value = self._key(host, source, key)
        except StatusFlowError:
            return None
        one, _ = self._selects(host, source.table, source.key_column)
        row = host.execute(one, {"value": value}).mappings().first()
        if row is None:
            return None
        record = dict(row)
        if source.label_table:
            record["labels"] = self._labels_of(host, source, [key])[key]
        return record

    def read_many(
        self, conn: Connection, source: SourceInfo, keys: Collection[str]
    ) -> dict[str, dict[str, Any] | None]:
        """:meth:`read` for several records, in one query (two with labels)."""
        with self.hosts.connect(conn, source) as host:
            return self._read_many(host, source, keys)

    def _read_many(
        self, host: Connection, source: SourceInfo, keys: Collection[str]
    ) -> dict[str, dict[str, Any] | None]:
        wanted: dict[Any, list[str]] = {}
        for key in set(keys):
            try:
                wanted.setdefault(self._key(host, source, key)[1], []).append(key)
            except StatusFlowError:
                continue
        found: dict[str, dict[str, Any] | None] = {}
        if wanted:
            _, many = self._selects(host, source.table, source.key_column)
            for row in host.execute(many, {"values": list(wanted)}).mappings():
                for key in wanted.pop(row[source.key_column], []):
                    found[key] = dict(row)
        if source.label_table and found:
            labels = self._labels_of(host, source, list(found))
            for key, record in found.items():
                if record is not None:
                    record["labels"] = labels[key]
        for key in (k for ks in wanted.values() for k in ks):  # missing, or spelled otherwise
            found[key] = self._read(host, source, key)
        return {key: found.get(key) for key in keys}

    def first_keys(self, conn: Connection, source: SourceInfo, limit: int) -> list[str]:
        """Keys of the first records (by key), e.g. for a sample in previews."""
        with self.hosts.connect(conn, source) as host:
            column = self.table(host, source.table).c[source.key_column]
            keys = host.execute(select(column).order_by(column).limit(limit)).scalars()
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
        with self.hosts.connect(conn, source) as host:
            return self._labels_of(host, source, [key])[key]

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

        On SQLite the stamp is a row, cleared after the write; on MySQL session
        variables, cleared even when the write fails (they outlive the transaction).
        PostgreSQL keeps it for the transaction only, so it is not cleared after each
        write (the next write of a run stamps its own; a write without a run clears it
        first): one round trip per record write instead of two. A write that fails
        leaves the stamp; the caller rolls back (to its savepoint), which removes both."""
        postgres = conn.dialect.name == "postgresql"
        if run_id is None:
            if postgres:
                clear_write_context(conn)
            yield
            return
        set_write_context(conn, run_id, depth)
        if is_mysql(conn):
            try:
                yield
            finally:
                clear_write_context(conn)
            return
        yield
        if not postgres:
            clear_write_context(conn)

    @contextmanager
    def _writing(
        self, conn: Connection, source: SourceInfo, step_key: str | None
    ) -> Iterator[Connection | None]:
        """The connection a write goes to, or None when this step's write has committed
        on the host already (its marker is there)."""
        with self.hosts.connect(conn, source) as host:
            marked = bool(source.host_url and step_key and not source.polled)
            if marked and capture_table.written(host, str(step_key)):
                yield None
                return
            yield host
            if marked:
                capture_table.mark(host, str(step_key))

    def write_fields(
        self,
        conn: Connection,
        source: SourceInfo,
        key: str,
        values: dict[str, Any],
        *,
        run_id: str | None,
        depth: int = 0,
        step_key: str | None = None,
        expected: dict[str, Any] | None = None,
    ) -> int:
        """Update columns of one record (as the run ``run_id``); returns rows changed.

        ``step_key`` names the step, so a retried step writes a host of its own once;
        ``expected`` holds the values the step read, which a host without a marker only
        overwrites while they are still there."""
        with self._writing(conn, source, step_key) as host:
            if host is None:
                changed = 1
            else:
                changed = self._update(host, source, key, values, run_id, depth, expected)
        if changed and run_id is not None and source.polled:
            polling.log_write(conn, source, key, values, run_id=run_id, depth=depth)
        return changed

    def _update(
        self,
        host: Connection,
        source: SourceInfo,
        key: str,
        values: dict[str, Any],
        run_id: str | None,
        depth: int,
        expected: dict[str, Any] | None,
    ) -> int:
        column, value = self._key(host, source, key)
        table = self.table(host, source.table)
        unknown = [name for name in values if name not in table.c]
        if unknown:
            raise StatusFlowError(f"{source.table} has no column {', '.join(unknown)}.")
        statement = self._updates.get(source.name)
        if statement is None:  # the columns to set come with the parameters
            statement = update(table).where(column == bindparam(KEY_PARAMETER))
            if source.polled and source.changed_column:
                # the poll reads rows by this column: the engine's own change must show
                statement = statement.values({source.changed_column: func.current_timestamp()})
            self._updates[source.name] = statement
        guarded = source.host_url and source.polled and expected is not None
        if guarded:
            assert expected is not None
            statement = statement.where(
                *(table.c[name].is_not_distinct_from(expected.get(name)) for name in values)
            )
        with self._as_run(host, run_id, depth):
            changed = host.execute(statement, {**values, KEY_PARAMETER: value}).rowcount
        if guarded and not changed:
            return self._already_written(host, source, key, values)
        return int(changed)

    def _already_written(
        self, host: Connection, source: SourceInfo, key: str, values: dict[str, Any]
    ) -> int:
        """After a guarded UPDATE changed nothing: 1 when the record holds the values
        already (this step's earlier attempt wrote them), 0 when it is gone; someone
        else's change in between is refused, to be read again on the next attempt."""
        record = self._read(host, source, key)
        if record is None:
            return 0
        now = {name: record.get(name) for name in values}
        if all(polling.as_text(now[n]) == polling.as_text(v) for n, v in values.items()):
            return 1
        shown = ", ".join(f"{n} = {now[n]!r}" for n in values)
        raise StatusFlowError(
            f"Record {key} changed while the step ran ({shown} now); it was not overwritten "
            "and the step will read it again."
        )

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
        step_key: str | None = None,
    ) -> bool:
        """Apply or remove a label (as the run); False when nothing had to change."""
        with self._writing(conn, source, step_key) as host:
            if host is None or (label in self._labels_of(host, source, [key])[key]) == present:
                return False
            table, owner = self._label_owner(host, source, key)
            assert source.label_key_column and source.label_column
            owner_column = table.c[source.label_key_column]
            label_column = table.c[source.label_column]
            with self._as_run(host, run_id, depth):
                if present:
                    host.execute(
                        insert(table).values({owner_column.name: owner, label_column.name: label})
                    )
                else:
                    host.execute(
                        delete(table).where(owner_column == owner).where(label_column == label)
                    )
        if run_id is not None and source.polled:
            change = {polling.LABEL_FIELD: ("+" if present else "-") + label}
            polling.log_write(conn, source, key, change, run_id=run_id, depth=depth)
        return True


def _place(conn: Connection, name: str) -> Place:
    """A table's name with the database it is in, for caches shared by every host."""
    url = conn.engine.url
    return url.host, url.port, url.database, name
