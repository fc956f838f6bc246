"""Who is acting: when a person must give their password, and signing them in.

On PostgreSQL with people's own logins (``statusflow db roles``), the database has
already checked the password: the person is the connection's ``session_user``.

On SQLite (the embedded, single-person default) the person logged in to this
computer acts without a prompt, as the local administrator; everyone else, and
everyone on a shared PostgreSQL database, signs in with their StatusFlow password.
A database with no accounts yet asks nobody: its first admin must be creatable.
"""

from __future__ import annotations

from sqlalchemy import select

from engine.clock import SYSTEM_CLOCK, Clock
from engine.governance import db_logins
from engine.governance.sign_in import FAILURE_WINDOW, MAX_FAILURES, authenticate
from engine.permissions import login_name
from engine.storage.database import Database
from engine.storage.tables import users

__all__ = [
    "FAILURE_WINDOW",
    "MAX_FAILURES",
    "database_person",
    "login_name",
    "needs_password",
    "sign_in",
]


def database_person(db: Database) -> str | None:
    """The person this connection's own PostgreSQL login is, when people connect with
    logins of their own (``statusflow db roles``): who the database says they are."""
    with db.read() as conn:
        return db_logins.database_person(conn)


def needs_password(db: Database, login: str, *, local_user: str) -> bool:
    """Whether acting as ``login`` needs that person's password here."""
    with db.read() as conn:
        if conn.execute(select(users.c.id).limit(1)).first() is None:
            return False
    return not (db.is_sqlite and login_name(login) == login_name(local_user))


def sign_in(db: Database, login: str, password: str, clock: Clock = SYSTEM_CLOCK) -> str:
    """The normalised login of the person whose password this is (failures are audited
    and limited: :mod:`engine.governance.sign_in`)."""
    return authenticate(db, login, password, clock).username
