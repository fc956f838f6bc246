"""Turning claimed status events into runs.

For each event, in one transaction: pending waits that said "do not execute if the
status changed" are cancelled, waits for a status are woken, the loop guard is
consulted, and every matching current version starts a run with its first work
items. A unique key on (version, event) means a version never starts twice for one
event; a unique enrollment key means a graph never runs twice at once for one
record, unless its trigger allows it.

A batch of events is handled in waves of at most one event per record, each wave
with one query per kind of lookup and one insert per kind of row; a record's next
event waits for the next wave, so it sees the runs its previous event started.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, and_, bindparam, case, func, or_, select, update

from engine import analytics, audit
from engine.clock import Clock
from engine.nodes import catalogue
from engine.runtime.bulk import one_of
from engine.runtime.events import Event, by_source, matches, waves
from engine.runtime.index import Entry, Version
from engine.runtime.journal import Journal
from engine.runtime.runs import finish_run, insert_runs, run_row
from engine.runtime.services import Services
from engine.runtime.tasks import create_task
from engine.settings import EngineLimits
from engine.sources.registry import SourceInfo
from engine.storage.tables import archived_records, runs, status_events, work_items


@dataclass(frozen=True)
class Start:
    """A run about to start: the trigger that fired, on which record, and why."""

    entry: Entry
    record_key: str
    opening: str
    event: Event | None = None
    started_by: str | None = None


def _pending_items(conn: Connection) -> Select[Any]:
    """Pending work items of the active runs on some records of one source."""
    return (
        select(
            work_items.c.id,
            work_items.c.node_id,
            work_items.c.payload,
            runs.c.id.label("run"),
            runs.c.version_id,
            runs.c.record_key,
        )
        .join(runs, runs.c.id == work_items.c.run_id)
        .where(runs.c.source_id == bindparam("source_id"))
        .where(one_of(conn, runs.c.record_key, "keys"))
        .where(runs.c.state == "active")
        .where(work_items.c.state == "pending")
        .order_by(work_items.c.id)
    )


def _archived_keys(conn: Connection) -> Select[Any]:
    return (
        select(archived_records.c.record_key)
        .where(archived_records.c.source_id == bindparam("source_id"))
        .where(one_of(conn, archived_records.c.record_key, "keys"))
    )


def _history_of(conn: Connection, since: datetime) -> Select[Any]:
    """Per graph and record: runs started since then (loop guard), and any active."""
    return (
        select(
            runs.c.graph_id,
            runs.c.record_key,
            func.sum(
                case(
                    (and_(runs.c.started_at > since, runs.c.state != "stopped_loop_guard"), 1),
                    else_=0,
                )
            ).label("recent"),
            func.max(case((runs.c.state == "active", 1), else_=0)).label("active"),
        )
        .where(runs.c.source_id == bindparam("source_id"))
        .where(one_of(conn, runs.c.record_key, "keys"))
        .where(one_of(conn, runs.c.graph_id, "graph_ids"))
        .where(or_(runs.c.started_at > since, runs.c.state == "active"))
        .group_by(runs.c.graph_id, runs.c.record_key)
    )


class Ingest:
    """Processes claimed events; one instance per engine."""

    def __init__(self, services: Services, clock: Clock) -> None:
        self.services = services
        self.clock = clock

    def process(self, conn: Connection, events: list[Event], limits: EngineLimits) -> int:
        """Handle the events and mark them processed; returns how many runs started."""
        self.services.refresh(conn)
        journal = Journal(conn, self.services.engine_id, self.clock)
        started = 0
        for wave in waves(events):
            self._interrupt_waits(conn, wave)
            archived = self._archived(conn, wave)
            starts = [
                Start(entry, event.record_key, event.describe(), event=event)
                for event in wave
                if (event.source_id, event.record_key) not in archived
                for entry in self.services.versions.index.matching(event.source_id, event.kind)
                if matches(entry, event)
            ]
            started += sum(
                run is not None for run in self._start_all(conn, starts, limits, journal)
            )
            journal.settle()  # the next wave sees these runs and their work items
        if events:
            conn.execute(
                update(status_events)
                .where(one_of(conn, status_events.c.id, "ids"))
                .values(processed_at=self.clock.now(), processed_by=self.services.engine_id),
                {"ids": [e.id for e in events]},
            )
        return started

    def _archived(self, conn: Connection, events: list[Event]) -> set[tuple[int, str]]:
        """The records of these events that were archived: no run starts on them."""
        query = _archived_keys(conn)
        return {
            (source_id, key)
            for source_id, keys in by_source((e.source_id, e.record_key) for e in events).items()
            for key in conn.execute(query, {"source_id": source_id, "keys": keys}).scalars()
        }

    # -- waits that these events cancel or wake ----------------------------------------

    def _interrupt_waits(self, conn: Connection, wave: list[Event]) -> None:
        events = {(e.source_id, e.record_key): e for e in wave if e.kind in ("status", "field")}
        query = _pending_items(conn)
        for source_id, keys in by_source(events).items():
            pending = conn.execute(query, {"source_id": source_id, "keys": keys})
            for item in pending.all():
                self._interrupt(conn, item, events[(source_id, item.record_key)])

    def _interrupt(self, conn: Connection, item: Any, event: Event) -> None:
        """Cancel the run of a pending item, or wake it, as this event asks."""
        if item.run == event.caused_by_run_id:
            return  # a run's own change does not stop the run
        version = self.services.versions.get(conn, item.version_id)
        node = version.graph.node(item.node_id)
        if node is None:
            return
        params = catalogue.require(node.type).with_defaults(node.params)
        if self._cancels(params, event):
            reason = f"{event.describe()}, so the remaining steps were not executed"
            finish_run(conn, item.run, "cancelled", reason, clock=self.clock)
        elif self._awaited(node.type, item.payload, event):
            conn.execute(
                update(work_items).where(work_items.c.id == item.id).values(due_at=self.clock.now())
            )

    @staticmethod
    def _awaited(node_type: str, payload: dict[str, Any] | None, event: Event) -> bool:
        """A 'wait for a status' that this status change satisfies."""
        codes = (payload or {}).get("codes", [])
        return node_type == "wait.status" and event.kind == "status" and event.new_value in codes

    @staticmethod
    def _cancels(params: dict[str, Any], event: Event) -> bool:
        mode = params.get("skip_if_changed")
        if mode == "status":
            return event.kind == "status"
        return mode == "field" and event.kind == "field" and event.field == params.get("skip_field")

    # -- starting runs -------------------------------------------------------------

    def start(
        self,
        conn: Connection,
        entry: Entry,
        record_key: str,
        limits: EngineLimits,
        *,
        opening: str,
        event: Event | None = None,
        started_by: str | None = None,
    ) -> str | None:
        """Start a run of the entry's version for one record; the run id, or None when
        it must not start (already running, record gone, started by another engine)."""
        journal = Journal(conn, self.services.engine_id, self.clock)
        start = Start(entry, record_key, opening, event, started_by)
        [run_id] = self._start_all(conn, [start], limits, journal)
        journal.settle()
        return run_id

    def _start_all(
        self, conn: Connection, starts: list[Start], limits: EngineLimits, journal: Journal
    ) -> list[str | None]:
        """Start what may start, as :meth:`start` does for one; the run ids, None where
        no run started. The starts are on different records, or for one event (whose
        version the unique key lets start once)."""
        history = self._history(conn, starts)
        records = {
            (source.id, key): record
            for source, keys in _sources_of(starts).values()
            for key, record in self.services.records.read_many(conn, source, keys).items()
        }
        planned: list[tuple[int, dict[str, Any], str | None]] = []
        for number, start in enumerate(starts):
            version, depth = start.entry.version, _depth(start)
            exclusive = start.entry.params.get("while_running", "skip") != "parallel"
            recent, active = history.get((version.graph_id, start.record_key), (0, False))
            guard = self._loop_guard(version, recent, depth, limits)
            record = records[(version.source.id, start.record_key)]
            if (exclusive and guard is None and active) or record is None:
                continue
            event = start.event
            previous = event.old_value if event and event.kind == "status" else None
            row = run_row(
                graph_id=version.graph_id,
                version_id=version.id,
                source_id=version.source.id,
                record_key=start.record_key,
                trigger_node_id=start.entry.node.id,
                trigger_event_id=event.id if event else None,
                depth=depth,
                snapshot={**record, "_previous_status": previous},
                exclusive=exclusive,
                started_by=start.started_by,
                clock=self.clock,
            )
            planned.append((number, row, guard))
        inserted = insert_runs(conn, [row for _, row, _ in planned])
        started: list[str | None] = [None] * len(starts)
        for number, row, guard in planned:
            if row["id"] in inserted:  # else another engine started it, or a run is active
                started[number] = row["id"]
                self._opened(conn, starts[number], row["id"], guard, journal)
        return started

    def _opened(
        self, conn: Connection, start: Start, run_id: str, guard: str | None, journal: Journal
    ) -> None:
        """The new run's first line and first work items, or its stop by the loop guard."""
        entry, event, version = start.entry, start.event, start.entry.version
        journal.step(
            run_id,
            "trigger",
            f"{start.opening}: started '{version.graph_name}' {version.label}.",
            node_id=entry.node.id,
            node_type=entry.node.type,
            detail={"event_id": event.id, "old": event.old_value, "new": event.new_value}
            if event
            else {"started_by": start.started_by},
        )
        if guard is not None:
            journal.flush()
            self._stop_for_loop(conn, run_id, version, start.record_key, _depth(start), guard)
            return
        journal.analytics(
            analytics.RUN_STARTED,
            source_id=version.source.id,
            graph_id=version.graph_id,
            trigger_type=entry.kind,
        )
        if not journal.follow(version, run_id, start.record_key, entry.node.id, ("out",)):
            journal.idle(run_id)  # a trigger with nothing after it: done at once

    def _history(
        self, conn: Connection, starts: list[Start]
    ) -> dict[tuple[str, str], tuple[int, bool]]:
        """Per (graph, record): runs in the last hour, and whether one is active."""
        query = _history_of(conn, self.clock.now() - timedelta(hours=1))
        graph_ids = sorted({s.entry.version.graph_id for s in starts})
        history: dict[tuple[str, str], tuple[int, bool]] = {}
        for source, keys in _sources_of(starts).values():
            params = {"source_id": source.id, "keys": keys, "graph_ids": graph_ids}
            for row in conn.execute(query, params):
                history[(row.graph_id, row.record_key)] = (int(row.recent), bool(row.active))
        return history

    def _loop_guard(
        self, version: Version, recent: int, depth: int, limits: EngineLimits
    ) -> str | None:
        """Why this start must be stopped as a loop, or None."""
        if depth > limits.loop_depth_limit:
            return (
                f"this change is link {depth} of a chain of automations "
                f"changing each other's records (the limit is {limits.loop_depth_limit})"
            )
        if recent >= limits.runs_per_record_per_hour:
            return (
                f"'{version.graph_name}' already started {recent} times on this record in the "
                f"last hour (the limit is {limits.runs_per_record_per_hour})"
            )
        return None

    def _stop_for_loop(
        self, conn: Connection, run_id: str, version: Version, record_key: str, depth: int, why: str
    ) -> None:
        finish_run(conn, run_id, "stopped_loop_guard", why, clock=self.clock)
        reason = f"Stopped by the loop guard: {why}"
        create_task(
            conn,
            kind="alert",
            title=f"Loop stopped: '{version.graph_name}' on {version.source.name} {record_key}",
            instructions=f"{reason}. Check the automations that change this record's status "
            "and labels; they may be triggering each other.",
            assignee_role="admin",
            run_id=run_id,
            context={"record_key": record_key, "depth": depth},
            clock=self.clock,
        )
        audit.record(
            conn,
            actor=f"engine {self.services.engine_id[:8]}",
            action="engine.loop_guard",
            object_type="run",
            object_id=run_id,
            summary=reason,
            at=self.clock.now(),
        )


def _depth(start: Start) -> int:
    return start.event.causation_depth if start.event else 0


def _sources_of(starts: list[Start]) -> dict[int, tuple[SourceInfo, list[str]]]:
    """The records these starts need, by source: (source, keys)."""
    sources = {s.entry.version.source.id: s.entry.version.source for s in starts}
    keys = by_source((s.entry.version.source.id, s.record_key) for s in starts)
    return {source_id: (sources[source_id], found) for source_id, found in keys.items()}
