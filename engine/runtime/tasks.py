"""Human tasks: approvals, manual compensation, follow-ups and alerts.

Deciding a task never moves a run directly: it records the decision and adds a work
item for the run's node, so the engine resumes the run through the same dispatch
path as everything else (leases, one item per record, timeline).

An approval's checklist names documents to check. Ticks are saved with who ticked and
when (in the task's context, under ``checklist_ticks``), so every inbox sees them.
Approving with documents unticked needs a reason: the approver may have checked them
elsewhere, and a flat refusal would only teach people to tick blindly, but a skipped
document must never go unexplained. The reason is kept with the decision (in the
context, under ``unticked_reason``), and the audit entry and the run's timeline name
the documents that were not ticked and why.

A rejection needs a comment: the people who asked must learn what to change. Both
rules live here, so the command line and the designer obey them alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select, update

from engine import audit
from engine.clock import SYSTEM_CLOCK, Clock
from engine.errors import StatusFlowError
from engine.permissions import login_name, require_assignee
from engine.runtime.runs import (
    add_step,
    add_work_item,
    finish_run,
    get_run,
    record_lock,
    step_row,
)
from engine.storage.database import Database
from engine.storage.tables import tasks

DECISIONS = {
    "approval": {"approve": "approved", "reject": "rejected"},
    "compensation": {"done": "done", "abandon": "abandoned"},
    "follow_up": {"done": "done", "abandon": "abandoned"},
    "alert": {"done": "done"},
}
ACCEPTED = frozenset({"approved", "done"})  # decisions that vouch for the checklist
TICKS = "checklist_ticks"  # the key in a task's stored context that holds the ticks
REASON = "unticked_reason"  # the key that holds why a decision skipped unticked documents
KIND_WORDS = {
    "approval": "approval",
    "compensation": "manual task",
    "follow_up": "follow-up task",
    "alert": "alert",
}


@dataclass(frozen=True)
class Tick:
    """Who ticked a checklist document, and when."""

    by: str
    at: datetime


@dataclass(frozen=True)
class TaskInfo:
    id: int
    run_id: str | None
    node_id: str | None
    kind: str
    title: str
    instructions: str
    checklist: list[str]
    ticks: dict[str, Tick]  # checklist document → who ticked it
    context: dict[str, Any]  # what the task is about (the ticks are not in it)
    assignee_user: str | None
    assignee_role: str | None
    state: str
    progress: str
    due_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    comment: str | None
    created_at: datetime
    unticked_reason: str | None = None  # why it was decided with documents unticked

    @property
    def unticked(self) -> list[str]:
        """The checklist documents nobody has ticked yet, in checklist order."""
        return [document for document in self.checklist if document not in self.ticks]


def _info(row: Any) -> TaskInfo:
    context = dict(row.context or {})
    stored = context.pop(TICKS, {})
    reason = context.pop(REASON, None)
    return TaskInfo(
        row.id,
        row.run_id,
        row.node_id,
        row.kind,
        row.title,
        row.instructions,
        list(row.checklist or []),
        {name: Tick(t["by"], datetime.fromisoformat(t["at"])) for name, t in stored.items()},
        context,
        row.assignee_user,
        row.assignee_role,
        row.state,
        row.progress,
        row.due_at,
        row.decided_by,
        row.decided_at,
        row.comment,
        row.created_at,
        reason,
    )


def create_task(
    conn: Connection,
    *,
    kind: str,
    title: str,
    clock: Clock,
    run_id: str | None = None,
    node_id: str | None = None,
    instructions: str = "",
    checklist: list[str] | None = None,
    context: dict[str, Any] | None = None,
    assignee_user: str | None = None,
    assignee_role: str | None = None,
    due_at: datetime | None = None,
) -> int:
    result = conn.execute(
        insert(tasks)
        .values(
            run_id=run_id,
            node_id=node_id,
            kind=kind,
            title=title[:300],
            instructions=instructions,
            checklist=checklist,
            context=context,
            assignee_user=assignee_user or None,
            assignee_role=assignee_role or None,
            state="open",
            progress="not_started",
            due_at=due_at,
            created_at=clock.now(),
        )
        .returning(tasks.c.id)
    )
    return int(result.scalar_one())


def get_task(conn: Connection, task_id: int, *, lock: bool = False) -> TaskInfo:
    """The task; ``lock`` holds its row until the transaction ends (two people, one task)."""
    query = select(tasks).where(tasks.c.id == task_id)
    row = conn.execute(query.with_for_update() if lock else query).first()
    if row is None:
        raise StatusFlowError(f"There is no task {task_id}.")
    return _info(row)


def node_tasks(conn: Connection, run_id: str, node_id: str) -> list[TaskInfo]:
    rows = conn.execute(
        select(tasks).where(tasks.c.run_id == run_id).where(tasks.c.node_id == node_id)
    ).all()
    return [_info(row) for row in rows]


def list_tasks(
    conn: Connection,
    *,
    user: str | None = None,
    roles: tuple[str, ...] = (),
    open_only: bool = True,
) -> list[TaskInfo]:
    """Tasks for a user and their roles (all tasks when neither is given)."""
    query = select(tasks).order_by(tasks.c.due_at.is_(None), tasks.c.due_at, tasks.c.id)
    if open_only:
        query = query.where(tasks.c.state == "open")
    if user is not None or roles:
        mine = func.lower(tasks.c.assignee_user) == login_name(user or "")
        query = query.where(or_(mine, tasks.c.assignee_role.in_(roles)))
    return [_info(row) for row in conn.execute(query).all()]


def decide(
    db: Database,
    task_id: int,
    decision: str,
    *,
    actor: str,
    comment: str = "",
    unticked_reason: str = "",
    clock: Clock = SYSTEM_CLOCK,
) -> TaskInfo:
    """Approve, reject, mark done or abandon a task, and let its run go on.

    A rejection needs a ``comment`` saying why; approving (or marking done) with
    checklist documents unticked needs ``unticked_reason``, which is recorded.
    """
    now = clock.now()
    comment, reason = comment.strip(), unticked_reason.strip()
    with db.write() as conn:
        task = get_task(conn, task_id, lock=True)
        require_assignee(conn, actor, task_id, task.assignee_user, task.assignee_role)
        allowed = DECISIONS[task.kind]
        if decision not in allowed:
            word = KIND_WORDS[task.kind]
            article = "an" if word[0] in "aeiou" else "a"
            raise StatusFlowError(
                f"Task {task_id} is {article} {word}: use {' or '.join(allowed)}, not '{decision}'."
            )
        require_open(task)
        state = allowed[decision]
        if state == "rejected" and not comment:
            raise StatusFlowError(
                f"Write a comment saying why you reject task {task_id}, so the people who "
                "asked know what to change."
            )
        missing = task.unticked if state in ACCEPTED else []
        if missing and not reason:
            raise StatusFlowError(
                f"Tick {_quoted(missing)} on task {task_id} first, or give the reason you go "
                f"ahead without {'it' if len(missing) == 1 else 'them'}; the reason is "
                "recorded with your decision."
            )
        reason = reason if missing else ""
        values: dict[str, Any] = {
            "state": state,
            "decided_by": actor,
            "decided_at": now,
            "comment": comment or None,
        }
        if reason:
            values["context"] = {**_stored_context(task), REASON: reason}
        conn.execute(update(tasks).where(tasks.c.id == task_id).values(**values))
        said = f": {comment}" if comment else ""
        audit.record(
            conn,
            actor=actor,
            action=f"task.{decision}",
            object_type="task",
            object_id=str(task_id),
            summary=f"{actor} marked the {KIND_WORDS[task.kind]} '{task.title}' "
            f"{state}{_without(missing, reason)}{said}",
            before={"state": task.state},
            after={"state": state, **_unticked_detail(missing, reason)},
            at=now,
        )
        if task.run_id is not None and task.node_id is not None:
            _resume(conn, task, state, actor, comment, clock, missing, reason)
        return get_task(conn, task_id)


def tick_document(
    db: Database,
    task_id: int,
    document: str,
    *,
    ticked: bool = True,
    actor: str,
    clock: Clock = SYSTEM_CLOCK,
) -> TaskInfo:
    """Tick (or untick) one checklist document of an open task, saved for every inbox.

    ``document`` may differ from the checklist in case and surrounding spaces (typed at
    a prompt). Ticking a ticked document, or unticking an unticked one, changes nothing.
    """
    now = clock.now()
    with db.write() as conn:
        task = get_task(conn, task_id, lock=True)
        require_assignee(conn, actor, task_id, task.assignee_user, task.assignee_role)
        require_open(task)
        name = _checklist_item(task, document)
        if (name in task.ticks) == ticked:
            return task
        stored = _stored_context(task)
        ticks = stored[TICKS]
        if ticked:
            ticks[name] = {"by": actor, "at": now.isoformat()}
        else:
            del ticks[name]
        conn.execute(update(tasks).where(tasks.c.id == task_id).values(context=stored))
        done = "ticked" if ticked else "unticked"
        audit.record(
            conn,
            actor=actor,
            action=f"task.{'tick' if ticked else 'untick'}",
            object_type="task",
            object_id=str(task_id),
            summary=f"{actor} {done} '{name}' on the {KIND_WORDS[task.kind]} '{task.title}'",
            before={"ticked": sorted(task.ticks)},
            after={"ticked": sorted(ticks)},
            at=now,
        )
        return get_task(conn, task_id)


def _checklist_item(task: TaskInfo, document: str) -> str:
    wanted = document.strip().casefold()
    for name in task.checklist:
        if name.strip().casefold() == wanted:
            return name
    if not task.checklist:
        raise StatusFlowError(f"Task {task.id} has no checklist, so there is nothing to tick.")
    raise StatusFlowError(
        f"Task {task.id} has no document '{document.strip()}' on its checklist. "
        f"Its documents are: {_quoted(task.checklist)}."
    )


def require_open(task: TaskInfo) -> None:
    if task.state != "open":
        raise StatusFlowError(
            f"Task {task.id} is already {task.state}"
            + (f" (by {task.decided_by})" if task.decided_by else "")
            + "; nothing was changed."
        )


def _stored_context(task: TaskInfo) -> dict[str, Any]:
    """The task's context as stored: what it is about, plus its ticks (and reason)."""
    ticks = {n: {"by": t.by, "at": t.at.isoformat()} for n, t in task.ticks.items()}
    reason = {REASON: task.unticked_reason} if task.unticked_reason else {}
    return {**task.context, TICKS: ticks, **reason}


def _without(missing: list[str], reason: str) -> str:
    """Words for a decision taken with documents unticked: without ticking 'X', 'Y'
    (reason: ...)."""
    if not missing:
        return ""
    return f" without ticking {_quoted(missing)}" + (f" (reason: {reason})" if reason else "")


def _unticked_detail(missing: list[str], reason: str) -> dict[str, Any]:
    """What the audit entry and the timeline step keep of unticked documents."""
    if not missing:
        return {}
    return {"unticked": missing, **({REASON: reason} if reason else {})}


def _quoted(documents: list[str]) -> str:
    return ", ".join(f"'{document}'" for document in documents)


def _resume(
    conn: Connection,
    task: TaskInfo,
    state: str,
    actor: str,
    comment: str,
    clock: Clock,
    missing: list[str],
    reason: str,
) -> None:
    assert task.run_id is not None and task.node_id is not None
    run = get_run(conn, task.run_id)
    if run.state != "active":
        return
    said = f" ({comment})" if comment else ""
    add_step(
        conn,
        step_row(
            run.id,
            "task",
            f"{actor} marked '{task.title}' {state}{_without(missing, reason)}{said}.",
            node_id=task.node_id,
            clock=clock,
            detail={
                "task_id": task.id,
                "state": state,
                **_unticked_detail(missing, reason),
            },
        ),
    )
    if task.kind == "compensation" and state == "abandoned":
        finish_run(conn, run.id, "failed", f"{actor} abandoned the manual task{said}", clock=clock)
        return
    if task.kind not in ("approval", "compensation"):
        return
    phase = "decision" if task.kind == "approval" else "compensated"
    add_work_item(
        conn,
        run.id,
        task.node_id,
        record_lock(run.source_id, run.record_key),
        clock.now(),
        clock=clock,
        payload={"phase": phase, "task_id": task.id},
    )
