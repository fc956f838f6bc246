"""Is the automation working? What IT reads before anyone complains.

An engine that crashed cannot say so, so liveness is read from its heartbeat: each
engine writes ``last_beat_at`` every few seconds, and one silent for longer than
``ALIVE_WITHIN`` is shown as not answering. A backlog of events or of work that was
due a while ago means no engine is keeping up, even when all of them beat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, or_, select

from engine.nodes import catalogue
from engine.runtime.leases import pending
from engine.storage.tables import (
    engines,
    graphs,
    record_sources,
    run_steps,
    runs,
    status_events,
    work_items,
)

ALIVE_WITHIN = timedelta(seconds=30)
OVERDUE_AFTER = timedelta(seconds=60)
STOPPED_SHOWN_FOR = timedelta(hours=1)  # stopped engines stay listed this long, then go
LAST_ERRORS = 10


@dataclass(frozen=True)
class EngineInfo:
    id: str
    host: str
    pid: int
    started: datetime
    last_beat: datetime
    alive: bool  # beat within ALIVE_WITHIN and not stopped
    stopped: datetime | None


@dataclass(frozen=True)
class StepError:
    """A recent failed step, as support staff would look it up."""

    at: datetime
    graph: str
    record: str  # "orders 42"
    step: str  # the action's name, e.g. "Call webhook"
    error_class: str
    error: str


@dataclass(frozen=True)
class EngineStatus:
    engines: list[EngineInfo]
    events_waiting: int  # status events no engine has taken yet
    work_due: int  # pending work items whose time has come
    work_overdue: int  # of those, due more than OVERDUE_AFTER ago
    oldest_pending_due: datetime | None  # the due time of the longest-waiting due item
    last_errors: list[StepError]


def engine_status(conn: Connection, now: datetime) -> EngineStatus:
    """Engines, backlog and the latest errors as of ``now``."""
    due = (
        select(
            func.count(),
            func.count().filter(work_items.c.due_at < now - OVERDUE_AFTER),
            func.min(work_items.c.due_at),
        )
        .where(pending(conn.dialect.name == "postgresql"))
        .where(work_items.c.due_at <= now)
    )
    work_due, work_overdue, oldest = conn.execute(due).one()
    waiting = select(func.count()).where(status_events.c.processed_at.is_(None))
    return EngineStatus(
        engines=_engines(conn, now),
        events_waiting=conn.execute(waiting).scalar_one(),
        work_due=work_due,
        work_overdue=work_overdue,
        oldest_pending_due=oldest,
        last_errors=_last_errors(conn),
    )


def _engines(conn: Connection, now: datetime) -> list[EngineInfo]:
    query = (
        select(engines)
        .where(or_(engines.c.stopped_at.is_(None), engines.c.stopped_at > now - STOPPED_SHOWN_FOR))
        .order_by(engines.c.started_at.desc())
    )
    return [
        EngineInfo(
            row.id,
            row.host,
            row.pid,
            row.started_at,
            row.last_beat_at,
            row.stopped_at is None and now - row.last_beat_at < ALIVE_WITHIN,
            row.stopped_at,
        )
        for row in conn.execute(query)
    ]


def _last_errors(conn: Connection) -> list[StepError]:
    query = (
        select(
            run_steps.c.at,
            graphs.c.name,
            record_sources.c.name.label("source"),
            runs.c.record_key,
            run_steps.c.node_type,
            run_steps.c.error_class,
            run_steps.c.error,
        )
        .join(runs, runs.c.id == run_steps.c.run_id)
        .join(graphs, graphs.c.id == runs.c.graph_id)
        .join(record_sources, record_sources.c.id == runs.c.source_id)
        .where(run_steps.c.error_class.is_not(None))
        .order_by(run_steps.c.id.desc())
        .limit(LAST_ERRORS)
    )
    return [
        StepError(
            row.at,
            row.name,
            f"{row.source} {row.record_key}",
            _step_name(row.node_type),
            row.error_class,
            row.error or "",
        )
        for row in conn.execute(query)
    ]


def _step_name(type_id: str | None) -> str:
    node_type = catalogue.get(type_id) if type_id else None
    return node_type.label if node_type else (type_id or "A step")
