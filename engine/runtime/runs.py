"""Runs, their timeline steps and their work items: the rows a run is made of.

Every function here writes on the caller's connection, inside the transaction that
makes the decision, so a step result and the next work items commit together.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    and_,
    bindparam,
    case,
    exists,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from engine.clock import Clock
from engine.runtime.bulk import one_of
from engine.sources.triggers import NOTIFY_CHANNEL
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


_RUN_BY_ID = select(runs).where(runs.c.id == bindparam("run_id"))


def _run(row: Row[Any]) -> Run:
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


def get_run(conn: Connection, run_id: str) -> Run:
    return _run(conn.execute(_RUN_BY_ID, {"run_id": run_id}).one())


def get_runs(conn: Connection, run_ids: Collection[str]) -> dict[str, Run]:
    """Several runs in one query, by id (ids of runs that do not exist are left out)."""
    if not run_ids:
        return {}
    query = select(runs).where(one_of(conn, runs.c.id, "run_ids"))
    rows = conn.execute(query, {"run_ids": list(run_ids)})
    return {row.id: _run(row) for row in rows}


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


def run_row(
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
) -> dict[str, Any]:
    """The row of a run that starts now; an exclusive run holds its enrollment key."""
    return {
        "id": new_id(),
        "graph_id": graph_id,
        "version_id": version_id,
        "source_id": source_id,
        "record_key": record_key,
        "trigger_event_id": trigger_event_id,
        "trigger_node_id": trigger_node_id,
        "state": "active",
        "causation_depth": depth,
        "start_snapshot": jsonable(snapshot),
        "enrollment_key": enrollment_key(graph_id, source_id, record_key) if exclusive else None,
        "started_by": started_by,
        "started_at": clock.now(),
    }


def insert_runs(conn: Connection, rows: list[dict[str, Any]]) -> set[str]:
    """Insert the runs that may start; the ids of those inserted. A run whose version
    already started for its event, or whose graph already runs on the record (the
    unique keys), is left out, whichever engine got there first."""
    if not rows:
        return set()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(runs).on_conflict_do_nothing().returning(runs.c.id)
    try:
        with conn.begin_nested():
            return set(conn.execute(statement, rows).scalars())
    except IntegrityError:  # another constraint refused a row: try each, leave it out
        if len(rows) == 1:
            return set()
        return {run for row in rows for run in insert_runs(conn, [row])}


def step_row(
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
) -> dict[str, Any]:
    """One line of a run's timeline, stamped now."""
    return {
        "run_id": run_id,
        "node_id": node_id,
        "node_type": node_type,
        "kind": kind,
        "summary": summary,
        "detail": detail,
        "attempt": attempt,
        "error_class": error_class,
        "error": error,
        "engine_id": engine_id,
        "at": clock.now(),
    }


def add_step(conn: Connection, row: dict[str, Any]) -> None:
    """Append one line (a ``step_row``) to the run's timeline."""
    conn.execute(INSERT_STEPS, row)


def work_item_row(
    run_id: str,
    node_id: str,
    record_lock: str,
    due_at: datetime,
    *,
    clock: Clock,
    payload: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A pending work item; the caller may hand it out claimed instead."""
    return {
        "run_id": run_id,
        "node_id": node_id,
        "record_lock": record_lock,
        "due_at": due_at,
        "state": "pending",
        "attempt": 0,
        "lease_owner": None,
        "lease_expires_at": None,
        "payload": payload,
        "created_at": clock.now(),
    }


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
    """Add one pending item (e.g. a decided task resuming its run); engines that
    listen are woken when it is due already."""
    row = work_item_row(run_id, node_id, record_lock, due_at, clock=clock, payload=payload)
    item_id = conn.execute(_INSERT_ITEM, row).scalar_one()
    if due_at <= clock.now():
        announce_work(conn)
    return int(item_id)


def announce_work(conn: Connection) -> None:
    """Wake the engines listening on PostgreSQL when this transaction commits: it left
    work that is due now (one notification per transaction, however often called)."""
    if conn.dialect.name == "postgresql":
        conn.execute(_NOTIFY)


def record_lock(source_id: int, record_key: str) -> str:
    """Work for one record runs one item at a time; this names the record."""
    return f"{source_id}:{record_key}"


INSERT_STEPS = insert(run_steps)
INSERT_ITEMS = insert(work_items)
_INSERT_ITEM = insert(work_items).returning(work_items.c.id)
_NOTIFY = text(f"SELECT pg_notify('{NOTIFY_CHANNEL}', 'work')")


def _open_work(run_id: ColumnElement[str]) -> ColumnElement[bool]:
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


_FINISH = (
    update(runs)
    .where(runs.c.id == bindparam("run_id"))
    .where(runs.c.state == "active")
    .values(
        state=bindparam("new_state"),
        outcome_reason=bindparam("reason"),
        finished_at=bindparam("now"),
        enrollment_key=None,
    )
)
_COMPENSATED = exists().where(
    and_(tasks.c.run_id == runs.c.id, tasks.c.kind == "compensation", tasks.c.state == "done")
)


def finish_run(
    conn: Connection, run_id: str, state: str, reason: str | None, *, clock: Clock
) -> bool:
    """Close the run (and any work it still had); False if it was already closed."""
    params = {"run_id": run_id, "new_state": state, "reason": reason, "now": clock.now()}
    if not conn.execute(_FINISH, params).rowcount:
        return False
    if state != "succeeded":  # a run that succeeded has nothing left to close
        _close_open_work(conn, run_id, reason, clock)
    words = OUTCOME_WORDS[state] + (f": {reason}" if reason else "")
    add_step(conn, step_row(run_id, "outcome", words, clock=clock, detail={"state": state}))
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


def finish_if_done(conn: Connection, run_ids: Collection[str], *, clock: Clock) -> None:
    """Runs with no pending work and no open task have succeeded (with human
    compensation, when a person did a step by hand). One statement for all of them:
    such a run has nothing left to close."""
    if not run_ids:
        return
    finish = (
        update(runs)
        .where(one_of(conn, runs.c.id, "run_ids"))
        .where(runs.c.state == "active")
        .where(~_open_work(runs.c.id))
        .values(
            state=case((_COMPENSATED, "succeeded_compensated"), else_="succeeded"),
            outcome_reason=None,
            finished_at=clock.now(),
            enrollment_key=None,
        )
        .returning(runs.c.id, runs.c.state)
    )
    finished = conn.execute(finish, {"run_ids": list(run_ids)}).all()
    if finished:
        conn.execute(
            INSERT_STEPS,
            [
                step_row(run, "outcome", OUTCOME_WORDS[state], clock=clock, detail={"state": state})
                for run, state in finished
            ],
        )
