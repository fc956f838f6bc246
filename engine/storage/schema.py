"""Bringing a database's schema to this program's version, or refusing clearly.

The schema is owned by the Alembic migrations beside this module. ``upgrade`` is what
``statusflow db upgrade`` and the embedded start call; ``check`` is what every other
command calls, so a program never works on a schema it does not understand.

StatusFlow records its revision in ``sf_schema_version``, not Alembic's default
``alembic_version``: a host application that uses Alembic itself keeps its own table,
and neither program mistakes the other's revision for its own. A database made by an
earlier StatusFlow (which used ``alembic_version``) is taken over on upgrade, but only
when the revision there is one of StatusFlow's.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, inspect, text

from engine.errors import DatabaseError
from engine.storage.database import Database, describe

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "sf_schema_version"
LEGACY_VERSION_TABLE = "alembic_version"


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


def _revision_in(conn: Connection, table: str) -> str | None:
    context = MigrationContext.configure(conn, opts={"version_table": table})
    return context.get_current_revision()


def _legacy_revision(conn: Connection) -> str | None:
    """The revision an earlier StatusFlow wrote to ``alembic_version``; None when that
    table is absent or belongs to another program (a revision StatusFlow never had)."""
    if not inspect(conn).has_table(LEGACY_VERSION_TABLE):
        return None
    revision = _revision_in(conn, LEGACY_VERSION_TABLE)
    return revision if revision is not None and _known(revision) else None


def _stored_revision(conn: Connection) -> str | None:
    return _revision_in(conn, VERSION_TABLE) or _legacy_revision(conn)


def current_revision(db: Database) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with db.read() as conn:
        return _stored_revision(conn)


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


def _schema_elsewhere(db: Database) -> str | None:
    """PostgreSQL: another schema of this database that holds StatusFlow's tables (a
    database set up before StatusFlow kept to its own schema keeps them in public)."""
    if db.schema is None:
        return None
    query = text(
        "SELECT table_schema FROM information_schema.tables WHERE table_name = "
        "'sf_record_sources' AND table_schema <> :own ORDER BY table_schema LIMIT 1"
    )
    with db.read() as conn:
        found = conn.scalar(query, {"own": db.schema})
    return str(found) if found is not None else None


def _refuse_second_copy(db: Database) -> None:
    """Never start an empty StatusFlow beside an existing one: say where it is."""
    elsewhere = _schema_elsewhere(db)
    if elsewhere is not None:
        raise DatabaseError(
            f"StatusFlow's tables in {describe(db.url)} are in the schema {elsewhere}, not "
            f"{db.schema}: add ?schema={elsewhere} to the database URL (then run "
            "'statusflow db upgrade' once), or have an administrator move them."
        )


def upgrade(db: Database) -> tuple[str | None, str]:
    """Apply every missing migration; returns (revision before, revision after)."""
    before = current_revision(db)
    if before is None:
        _refuse_second_copy(db)
    if before is not None and not _known(before):
        _refuse_newer(db, before)
    with db.write() as conn:
        if db.schema is not None:
            _create_schema(conn, db.schema)
        _take_over_legacy(conn)
        command.upgrade(_config(conn), "head")
    return before, head_revision()


def _create_schema(conn: Connection, name: str) -> None:
    """StatusFlow's own PostgreSQL schema; refused plainly when the role may not create it."""
    exists = conn.scalar(text("SELECT 1 FROM pg_namespace WHERE nspname = :n"), {"n": name})
    if exists:
        return
    allowed = conn.scalar(text("SELECT has_database_privilege(current_database(), 'CREATE')"))
    if not allowed:
        user = conn.scalar(text("SELECT current_user"))
        raise DatabaseError(
            f"The schema {name} does not exist and {user} may not create it. An administrator "
            f'runs: CREATE SCHEMA {name} AUTHORIZATION "{user}";'
        )
    conn.exec_driver_sql(f"CREATE SCHEMA {name}")


def _take_over_legacy(conn: Connection) -> None:
    """Move an earlier StatusFlow's revision from ``alembic_version`` to our own table."""
    if _revision_in(conn, VERSION_TABLE) is not None:
        return
    revision = _legacy_revision(conn)
    if revision is None:
        return
    command.stamp(_config(conn), revision)
    conn.exec_driver_sql(f"DROP TABLE {LEGACY_VERSION_TABLE}")


def check(db: Database) -> None:
    """Refuse to work on a database whose schema is older or newer than this program."""
    revision = current_revision(db)
    if revision == head_revision():
        return
    if revision is None:
        _refuse_second_copy(db)
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
