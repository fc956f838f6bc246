"""User accounts and their roles, with salted password hashes and an audit trail.

Roles: designer (draws and submits), publisher (reviews, publishes, rolls back,
disables), operator (support staff: reads runs, works tasks) and admin (users, record
sources, settings, overrides; may do everything). Passwords are hashed with the
standard library's scrypt so no extra dependency guards the most sensitive column, at
OWASP's minimum cost (N=2^17, r=8, p=1); each hash carries its parameters, so hashes
made at an older cost still verify and are upgraded at the user's next sign-in.
Changes are serialized (one advisory lock on PostgreSQL, BEGIN IMMEDIATE on SQLite)
so two admins demoting each other at once cannot leave the database without an admin.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, text, update

from engine import audit
from engine.clock import SYSTEM_CLOCK, Clock
from engine.errors import StatusFlowError
from engine.governance import db_logins
from engine.governance.passwords import hash_password
from engine.permissions import ADMIN, login_name, no_account, require
from engine.storage.database import Database
from engine.storage.tables import ROLES, user_roles, users

USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,39}$")
MIN_PASSWORD = 8
USERS_LOCK_KEY = 0x5F_05E5  # pg_advisory_xact_lock key for user changes
WRONG_LOGIN = "Wrong user name or password."


@dataclass(frozen=True)
class UserInfo:
    username: str
    display_name: str
    email: str | None
    roles: tuple[str, ...]
    is_active: bool
    has_password: bool
    created_at: datetime


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise StatusFlowError(f"The password is too short; use at least {MIN_PASSWORD} characters.")


# -- reading ------------------------------------------------------------------------


def _roles_by_user(conn: Connection) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for row in conn.execute(select(user_roles.c.user_id, user_roles.c.role)):
        found.setdefault(row.user_id, []).append(row.role)
    return found


def _info(row: Any, roles: Iterable[str]) -> UserInfo:
    held = set(roles)
    return UserInfo(
        row.username,
        row.display_name,
        row.email,
        tuple(role for role in ROLES if role in held),
        row.is_active,
        row.password_hash is not None,
        row.created_at,
    )


def list_users(conn: Connection) -> list[UserInfo]:
    """Every account, active or not, by user name."""
    roles = _roles_by_user(conn)
    rows = conn.execute(select(users).order_by(users.c.username))
    return [_info(row, roles.get(row.id, ())) for row in rows]


def find_user(conn: Connection, username: str) -> UserInfo | None:
    """The account, or None when there is none by that name."""
    row = conn.execute(select(users).where(users.c.username == login_name(username))).first()
    if row is None:
        return None
    roles = conn.execute(select(user_roles.c.role).where(user_roles.c.user_id == row.id))
    return _info(row, roles.scalars())


def get_user(conn: Connection, username: str) -> UserInfo:
    """The account; an unknown name is an error that says how to list them."""
    user = find_user(conn, username)
    if user is None:
        raise StatusFlowError(
            f"There is no StatusFlow user '{username}'; 'statusflow user list' shows them all."
        )
    return user


# -- changing -----------------------------------------------------------------------


def _lock_users(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": USERS_LOCK_KEY})


@contextmanager
def _managing(db: Database, actor: str) -> Iterator[Connection]:
    """A user change: serialized, and only by someone who may manage users."""
    with db.write() as conn:
        _lock_users(conn)
        require(conn, actor, "users.manage")
        yield conn


def _check_roles(roles: Iterable[str]) -> tuple[str, ...]:
    given = {role.strip().lower() for role in roles}
    unknown = sorted(given - set(ROLES))
    if unknown:
        raise StatusFlowError(
            f"'{unknown[0]}' is not a StatusFlow role; choose from {', '.join(ROLES)}."
        )
    if not given:
        raise StatusFlowError(
            f"Give the user at least one role ({', '.join(ROLES)}); to take all access "
            "away, deactivate the account instead."
        )
    return tuple(role for role in ROLES if role in given)


def _check_username(username: str) -> str:
    name = login_name(username)
    if not USERNAME.match(name):
        raise StatusFlowError(
            f"'{username}' cannot be a user name; use 2 to 40 lowercase letters, digits, "
            "'.', '_' or '-', starting with a letter (for example ann.smith)."
        )
    return name


def _user_id(conn: Connection, username: str) -> int:
    return conn.execute(
        select(users.c.id).where(users.c.username == login_name(username))
    ).scalar_one()


def _other_active_admins(conn: Connection, username: str) -> int:
    query = (
        select(func.count())
        .select_from(users.join(user_roles, users.c.id == user_roles.c.user_id))
        .where(user_roles.c.role == ADMIN)
        .where(users.c.is_active)
        .where(users.c.username != login_name(username))
    )
    return conn.execute(query).scalar_one()


def _keep_an_admin(conn: Connection, user: UserInfo, doing: str) -> None:
    if user.is_active and ADMIN in user.roles and _other_active_admins(conn, user.username) == 0:
        raise StatusFlowError(
            f"{user.username} is the last active admin, so {doing} would leave nobody able "
            "to manage users. Make someone else an admin first."
        )


def add_user(
    db: Database,
    username: str,
    *,
    display_name: str,
    email: str | None = None,
    password: str | None = None,
    roles: Iterable[str],
    actor: str,
    clock: Clock = SYSTEM_CLOCK,
) -> UserInfo:
    """Create an account; the very first account must be an admin, so nobody is locked out."""
    name = _check_username(username)
    chosen = _check_roles(roles)
    if not display_name.strip():
        raise StatusFlowError(f'Give {name}\'s full name, for example --name "Ann Smith".')
    if password is not None:
        _check_password(password)
    with _managing(db, actor) as conn:
        if find_user(conn, name) is not None:
            raise StatusFlowError(f"There is already a StatusFlow user '{name}'.")
        if ADMIN not in chosen and conn.execute(select(users.c.id).limit(1)).first() is None:
            raise StatusFlowError(
                "The first StatusFlow user must be an admin, so that someone can manage "
                "users; add the admin role."
            )
        return _insert(conn, name, display_name.strip(), email, password, chosen, actor, clock)


def _insert(
    conn: Connection,
    name: str,
    display_name: str,
    email: str | None,
    password: str | None,
    roles: tuple[str, ...],
    actor: str,
    clock: Clock,
) -> UserInfo:
    now = clock.now()
    user_id = conn.execute(
        insert(users)
        .values(
            username=name,
            display_name=display_name,
            email=email or None,
            password_hash=None if password is None else hash_password(password),
            is_active=True,
            created_at=now,
        )
        .returning(users.c.id)
    ).scalar_one()
    conn.execute(insert(user_roles), [{"user_id": user_id, "role": role} for role in roles])
    if db_logins.has_roles(conn):
        db_logins.create_login(conn, name, password, roles)
    user = get_user(conn, name)
    after = {"display_name": display_name, "email": user.email, "roles": list(roles)}
    _audit(
        conn,
        actor,
        "user.add",
        user,
        f"Added the user {name} ({', '.join(roles)})",
        now,
        after=after,
    )
    return user


def set_roles(
    db: Database, username: str, roles: Iterable[str], *, actor: str, clock: Clock = SYSTEM_CLOCK
) -> UserInfo:
    """Replace a user's roles; the last active admin keeps the admin role."""
    chosen = _check_roles(roles)
    with _managing(db, actor) as conn:
        user = get_user(conn, username)
        if ADMIN not in chosen:
            _keep_an_admin(conn, user, "removing the admin role")
        user_id = _user_id(conn, username)
        conn.execute(delete(user_roles).where(user_roles.c.user_id == user_id))
        conn.execute(insert(user_roles), [{"user_id": user_id, "role": role} for role in chosen])
        if db_logins.has_roles(conn):
            db_logins.set_login_roles(conn, user.username, chosen)
        summary = f"Changed {user.username}'s roles to {', '.join(chosen)}"
        _audit(
            conn,
            actor,
            "user.roles",
            user,
            summary,
            clock.now(),
            before={"roles": list(user.roles)},
            after={"roles": list(chosen)},
        )
        return get_user(conn, username)


def set_password(
    db: Database, username: str, password: str, *, actor: str, clock: Clock = SYSTEM_CLOCK
) -> UserInfo:
    """Set a new password; the audit entry says that it changed, never what it is."""
    _check_password(password)
    with _managing(db, actor) as conn:
        user = get_user(conn, username)
        conn.execute(
            update(users)
            .where(users.c.username == user.username)
            .values(password_hash=hash_password(password))
        )
        if db_logins.has_roles(conn):
            db_logins.set_login_password(conn, user.username, password)
        _audit(
            conn,
            actor,
            "user.password",
            user,
            f"Set a new password for {user.username}",
            clock.now(),
            before={"has_password": user.has_password},
            after={"has_password": True},
        )
        return get_user(conn, username)


def deactivate(db: Database, username: str, *, actor: str, clock: Clock = SYSTEM_CLOCK) -> UserInfo:
    """Take all access away but keep the account, so its history still names a person."""
    return _set_active(db, username, False, actor=actor, clock=clock)


def reactivate(db: Database, username: str, *, actor: str, clock: Clock = SYSTEM_CLOCK) -> UserInfo:
    """Give a deactivated account its access (and its old roles) back."""
    return _set_active(db, username, True, actor=actor, clock=clock)


def _set_active(db: Database, username: str, active: bool, *, actor: str, clock: Clock) -> UserInfo:
    with _managing(db, actor) as conn:
        user = get_user(conn, username)
        if not active:
            _keep_an_admin(conn, user, "deactivating them")
        conn.execute(
            update(users).where(users.c.username == user.username).values(is_active=active)
        )
        if db_logins.has_roles(conn):
            db_logins.set_login_active(conn, user.username, active)
        verb = "Reactivated" if active else "Deactivated"
        _audit(
            conn,
            actor,
            f"user.{'reactivate' if active else 'deactivate'}",
            user,
            f"{verb} the user {user.username}",
            clock.now(),
            before={"is_active": user.is_active},
            after={"is_active": active},
        )
        return get_user(conn, username)


def _audit(
    conn: Connection,
    actor: str,
    action: str,
    user: UserInfo,
    summary: str,
    at: datetime,
    *,
    before: Any = None,
    after: Any = None,
) -> None:
    audit.record(
        conn,
        actor=actor,
        action=action,
        object_type="user",
        object_id=user.username,
        summary=summary,
        before=before,
        after=after,
        at=at,
    )


def ensure_local_admin(db: Database, username: str, clock: Clock = SYSTEM_CLOCK) -> UserInfo:
    """The embedded single-user default: the OS user becomes the admin of an empty database.

    Idempotent. On a database that already has accounts nobody is promoted: the user
    must already have one.
    """
    with db.write() as conn:
        _lock_users(conn)
        if conn.execute(select(users.c.id).limit(1)).first() is not None:
            user = find_user(conn, username)
            if user is None:
                raise StatusFlowError(no_account(username))
            return user
        name = _check_username(username)
        return _insert(conn, name, name, None, None, (ADMIN,), name, clock)
