"""Status events as the engine claims them, and the triggers they fire.

Unprocessed events are claimed (FOR UPDATE SKIP LOCKED on PostgreSQL), never read
past a high-water mark, because ids commit out of order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, select

from engine.runtime.index import Entry
from engine.storage.tables import status_events


@dataclass(frozen=True)
class Event:
    id: int
    source_id: int
    record_key: str
    kind: str
    field: str | None
    old_value: str | None
    new_value: str | None
    caused_by_run_id: str | None
    causation_depth: int

    def describe(self) -> str:
        """Why a run started, in the timeline's words (a value that was not set is
        'empty', as people say it, never Python's None)."""
        if self.kind == "status":
            return f"Status changed from {self.old_value or 'empty'} to {self.new_value}"
        if self.kind == "label":
            return f"Label '{self.new_value}' applied"
        if self.kind == "label_removed":
            return f"Label '{self.old_value}' removed"
        if self.kind == "created":
            return f"Record created with status {self.new_value}"
        return f"{self.field} changed from {_shown(self.old_value)} to {_shown(self.new_value)}"


def _shown(value: str | None) -> str:
    return "empty" if value is None else repr(value)


def claim_events(conn: Connection, owner: str, limit: int) -> list[Event]:
    query = (
        select(status_events)
        .where(status_events.c.processed_at.is_(None))
        .order_by(status_events.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [
        Event(
            r.id,
            r.source_id,
            r.record_key,
            r.kind,
            r.field,
            r.old_value,
            r.new_value,
            r.caused_by_run_id,
            r.causation_depth,
        )
        for r in conn.execute(query)
    ]


def matches(entry: Entry, event: Event) -> bool:
    """Whether a trigger node fires on this event."""
    params = entry.params
    if entry.kind == "status" and event.kind == "status":
        codes = [str(c) for c in params.get("codes") or []]
        origin = params.get("from_code")
        return event.new_value in codes and (not origin or event.old_value == origin)
    if entry.kind == "label" and event.kind == "label":
        return event.new_value == params.get("label")
    if entry.kind == "created" and event.kind == "created":
        codes = [str(c) for c in params.get("codes") or []]
        return not codes or event.new_value in codes
    if entry.kind == "field" and event.kind == "field":
        wanted = params.get("to_value")
        return event.field == params.get("field") and (not wanted or event.new_value == wanted)
    return False


def waves(events: list[Event]) -> list[list[Event]]:
    """The events in order, split so that a wave holds at most one event per record:
    a record's second event goes in the second wave, and so on."""
    split: list[list[Event]] = []
    seen: dict[tuple[int, str], int] = defaultdict(int)
    for event in events:
        wave = seen[(event.source_id, event.record_key)]
        seen[(event.source_id, event.record_key)] += 1
        if wave == len(split):
            split.append([])
        split[wave].append(event)
    return split


def by_source(pairs: Iterable[tuple[int, str]]) -> dict[int, list[str]]:
    """Record keys grouped by source id, for one query per source."""
    keys: dict[int, set[str]] = defaultdict(set)
    for source_id, key in pairs:
        keys[source_id].add(key)
    return {source_id: sorted(found) for source_id, found in keys.items()}
