"""Turning status events into runs.

Unprocessed events are claimed (FOR UPDATE SKIP LOCKED on PostgreSQL), never read
past a high-water mark, because ids commit out of order. For each event, in one
transaction: pending waits that said "do not execute if the status changed" are
cancelled, waits for a status are woken, the loop guard is consulted, and every
matching current version starts a run with its first work items. A unique key on
(version, event) means a version never starts twice for one event; a unique
enrollment key means a graph never runs twice at once for one record, unless its
trigger allows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, and_, exists, func, select, update
from sqlalchemy.exc import IntegrityError

from engine import analytics, audit
from engine.clock import Clock
from engine.nodes import catalogue
from engine.runtime.index import Entry, Version
from engine.runtime.runs import (
    add_step,
    add_work_item,
    create_run,
    finish_if_done,
    finish_run,
    record_lock,
)
from engine.runtime.services import Services
from engine.settings import EngineLimits
from engine.storage.tables import archived_records, runs, status_events, work_items
from engine.tasks import create_task


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
        if self.kind == "status":
            return f"Status changed from {self.old_value} to {self.new_value}"
        if self.kind == "label":
            return f"Label '{self.new_value}' applied"
        if self.kind == "label_removed":
            return f"Label '{self.old_value}' removed"
        if self.kind == "created":
            return f"Record created with status {self.new_value}"
        return f"{self.field} changed from {self.old_value!r} to {self.new_value!r}"


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


class Ingest:
    """Processes claimed events; one instance per engine."""

    def __init__(self, services: Services, clock: Clock) -> None:
        self.services = services
        self.clock = clock

    def process(self, conn: Connection, events: list[Event], limits: EngineLimits) -> int:
        """Handle the events and mark them processed; returns how many runs started."""
        self.services.refresh(conn)
        started = 0
        for event in events:
            self._interrupt_waits(conn, event)
            if not self._archived(conn, event):
                started += sum(
                    self._start(conn, entry, event, limits)
                    for entry in self.services.versions.index.matching(event.source_id, event.kind)
                    if matches(entry, event)
                )
        if events:
            conn.execute(
                update(status_events)
                .where(status_events.c.id.in_([e.id for e in events]))
                .values(processed_at=self.clock.now(), processed_by=self.services.engine_id)
            )
        return started

    def _archived(self, conn: Connection, event: Event) -> bool:
        return bool(
            conn.execute(
                select(
                    exists().where(
                        and_(
                            archived_records.c.source_id == event.source_id,
                            archived_records.c.record_key == event.record_key,
                        )
                    )
                )
            ).scalar()
        )

    # -- waits that this event cancels or wakes --------------------------------------

    def _interrupt_waits(self, conn: Connection, event: Event) -> None:
        if event.kind not in ("status", "field"):
            return
        pending = conn.execute(
            select(
                work_items.c.id,
                work_items.c.node_id,
                work_items.c.payload,
                runs.c.id.label("run"),
                runs.c.version_id,
            )
            .join(runs, runs.c.id == work_items.c.run_id)
            .where(runs.c.source_id == event.source_id)
            .where(runs.c.record_key == event.record_key)
            .where(runs.c.state == "active")
            .where(work_items.c.state == "pending")
        ).all()
        for item in pending:
            if item.run == event.caused_by_run_id:
                continue  # a run's own change does not stop the run
            version = self.services.versions.get(conn, item.version_id)
            node = version.graph.node(item.node_id)
            if node is None:
                continue
            params = catalogue.require(node.type).with_defaults(node.params)
            if self._cancels(params, event):
                reason = f"{event.describe()}, so the remaining steps were not executed"
                finish_run(conn, item.run, "cancelled", reason, clock=self.clock)
            elif self._awaited(node.type, item.payload, event):
                conn.execute(
                    update(work_items)
                    .where(work_items.c.id == item.id)
                    .values(due_at=self.clock.now())
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

    def _start(self, conn: Connection, entry: Entry, event: Event, limits: EngineLimits) -> int:
        started = self.start(
            conn,
            entry,
            event.record_key,
            limits,
            opening=event.describe(),
            event=event,
        )
        return int(started is not None)

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
        version = entry.version
        exclusive = entry.params.get("while_running", "skip") != "parallel"
        depth = event.causation_depth if event else 0
        recent, active = self._history(conn, version, record_key)
        guard = self._loop_guard(version, recent, depth, limits)
        if exclusive and guard is None and active:
            return None
        record = self.services.records.read(conn, version.source, record_key)
        if record is None:
            return None
        record["_previous_status"] = event.old_value if event and event.kind == "status" else None
        try:
            with conn.begin_nested():
                run_id = create_run(
                    conn,
                    graph_id=version.graph_id,
                    version_id=version.id,
                    source_id=version.source.id,
                    record_key=record_key,
                    trigger_node_id=entry.node.id,
                    trigger_event_id=event.id if event else None,
                    depth=depth,
                    snapshot=record,
                    exclusive=exclusive,
                    started_by=started_by,
                    clock=self.clock,
                )
        except IntegrityError:  # another engine started it, or a run is active: not twice
            return None
        add_step(
            conn,
            run_id,
            "trigger",
            f"{opening}: started '{version.graph_name}' {version.label}.",
            node_id=entry.node.id,
            node_type=entry.node.type,
            clock=self.clock,
            detail={"event_id": event.id, "old": event.old_value, "new": event.new_value}
            if event
            else {"started_by": started_by},
        )
        if guard is not None:
            self._stop_for_loop(conn, run_id, version, record_key, depth, guard)
            return run_id
        analytics.record(
            conn,
            analytics.RUN_STARTED,
            source_id=version.source.id,
            graph_id=version.graph_id,
            trigger_type=entry.kind,
            clock=self.clock,
        )
        first = follow(
            conn,
            version,
            run_id,
            entry.node.id,
            ("out",),
            version.source.id,
            record_key,
            self.clock,
        )
        if not first:  # a trigger with nothing after it: done at once
            finish_if_done(conn, run_id, clock=self.clock)
        return run_id

    def _history(self, conn: Connection, version: Version, record_key: str) -> tuple[int, bool]:
        """Runs of this graph on this record in the last hour, and whether one is active."""
        mine = (
            (runs.c.graph_id == version.graph_id)
            & (runs.c.source_id == version.source.id)
            & (runs.c.record_key == record_key)
        )
        recent = (
            select(func.count())
            .where(mine)
            .where(runs.c.started_at > self.clock.now() - timedelta(hours=1))
            .where(runs.c.state != "stopped_loop_guard")
            .scalar_subquery()
        )
        active = exists().where(mine & (runs.c.state == "active"))
        count, running = conn.execute(select(recent, active)).one()
        return int(count), bool(running)

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


def follow(
    conn: Connection,
    version: Version,
    run_id: str,
    node_id: str,
    ports: tuple[str, ...],
    source_id: int,
    record_key: str,
    clock: Clock,
) -> list[int]:
    """Add work items for every node connected to the given output ports; their ids."""
    lock = record_lock(source_id, record_key)
    return [
        add_work_item(conn, run_id, edge.target.node, lock, clock.now(), clock=clock)
        for port in ports
        for edge in version.graph.outgoing(node_id)
        if edge.source.port == port
    ]
