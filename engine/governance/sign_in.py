"""Signing in: a password checked against its scrypt hash, failures audited and limited.

Every refusal reads the same ("Wrong user name or password.") so a stranger cannot
learn which names exist. Each failure is written to the audit log, and after
:data:`MAX_FAILURES` failures for one name within :data:`FAILURE_WINDOW` that name is
refused without checking the password until the window passes: guessing costs a
quarter of an hour per handful of tries, and the audit log shows who was tried.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from engine import audit
from engine.clock import SYSTEM_CLOCK, Clock
from engine.errors import StatusFlowError
from engine.governance.passwords import (
    cost,
    decoy_hash,
    hash_password,
    needs_rehash,
    verify_password,
)
from engine.governance.users import WRONG_LOGIN, UserInfo, get_user
from engine.permissions import login_name
from engine.storage.database import Database
from engine.storage.tables import audit_entries, users

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
FAILED = "user.sign_in_failed"


def authenticate(
    db: Database, username: str, password: str, clock: Clock = SYSTEM_CLOCK
) -> UserInfo:
    """The account whose password this is; one sentence for every refusal.

    A hash made at an older cost is remade at the current one after a successful
    sign-in. That is not audited: the password itself did not change.
    """
    login, now = login_name(username), clock.now()
    with db.read() as conn:
        failures = conn.execute(
            select(func.count())
            .select_from(audit_entries)
            .where(audit_entries.c.action == FAILED)
            .where(audit_entries.c.object_id == login)
            .where(audit_entries.c.at > now - FAILURE_WINDOW)
        ).scalar_one()
        if failures >= MAX_FAILURES:
            minutes = int(FAILURE_WINDOW.total_seconds() // 60)
            raise StatusFlowError(
                f"Too many failed sign-ins for '{login}' in the last {minutes} minutes; try "
                "again later, or ask an admin to set a new password."
            )
        row = conn.execute(select(users).where(users.c.username == login)).first()
        stored = row.password_hash if row is not None and row.is_active else None
        accepted = verify_password(password, stored or decoy_hash(*cost())) and stored
        user = get_user(conn, login) if accepted else None
    if user is None or stored is None:
        with db.write() as conn:
            audit.record(
                conn,
                actor=login,
                action=FAILED,
                object_type="user",
                object_id=login,
                summary=f"A sign-in as '{login}' was refused (wrong name or password)",
                at=now,
            )
        raise StatusFlowError(WRONG_LOGIN)
    if needs_rehash(stored):
        _upgrade_hash(db, user.username, stored, hash_password(password))
    return user


def _upgrade_hash(db: Database, username: str, old: str, new: str) -> None:
    """Store ``new`` in place of ``old``; a password changed meanwhile (by an admin)
    is kept, since only the exact old hash is replaced."""
    with db.write() as conn:
        conn.execute(
            update(users)
            .where(users.c.username == username)
            .where(users.c.password_hash == old)
            .values(password_hash=new)
        )
