"""The schema: migrations build exactly the declared tables, and bad schemas are refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import exc, insert, text, update

from engine.errors import DatabaseError
from engine.storage import schema
from engine.storage.database import Database
from engine.storage.tables import audit_entries, metadata


def test_migrations_match_the_declared_tables(db: Database) -> None:
    with db.read() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_empty_database_is_upgraded_then_accepted(empty_db: Database) -> None:
    with pytest.raises(DatabaseError, match="statusflow db upgrade"):
        schema.check(empty_db)
    before, after = schema.upgrade(empty_db)
    assert before is None
    assert after == schema.head_revision()
    schema.check(empty_db)
    assert schema.upgrade(empty_db) == (after, after)  # a second upgrade is a no-op


def test_database_from_a_newer_program_is_refused(db: Database) -> None:
    with db.write() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00dcafe9999'"))
    for call in (schema.check, schema.upgrade):
        with pytest.raises(DatabaseError, match="newer StatusFlow"):
            call(db)


def test_audit_entries_cannot_be_changed_or_removed(db: Database) -> None:
    with db.write() as conn:
        conn.execute(
            insert(audit_entries).values(
                at=datetime.now(UTC),
                actor="ana",
                action="graph.publish",
                object_type="graph",
                summary="Published V1.0",
            )
        )
    for statement in (update(audit_entries).values(actor="mallory"), audit_entries.delete()):
        with pytest.raises(exc.DatabaseError, match="append-only"), db.write() as conn:
            conn.execute(statement)
    with db.read() as conn:
        assert conn.execute(audit_entries.select()).one().actor == "ana"


def test_sqlite_is_durable_and_waits_for_writers(tmp_path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with database.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "is not a database URL"),
        ("mysql://root@localhost/x", "SQLite or PostgreSQL"),
        ("postgresql://postgres@127.0.0.1:1/none", "Check that the server is running"),
    ],
)
def test_wrong_database_url_gets_a_clear_sentence(url: str, message: str) -> None:
    with pytest.raises(DatabaseError, match=message):
        Database(url).check_reachable()
