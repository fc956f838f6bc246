"""Who works a task: an admin gives an open task to another person or role.

Deciding is limited to a task's assignee, a member of its role, or an admin
(:func:`engine.permissions.require_assignee`); when the assignee is away,
an admin reassigns the task here, and the audit log says who moved it from whom.
"""

from __future__ import annotations

from sqlalchemy import update

from engine import audit
from engine.clock import SYSTEM_CLOCK, Clock
from engine.errors import StatusFlowError
from engine.permissions import login_name, no_account, require, roles_of
from engine.runtime.tasks import KIND_WORDS, TaskInfo, get_task, require_open
from engine.storage.database import Database
from engine.storage.tables import ROLES, tasks


def reassign(
    db: Database,
    task_id: int,
    *,
    user: str | None = None,
    role: str | None = None,
    actor: str,
    clock: Clock = SYSTEM_CLOCK,
) -> TaskInfo:
    """Give an open task to one person or to a role (admins only; audited), e.g. when
    its approver is away."""
    if (user is None) == (role is None):
        raise StatusFlowError("Reassign a task to one person or to one role, not both.")
    now = clock.now()
    with db.write() as conn:
        require(conn, actor, "task.reassign")
        task = get_task(conn, task_id, lock=True)
        require_open(task)
        if role is not None and role not in ROLES:
            raise StatusFlowError(f"'{role}' is not a role; choose from {', '.join(ROLES)}.")
        if user is not None:
            user = login_name(user)
            if not roles_of(conn, user):
                raise StatusFlowError(no_account(user))
        conn.execute(
            update(tasks)
            .where(tasks.c.id == task_id)
            .values(assignee_user=user, assignee_role=role)
        )
        before = {"user": task.assignee_user, "role": task.assignee_role}
        audit.record(
            conn,
            actor=actor,
            action="task.reassign",
            object_type="task",
            object_id=str(task_id),
            summary=f"{actor} gave the {KIND_WORDS[task.kind]} '{task.title}' to "
            + (user if user is not None else f"the {role} role"),
            before=before,
            after={"user": user, "role": role},
            at=now,
        )
        return get_task(conn, task_id)
