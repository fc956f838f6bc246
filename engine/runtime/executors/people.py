"""Steps that involve people: follow-up tasks and approvals."""

from __future__ import annotations

from sqlalchemy import Connection, update

from engine import durations
from engine.graph.templates import render
from engine.runtime.executors.base import InternalExecutor, Outcome, Step
from engine.runtime.tasks import create_task, node_tasks
from engine.storage.tables import tasks
from engine.time_zone import moment_text


def _conn(step: Step) -> Connection:
    assert step.conn is not None, "internal executors run inside a transaction"
    return step.conn


def _assignee(step: Step) -> str:
    user, role = step.params.get("assignee_user"), step.params.get("assignee_role")
    return user or (f"the {role} role" if role else "nobody in particular")


class CreateTask(InternalExecutor):
    def run(self, step: Step) -> Outcome:
        values = step.template_values()
        title = render(str(step.params["title"]), values)
        due_in = step.params.get("due_in")
        due = step.clock.now() + durations.to_timedelta(due_in) if due_in else None
        task_id = create_task(
            _conn(step),
            kind="follow_up",
            title=title,
            instructions=render(str(step.params.get("instructions") or ""), values),
            assignee_user=step.params.get("assignee_user"),
            assignee_role=step.params.get("assignee_role"),
            due_at=due,
            run_id=step.run.id,
            node_id=step.node.id,
            context={"record_key": step.run.record_key, "source": step.version.source.name},
            clock=step.clock,
        )
        when = f", due {moment_text(due, step.services.zone)}" if due else ""
        return Outcome(
            f"Created the task '{title}' for {_assignee(step)}{when} (not started).",
            kind="task",
            detail={"task_id": task_id},
        )


class Approval(InternalExecutor):
    """Creates one task per approval, then waits for all to approve, one to reject,
    or the timeout; decisions come back as work items of this node."""

    atomic = True

    def run(self, step: Step) -> Outcome:
        if step.phase is None:
            return self._ask(step)
        decided = node_tasks(_conn(step), step.run.id, step.node.id)
        if any(t.state == "rejected" for t in decided):
            who = next(t for t in decided if t.state == "rejected")
            self._close_open(step, "cancelled")
            return Outcome(
                f"'{who.title}' was rejected by {who.decided_by}: took the 'Rejected' branch.",
                kind="task",
                ports=("rejected",),
                detail={"branch": "rejected"},
            )
        if decided and all(t.state == "approved" for t in decided):
            return Outcome(
                "All approvals given: took the 'Approved' branch.",
                kind="task",
                ports=("approved",),
                detail={"branch": "approved"},
            )
        if step.phase == "timeout":
            self._close_open(step, "escalated")
            return Outcome(
                "Not every approval came in time: took the 'Timed out' branch.",
                kind="task",
                ports=("timeout",),
                detail={"branch": "timeout"},
            )
        waiting = ", ".join(t.title for t in decided if t.state == "open")
        return Outcome(f"Still waiting for: {waiting}.", kind="task", ports=())

    def _ask(self, step: Step) -> Outcome:
        due = step.clock.now() + durations.to_timedelta(step.params["timeout"])
        documents = [str(d) for d in step.params.get("documents") or []]
        names = [str(name) for name in step.params["approvals"]]
        for name in names:
            create_task(
                _conn(step),
                kind="approval",
                title=f"{name} for {step.version.source.name} {step.run.record_key}",
                instructions=f"Approve or reject: {name}.",
                checklist=documents,
                assignee_user=step.params.get("assignee_user"),
                assignee_role=step.params.get("assignee_role"),
                due_at=due,
                run_id=step.run.id,
                node_id=step.node.id,
                context={"record_key": step.run.record_key, "approval": name},
                clock=step.clock,
            )
        by = moment_text(due, step.services.zone)
        return Outcome(
            f"Asked {_assignee(step)} for: {', '.join(names)} (by {by}).",
            kind="task",
            wait_until=due,
            payload={"phase": "timeout"},
        )

    def _close_open(self, step: Step, state: str) -> None:
        _conn(step).execute(
            update(tasks)
            .where(tasks.c.run_id == step.run.id)
            .where(tasks.c.node_id == step.node.id)
            .where(tasks.c.state == "open")
            .values(state=state, decided_at=step.clock.now())
        )
