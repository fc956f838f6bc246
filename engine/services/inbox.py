"""The task inbox: what waits for a person, and deciding it.

Who sees which task and who may decide it are answered here (the assignee, a member
of the assigned role, or an admin: :func:`engine.permissions.require_assignee`),
so the designer's inbox and ``statusflow task`` show the same tasks and refuse alike.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from engine.governance.task_assignment import reassign
from engine.permissions import allowed, assignee_refusal, roles_of
from engine.runtime.records import RecordStore
from engine.runtime.run_search import describe_record
from engine.runtime.runs import BLOCKING_TASKS, get_run
from engine.runtime.tasks import (
    ACCEPTED,
    DECISIONS,
    KIND_WORDS,
    TaskInfo,
    Tick,
    decide,
    get_task,
    list_tasks,
    tick_document,
)
from engine.sources.registry import SourceInfo, list_sources
from engine.storage.database import Database

__all__ = [
    "ACCEPTED",
    "BLOCKING_TASKS",
    "DECISIONS",
    "KIND_WORDS",
    "InboxTask",
    "TaskInfo",
    "Tick",
    "decide",
    "load_inbox",
    "read_task",
    "reassign",
    "tasks_for",
    "tick_document",
]


def read_task(db: Database, task_id: int) -> TaskInfo:
    """One task, as ``statusflow task show`` prints it."""
    with db.read() as conn:
        return get_task(conn, task_id)


@dataclass(frozen=True)
class InboxTask:
    """A task with the record it is about, as the inbox shows it."""

    task: TaskInfo
    record: str  # "orders 9 — Anna Berg, …", or "" for a task without a record
    fields: dict[str, Any]
    overdue: bool
    why_not: str | None = None  # why this person may not decide it (None: they may)


def load_inbox(db: Database, actor: str, now: datetime) -> list[InboxTask]:
    """My tasks and my roles' tasks; everyone's for an admin or a single-user database."""
    sources = {source.id: source for source in list_sources(db)}
    store = RecordStore()
    with db.read() as conn:
        found = _tasks_for(conn, actor, mine=not allowed(conn, actor, "users.manage"))
        return [
            replace(
                _with_record(conn, task, sources, store, now),
                why_not=assignee_refusal(
                    conn, actor, task.id, task.assignee_user, task.assignee_role
                ),
            )
            for task in found
        ]


def tasks_for(db: Database, actor: str, *, mine: bool, open_only: bool = True) -> list[TaskInfo]:
    """Open (or all) tasks, soonest due first; ``mine``: only those for ``actor`` by name
    or by one of their roles."""
    with db.read() as conn:
        return _tasks_for(conn, actor, mine=mine, open_only=open_only)


def _tasks_for(
    conn: Connection, actor: str, *, mine: bool, open_only: bool = True
) -> list[TaskInfo]:
    if not mine:
        return list_tasks(conn, open_only=open_only)
    roles = tuple(sorted(roles_of(conn, actor)))
    return list_tasks(conn, user=actor, roles=roles, open_only=open_only)


def _with_record(
    conn: Connection,
    task: TaskInfo,
    sources: dict[int, SourceInfo],
    store: RecordStore,
    now: datetime,
) -> InboxTask:
    overdue = task.due_at is not None and task.due_at < now
    if task.run_id is None:
        return InboxTask(task, "", {}, overdue)
    run = get_run(conn, task.run_id)
    source = sources[run.source_id]
    record = store.read(conn, source, run.record_key) or task.context.get("record")
    fields = {name: value for name, value in (record or {}).items() if not name.startswith("_")}
    return InboxTask(task, describe_record(source, run.record_key, record), fields, overdue)
