"""Poll capture: watching a host table without changing anything on the host.

Some teams may not add a trigger to their vendor's tables. For them the engine reads
the table every few seconds and compares each record with what it saw last (the
snapshot): a different status, watched field or label becomes the same event a
trigger would have written, with old and new value. With a changed-at column only
the rows changed since the last poll are read (minus a grace period, so a
transaction that committed late is still seen; the snapshot makes a second look
harmless); without one every row is compared.

What polling cannot see, said plainly to the people who choose it: two changes of a
record between two polls arrive as one (A → B → C is seen as A → C), a record
created and deleted between polls is never seen, and the delay is up to the poll
interval.

The engine's own writes are recognised, not guessed: each one is logged
(:func:`log_write`) in the transaction that makes it, and the poll that sees that
value arrive attributes the change to the run and its causation depth (the loop
guard and "do not execute if changed" read them) and consumes the log entry.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table, bindparam, delete, func, insert, select, update

from engine.sources.capture_table import MOVE_SECONDS
from engine.sources.introspection import key_value, reflect_table
from engine.storage.tables import engine_writes, poll_snapshots, poll_states, status_events

if TYPE_CHECKING:
    from engine.sources.registry import SourceInfo

LATE_COMMIT_GRACE = timedelta(minutes=5)
WRITE_LOG_KEEP = timedelta(days=1)
LABEL_FIELD = "#labels"  # the snapshot's and the write log's name for a record's labels

TableOf = Callable[[Connection, str], Table]


def as_text(value: Any) -> str | None:
    """A host value as events carry it, the same whoever reads it (5, 5.0 and 5.00
    are one number; a date-time in ISO form)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value)).normalize()
        return format(number, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


AT_ONCE = datetime(2000, 1, 1, tzinfo=UTC)  # before any engine's clock


def start(conn: Connection, host: Connection, source: SourceInfo) -> None:
    """Learn how the table looks now (``host`` reaches it), in the transaction that
    registers the source, so that every change after registering is seen; the next
    poll is due at once."""
    schedule(conn, source)
    poll(conn, host, source, datetime.now(UTC), reflect_table)


def schedule(conn: Connection, source: SourceInfo) -> None:
    """The source is read (or, for a host's capture table, emptied) from now on."""
    conn.execute(insert(poll_states).values(source_id=source.id, due_at=AT_ONCE))


def log_write(
    conn: Connection,
    source: SourceInfo,
    key: str,
    values: dict[str, Any],
    *,
    run_id: str,
    depth: int,
) -> None:
    """Remember that a run wrote these values (a column each, or a label as
    ``{"#labels": "+VIP"}``), so the poll that sees them knows who did it."""
    now = datetime.now(UTC)
    conn.execute(
        insert(engine_writes),
        [
            {
                "source_id": source.id,
                "record_key": key,
                "field": field,
                "value": as_text(value),
                "run_id": run_id,
                "depth": depth,
                "written_at": now,
            }
            for field, value in values.items()
        ],
    )


@dataclass
class _Change:
    key: str
    kind: str
    field: str
    old: str | None
    new: str | None

    @property
    def logged_as(self) -> tuple[str, str, str | None]:
        """How the engine's write log names this change."""
        if self.kind == "label":
            return self.key, LABEL_FIELD, f"+{self.new}"
        if self.kind == "label_removed":
            return self.key, LABEL_FIELD, f"-{self.old}"
        return self.key, self.field, self.new


def claim_due(conn: Connection, now: datetime) -> list[int]:
    """The sources whose poll is due, locked so that one engine polls each at a time."""
    query = select(poll_states.c.source_id).where(poll_states.c.due_at <= now)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(conn.scalars(query.order_by(poll_states.c.due_at)))


def next_due(conn: Connection) -> datetime | None:
    """When the earliest poll falls due (perhaps already); None without polled sources."""
    return conn.scalar(select(func.min(poll_states.c.due_at)))


def reschedule(conn: Connection, source: SourceInfo, now: datetime) -> None:
    """The next poll of the source is one interval from now (also after a failed poll);
    a host's capture table is emptied every :data:`MOVE_SECONDS`."""
    seconds = (source.poll_seconds or 5.0) if source.polled else MOVE_SECONDS
    due = now + timedelta(seconds=seconds)
    conn.execute(update(poll_states).where(poll_states.c.source_id == source.id).values(due_at=due))


class _Poll:
    """One poll of one source: read, compare, write events and the new snapshot."""

    def __init__(
        self, conn: Connection, host: Connection, source: SourceInfo, table_of: TableOf
    ) -> None:
        self.conn = conn
        self.host = host  # where the records are: conn itself, or a host database's
        self.source = source
        self.table = table_of(host, source.table)
        self.labels = table_of(host, source.label_table) if source.label_table else None
        self.columns = (source.status_column, *source.watched_columns)

    def rows(self, since: datetime | None) -> tuple[dict[str, dict[str, Any]], str | None]:
        """Each record read now (by key, as text), and the newest changed-at value."""
        s, table = self.source, self.table
        wanted = [table.c[s.key_column], *(table.c[c] for c in self.columns)]
        changed = table.c[s.changed_column] if s.changed_column else None
        query = select(*wanted, *([changed] if changed is not None else []))
        if changed is not None and since is not None:
            query = query.where(changed >= since - LATE_COMMIT_GRACE)
        seen: dict[str, dict[str, Any]] = {}
        newest: Any = None
        for row in self.host.execute(query).mappings():
            key = str(row[s.key_column])
            seen[key] = {c: as_text(row[c]) for c in self.columns}
            if changed is not None and row[changed.name] is not None:
                newest = max(newest, row[changed.name]) if newest else row[changed.name]
        if self.labels is not None:
            self._add_labels(seen)
        return seen, newest.isoformat() if newest is not None else None

    def _add_labels(self, seen: dict[str, dict[str, Any]]) -> None:
        s, labels = self.source, self.labels
        assert labels is not None and s.label_key_column and s.label_column
        owner, label = labels.c[s.label_key_column], labels.c[s.label_column]
        query = select(owner, label)
        if self.source.changed_column:  # only the records read in this poll
            query = query.where(owner.in_([_typed(owner, k) for k in seen]))
        for values in seen.values():
            values[LABEL_FIELD] = []
        for row_owner, name in self.host.execute(query):
            record = seen.get(str(row_owner))
            if record is not None and name is not None:
                record[LABEL_FIELD].append(str(name))
        for values in seen.values():
            values[LABEL_FIELD] = sorted(set(values[LABEL_FIELD]))

    def snapshot(self, keys: Iterable[str] | None) -> dict[str, dict[str, Any]]:
        query = select(poll_snapshots.c.record_key, poll_snapshots.c.seen).where(
            poll_snapshots.c.source_id == self.source.id
        )
        if keys is not None:
            query = query.where(poll_snapshots.c.record_key.in_(list(keys)))
        return {row.record_key: row.seen for row in self.conn.execute(query)}

    def changes(
        self, key: str, before: dict[str, Any] | None, now: dict[str, Any]
    ) -> list[_Change]:
        status = self.source.status_column
        if before is None:
            found = [_Change(key, "created", status, None, now[status])]
            before = {LABEL_FIELD: []}
        else:
            found = [
                _Change(key, "status" if c == status else "field", c, before.get(c), now[c])
                for c in self.columns
                if before.get(c) != now[c]
            ]
        if LABEL_FIELD in now:
            old, new = set(before.get(LABEL_FIELD) or []), set(now[LABEL_FIELD])
            label = self.source.label_column or "label"
            found += [_Change(key, "label", label, None, n) for n in sorted(new - old)]
            found += [_Change(key, "label_removed", label, o, None) for o in sorted(old - new)]
        return found


def _typed(column: Any, key: str) -> Any:
    try:
        return key_value(column, key)
    except (ValueError, ArithmeticError):
        return key


def _causes(
    conn: Connection, source: SourceInfo, changes: list[_Change], read: Collection[str]
) -> dict[int, Any]:
    """For each change the engine made (by index), the logged write that explains it
    (the newest, if runs wrote the same value twice). Every logged write for a record
    this poll read is then consumed, matched or not: the poll has seen where it led, so
    it must not explain a later change by the host."""
    rows = conn.execute(
        select(engine_writes)
        .where(engine_writes.c.source_id == source.id)
        .order_by(engine_writes.c.id)
    ).all()
    newest = {(row.record_key, row.field, row.value): row for row in rows}
    found = {i: newest[c.logged_as] for i, c in enumerate(changes) if c.logged_as in newest}
    seen = [row.id for row in rows if row.record_key in read]
    if seen:
        conn.execute(delete(engine_writes).where(engine_writes.c.id.in_(seen)))
    return found


def poll(
    conn: Connection, host: Connection, source: SourceInfo, now: datetime, table_of: TableOf
) -> int:
    """Poll one source now (its records read through ``host``); returns the number of
    events written."""
    state = conn.execute(select(poll_states).where(poll_states.c.source_id == source.id)).one()
    since = datetime.fromisoformat(state.high_water) if state.high_water else None
    work = _Poll(conn, host, source, table_of)
    seen, newest = work.rows(since)
    full_scan = source.changed_column is None
    before = work.snapshot(None if full_scan else seen)
    baseline = state.polled_at is None
    changes: list[_Change] = []
    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for key, values in seen.items():
        if before.get(key) != values:
            if not baseline:
                changes += work.changes(key, before.get(key), values)
            row = {"sid": source.id, "key": key, "seen": values}
            (changed if key in before else new).append(row)
    _store(conn, new, changed)
    if full_scan:
        gone = [key for key in before if key not in seen]
        if gone:
            conn.execute(
                delete(poll_snapshots)
                .where(poll_snapshots.c.source_id == source.id)
                .where(poll_snapshots.c.record_key.in_(gone))
            )
    _write_events(conn, source, changes, _causes(conn, source, changes, seen), now)
    conn.execute(
        update(poll_states)
        .where(poll_states.c.source_id == source.id)
        .values(polled_at=now, high_water=newest or state.high_water)
    )
    conn.execute(
        delete(engine_writes)
        .where(engine_writes.c.source_id == source.id)
        .where(engine_writes.c.written_at < now - WRITE_LOG_KEEP)
    )
    return len(changes)


_NEW_SNAPSHOT = insert(poll_snapshots).values(
    source_id=bindparam("sid"), record_key=bindparam("key"), seen=bindparam("seen")
)
_CHANGED_SNAPSHOT = (
    update(poll_snapshots)
    .where(poll_snapshots.c.source_id == bindparam("sid"))
    .where(poll_snapshots.c.record_key == bindparam("key"))
    .values(seen=bindparam("seen"))
)


def _store(conn: Connection, new: list[dict[str, Any]], changed: list[dict[str, Any]]) -> None:
    """The snapshot rows of records seen for the first time, and of changed ones."""
    if new:
        conn.execute(_NEW_SNAPSHOT, new)
    if changed:
        conn.execute(_CHANGED_SNAPSHOT, changed)


def _write_events(
    conn: Connection,
    source: SourceInfo,
    changes: list[_Change],
    causes: dict[int, Any],
    now: datetime,
) -> None:
    if not changes:
        return
    conn.execute(
        insert(status_events),
        [
            {
                "source_id": source.id,
                "record_key": change.key[:200],
                "kind": change.kind,
                "field": change.field,
                "old_value": change.old,
                "new_value": change.new,
                "occurred_at": now,
                "caused_by_run_id": causes[i].run_id if i in causes else None,
                "causation_depth": causes[i].depth if i in causes else 0,
            }
            for i, change in enumerate(changes)
        ],
    )
