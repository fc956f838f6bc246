"""Runs, their timeline steps and their work items: the rows a run is made of.

Every function here writes on the caller's connection, inside the transaction that
makes the decision, so a step result and the next work items commit together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, exists, func, insert, select, update

from engine.clock import Clock
from engine.storage.tables import run_steps, runs, tasks, work_items
from engine.storage.types import new_id

FINAL_STATES = ("succeeded", "succeeded_compensated", "cancelled", "failed", "stopped_loop_guard")
BLOCKING_TASKS = ("approval", "compensation")  # a run waits for these; follow-ups it does not
OUTCOME_WORDS = {
    "succeeded": "Succeeded",
    "succeeded_compensated": "Succeeded (human compensation)",
    "cancelled": "Cancelled",
    "failed": "Failed",
    "stopped_loop_guard": "Stopped by loop guard",
}


@dataclass(frozen=True)
class Run:
    """The parts of a run row that executors need."""

    id: str
    graph_id: str
    version_id: str
    source_id: int
    record_key: str
    state: str
    causation_depth: int
    start_snapshot: dict[str, Any]
    trigger_node_id: str
    started_at: datetime


def get_run(conn: Connection, run_id: str) -> Run:
    row = conn.execute(select(runs).where(runs.c.id == run_id)).one()
    return Run(
        row.id,
        row.graph_id,
        row.version_id,
        row.source_id,
        row.record_key,
        row.state,
        row.causation_depth,
        dict(row.start_snapshot),
        row.trigger_node_id,
        row.started_at,
    )


def jsonable(record: dict[str, Any]) -> dict[str, Any]:
    """Record values as JSON can store them (dates as ISO text, decimals as numbers)."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, datetime | date):
            out[key] = value.isoformat()
        elif isinstance(value, Decimal):
            out[key] = float(value) if value % 1 else int(value)
        else:
            out[key] = value
    return out


def enrollment_key(graph_id: str, source_id: int, record_key: str) -> str:
    return f"{graph_id}:{source_id}:{record_key}"


def create_run(
    conn: Connection,
    *,
    graph_id: str,
    version_id: str,
    source_id: int,
    record_key: str,
    trigger_node_id: str,
    trigger_event_id: int | None,
    depth: int,
    snapshot: dict[str, Any],
    exclusive: bool,
    started_by: str | None,
    clock: Clock,
    state: str = "active",
    reason: str | None = None,
) -> str:
    run_id = new_id()
    now = clock.now()
    final = state in FINAL_STATES
    conn.execute(
        insert(runs).values(
            id=run_id,
            graph_id=graph_id,
            version_id=version_id,
            source_id=source_id,
            record_key=record_key,
            trigger_event_id=trigger_event_id,
            trigger_node_id=trigger_node_id,
            state=state,
            outcome_reason=reason,
            causation_depth=depth,
            start_snapshot=jsonable(snapshot),
            enrollment_key=enrollment_key(graph_id, source_id, record_key)
            if exclusive and not final
            else None,
            started_by=started_by,
            started_at=now,
            finished_at=now if final else None,
        )
    )
    return run_id


def add_step(
    conn: Connection,
    run_id: str,
    kind: str,
    summary: str,
    *,
    clock: Clock,
    node_id: str | None = None,
    node_type: str | None = None,
    detail: dict[str, Any] | None = None,
    attempt: int | None = None,
    error_class: str | None = None,
    error: str | None = None,
    engine_id: str | None = None,
) -> None:
    """Append one line to the run's timeline."""
    conn.execute(
        insert(run_steps).values(
            run_id=run_id,
            node_id=node_id,
            node_type=node_type,
            kind=kind,
            summary=summary,
            detail=detail,
            attempt=attempt,
            error_class=error_class,
            error=error,
            engine_id=engine_id,
            at=clock.now(),
        )
    )


def add_work_item(
    conn: Connection,
    run_id: str,
    node_id: str,
    record_lock: str,
    due_at: datetime,
    *,
    clock: Clock,
    payload: dict[str, Any] | None = None,
) -> int:
    result = conn.execute(
        insert(work_items)
        .values(
            run_id=run_id,
            node_id=node_id,
            record_lock=record_lock,
            due_at=due_at,
            state="pending",
            attempt=0,
            payload=payload,
            created_at=clock.now(),
        )
        .returning(work_items.c.id)
    )
    return int(result.scalar_one())


def record_lock(source_id: int, record_key: str) -> str:
    """Work for one record runs one item at a time; this names the record."""
    return f"{source_id}:{record_key}"


def _open_work(run_id: str) -> ColumnElement[bool]:
    pending = exists().where(
        and_(work_items.c.run_id == run_id, work_items.c.state.in_(("pending", "claimed")))
    )
    waiting = exists().where(
        and_(
            tasks.c.run_id == run_id,
            tasks.c.state == "open",
            tasks.c.kind.in_(BLOCKING_TASKS),
        )
    )
    return pending | waiting


def finish_run(
    conn: Connection, run_id: str, state: str, reason: str | None, *, clock: Clock
) -> bool:
    """Close the run (and any work it still had); False if it was already closed."""
    changed = conn.execute(
        update(runs)
        .where(runs.c.id == run_id)
        .where(runs.c.state == "active")
        .values(state=state, outcome_reason=reason, finished_at=clock.now(), enrollment_key=None)
    ).rowcount
    if not changed:
        return False
    if state != "succeeded":  # a run that succeeded has nothing left to close
        _close_open_work(conn, run_id, reason, clock)
    words = OUTCOME_WORDS[state] + (f": {reason}" if reason else "")
    add_step(conn, run_id, "outcome", words, clock=clock, detail={"state": state})
    return True


def _close_open_work(conn: Connection, run_id: str, reason: str | None, clock: Clock) -> None:
    conn.execute(
        update(work_items)
        .where(work_items.c.run_id == run_id)
        .where(work_items.c.state == "pending")
        .values(state="cancelled", cancel_reason=reason, completed_at=clock.now())
    )
    conn.execute(
        update(tasks)
        .where(tasks.c.run_id == run_id)
        .where(tasks.c.state == "open")
        .where(tasks.c.kind.in_(("approval",)))
        .values(state="cancelled", decided_at=clock.now(), comment=reason)
    )


def finish_if_done(conn: Connection, run_id: str, *, clock: Clock) -> None:
    """A run with no pending work and no open task has succeeded (one query to tell)."""
    compensated = (
        select(func.count())
        .where(tasks.c.run_id == run_id)
        .where(tasks.c.kind == "compensation")
        .where(tasks.c.state == "done")
        .scalar_subquery()
    )
    row = conn.execute(select(_open_work(run_id), compensated)).one()
    if row[0]:
        return
    finish_run(conn, run_id, "succeeded_compensated" if row[1] else "succeeded", None, clock=clock)
