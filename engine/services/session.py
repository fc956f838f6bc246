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
from engine.errors import StatusFlowError
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
    "sign_in",
    "who_acts",
]


def database_person(db: Database) -> str | None:
    """The person this connection's own PostgreSQL login is, when people connect with
    logins of their own (``statusflow db roles``): who the database says they are."""
    with db.read() as conn:
        return db_logins.database_person(conn)


def who_acts(db: Database, claimed: str | None, *, local_user: str) -> tuple[str, bool]:
    """The login acting (``claimed``, else the computer's user) and whether their
    StatusFlow password is still needed, read in one transaction. A person's own
    PostgreSQL login is who acts, password checked by the database; acting as anyone
    else on that connection is refused."""
    login = login_name(claimed or local_user)
    with db.read() as conn:
        person = db_logins.database_person(conn)
        if person is not None:
            if claimed and login != person:
                raise StatusFlowError(
                    f"This database connection is {person}'s own login, so you act as "
                    f"{person}; to act as {login}, connect with {login}'s login."
                )
            return person, False
        if conn.execute(select(users.c.id).limit(1)).first() is None:
            return login, False  # no accounts yet: the first admin must be creatable
    return login, not (db.is_sqlite and login == login_name(local_user))


def sign_in(db: Database, login: str, password: str, clock: Clock = SYSTEM_CLOCK) -> str:
    """The normalised login of the person whose password this is (failures are audited
    and limited: :mod:`engine.governance.sign_in`)."""
    return authenticate(db, login, password, clock).username
