"""Who may do what: one table of actions and the roles that may do them.

Every service that changes something asks :func:`require` inside its transaction, so
the CLI, the designer and scripts obey the same rules. A database with no user
accounts at all allows everything: a fresh database must be able to create its first
admin, and scripts on an embedded single-user database keep working. Once any
account exists, the actor must be an active account holding a suitable role; admin
may do everything.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from engine.errors import StatusFlowError
from engine.storage.tables import user_roles, users

ADMIN = "admin"

PERMISSIONS: dict[str, tuple[str, ...]] = {
    "graph.edit": ("designer",),
    "graph.submit": ("designer",),
    "graph.approve": ("publisher",),
    "graph.reject": ("publisher",),
    "graph.publish": ("publisher",),
    "graph.rollback": ("publisher",),
    "graph.disable": ("publisher",),
    "graph.enable": ("publisher",),
    "task.decide": ("operator", "designer", "publisher"),
    "task.reassign": (),
    "runs.read": ("operator", "designer", "publisher"),
    "runs.start": ("publisher",),
    "graph.test": ("designer", "publisher"),
    "audit.read": ("publisher",),
    "users.manage": (),
    "sources.manage": (),
    "settings.manage": (),
    "records.edit": (),
    "loop.override": (),
    "four_eyes.relax": (),
}

# How each action reads in a refusal: "<doing> needs the publisher role."
DOING: dict[str, str] = {
    "graph.edit": "editing a graph",
    "graph.submit": "submitting a graph for review",
    "graph.approve": "approving a version",
    "graph.reject": "rejecting a version",
    "graph.publish": "publishing a version",
    "graph.rollback": "rolling back to an earlier version",
    "graph.disable": "disabling a graph",
    "graph.enable": "enabling a graph",
    "task.decide": "working a task",
    "task.reassign": "reassigning a task",
    "runs.read": "reading runs",
    "runs.start": "starting a run by hand",
    "graph.test": "test-running a graph",
    "audit.read": "reading the audit log",
    "users.manage": "managing users",
    "sources.manage": "managing record sources",
    "settings.manage": "changing settings",
    "records.edit": "changing a record's status or labels by hand",
    "loop.override": "overriding the loop guard",
    "four_eyes.relax": "relaxing the four-eyes rule",
}


def matrix_markdown() -> str:
    """The permission matrix as the table in ``docs/permissions.md`` (a test keeps the
    page equal to this, so the documentation cannot drift from the rule)."""
    roles = ("designer", "publisher", "operator", ADMIN)
    lines = [
        "| action | " + " | ".join(roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for action, allowed_roles in PERMISSIONS.items():
        cells = ["yes" if role == ADMIN or role in allowed_roles else "" for role in roles]
        lines.append(f"| {DOING[action]} (`{action}`) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


class PermissionDenied(StatusFlowError):
    """The actor may not do what they tried; the message says who may."""


def login_name(raw: str) -> str:
    """The one spelling of a person's login: 'PAT ' and 'pat' are the same person.

    Every comparison of people (four-eyes, assignees, accounts) goes through this, so
    no caller lowercases on its own and no letter case gets past a rule."""
    return raw.strip().lower()


def same_person(one: str | None, other: str | None) -> bool:
    """Whether two recorded logins name the same person (older rows kept their case)."""
    return one is not None and other is not None and login_name(one) == login_name(other)


def roles_of(conn: Connection, username: str) -> frozenset[str]:
    """The roles of an active account; empty for an unknown or deactivated one."""
    rows = conn.execute(
        select(user_roles.c.role)
        .join(users, users.c.id == user_roles.c.user_id)
        .where(users.c.username == login_name(username))
        .where(users.c.is_active)
    )
    return frozenset(row.role for row in rows)


def allowed(conn: Connection, actor: str, action: str) -> bool:
    """Whether ``actor`` may do ``action`` (for the UI to hide what a role can't do)."""
    return refusal(conn, actor, action) is None


def require(conn: Connection, actor: str, action: str) -> None:
    """Raise :class:`PermissionDenied` unless ``actor`` may do ``action``."""
    denied = refusal(conn, actor, action)
    if denied is not None:
        raise PermissionDenied(denied)


def refusal(conn: Connection, actor: str, action: str) -> str | None:
    """Why ``actor`` may not do ``action``, in one sentence; None when they may."""
    needed = PERMISSIONS[action]
    if conn.execute(select(users.c.id).limit(1)).first() is None:
        return None
    account = conn.execute(
        select(users.c.id, users.c.is_active).where(users.c.username == login_name(actor))
    ).first()
    if account is None:
        return no_account(actor)
    if not account.is_active:
        return (
            f"{actor}'s StatusFlow account is deactivated, so {DOING[action]} is not "
            "possible. Ask an admin to reactivate it."
        )
    roles = roles_of(conn, actor)
    if ADMIN in roles or roles & set(needed):
        return None
    return _needs_role(actor, roles, action)


def require_assignee(
    conn: Connection, actor: str, task_id: int, user: str | None, role: str | None
) -> None:
    """Raise unless ``actor`` may work task ``task_id`` (see :func:`assignee_refusal`)."""
    denied = assignee_refusal(conn, actor, task_id, user, role)
    if denied is not None:
        raise PermissionDenied(denied)


def assignee_refusal(
    conn: Connection, actor: str, task_id: int, user: str | None, role: str | None
) -> str | None:
    """Why ``actor`` may not work task ``task_id``, or None: its assignee, a member of
    its role, or an admin may (anyone who works tasks when it names neither). The
    inbox shows this sentence where the deciding would refuse with it."""
    denied = refusal(conn, actor, "task.decide")
    if denied is not None or _is_assignee(conn, actor, user, role):
        return denied
    whose = (
        f"assigned to {login_name(user)}, so only {login_name(user)}"
        if user
        else f"for the {role} role, so only a {role}"
    )
    return (
        f"Task {task_id} is {whose} or an admin can work it; an admin can reassign it "
        f"with 'statusflow task reassign {task_id}'."
    )


def _is_assignee(conn: Connection, actor: str, user: str | None, role: str | None) -> bool:
    """The task's person, a member of its role, or an admin; anyone when it names neither
    (or when the database has no accounts yet)."""
    if conn.execute(select(users.c.id).limit(1)).first() is None:
        return True
    roles = roles_of(conn, actor)
    if ADMIN in roles:
        return True
    if user:
        return same_person(user, actor)
    return role in roles if role else True


def no_account(actor: str) -> str:
    """The sentence for someone the database has no account for."""
    return (
        f"There is no StatusFlow user '{actor}' in this database; ask an admin to add "
        "you with 'statusflow user add'."
    )


def _needs_role(actor: str, roles: frozenset[str], action: str) -> str:
    needed = PERMISSIONS[action] or (ADMIN,)
    if len(needed) == 1:
        wanted, pronoun = f"the {needed[0]} role", "that role"
    else:
        wanted, pronoun = f"the {_either(needed)} role", "one of those roles"
    return (
        f"{actor} {_is(roles)}; {DOING[action]} needs {wanted}. Ask an admin to give you {pronoun}."
    )


def _is(roles: frozenset[str]) -> str:
    if not roles:
        return "has no role"
    named = [f"{'an' if role[0] in 'aeiou' else 'a'} {role}" for role in sorted(roles)]
    return "is " + " and ".join(named)


def _either(names: tuple[str, ...]) -> str:
    return ", ".join(names[:-1]) + " or " + names[-1]
