"""Bringing a database's schema to this program's version, or refusing clearly.

The schema is owned by the Alembic migrations beside this module. ``upgrade`` is what
``statusflow db upgrade`` and the embedded start call; ``check`` is what every other
command calls, so a program never works on a schema it does not understand.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection

from engine.errors import DatabaseError
from engine.storage.database import Database, describe

MIGRATIONS = Path(__file__).with_name("migrations")


def _config(conn: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if conn is not None:
        config.attributes["connection"] = conn
    return config


def head_revision() -> str:
    """The newest schema revision this program knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def current_revision(db: Database) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with db.read() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _refuse_newer(db: Database, revision: str) -> None:
    raise DatabaseError(
        f"The database {describe(db.url)} was set up by a newer StatusFlow "
        f"(schema {revision}); this program only knows up to {head_revision()}. "
        "Install the newer StatusFlow, or use another database."
    )


def _known(revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(_config()).get_revision(revision) is not None
    except CommandError:  # an id this program has never seen
        return False


def upgrade(db: Database) -> tuple[str | None, str]:
    """Apply every missing migration; returns (revision before, revision after)."""
    before = current_revision(db)
    if before is not None and not _known(before):
        _refuse_newer(db, before)
    with db.write() as conn:
        command.upgrade(_config(conn), "head")
    return before, head_revision()


def check(db: Database) -> None:
    """Refuse to work on a database whose schema is older or newer than this program."""
    revision = current_revision(db)
    if revision == head_revision():
        return
    if revision is None:
        raise DatabaseError(
            f"The database {describe(db.url)} has no StatusFlow tables yet. "
            "Run 'statusflow db upgrade' to create them."
        )
    if not _known(revision):
        _refuse_newer(db, revision)
    raise DatabaseError(
        f"The database {describe(db.url)} is at schema {revision}, older than this "
        f"program ({head_revision()}). Run 'statusflow db upgrade'."
    )
