"""The schema: migrations build exactly the declared tables, and bad schemas are refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import exc, insert, inspect, text, update

from engine.errors import DatabaseError
from engine.storage import schema
from engine.storage.database import Database
from engine.storage.tables import audit_entries, metadata
from tests.host import as_host


def test_migrations_match_the_declared_tables(db: Database) -> None:
    with db.read() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": schema.VERSION_TABLE})
        diff = compare_metadata(context, metadata)
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
        conn.execute(text("UPDATE sf_schema_version SET version_num = 'f00dcafe9999'"))
    for call in (schema.check, schema.upgrade):
        with pytest.raises(DatabaseError, match="newer StatusFlow"):
            call(db)


LEGACY_TABLE = (
    "CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, "
    "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
)


def test_a_host_that_uses_alembic_keeps_its_own_version_table(empty_db: Database) -> None:
    with as_host(empty_db) as conn:
        conn.execute(text(LEGACY_TABLE))
        conn.execute(text("INSERT INTO alembic_version VALUES ('ae1027a6acf')"))
    schema.upgrade(empty_db)
    schema.check(empty_db)
    with as_host(empty_db) as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
            "ae1027a6acf"
        )
    with empty_db.read() as conn:
        own = conn.execute(text("SELECT version_num FROM sf_schema_version")).scalar()
    assert own == schema.head_revision()


def test_a_database_of_an_earlier_statusflow_is_taken_over(db: Database) -> None:
    """Before sf_schema_version, StatusFlow wrote its revision to alembic_version."""
    with db.write() as conn:
        conn.execute(text("DROP TABLE sf_schema_version"))
        conn.execute(text(LEGACY_TABLE))
        conn.execute(text("INSERT INTO alembic_version VALUES (:r)"), {"r": schema.head_revision()})
    assert schema.current_revision(db) == schema.head_revision()
    schema.upgrade(db)
    with db.read() as conn:
        tables = {t.lower() for t in inspect(conn).get_table_names()}
        assert "alembic_version" not in tables
        assert conn.execute(text("SELECT version_num FROM sf_schema_version")).scalar() == (
            schema.head_revision()
        )


@pytest.mark.postgres
@pytest.mark.parametrize("empty_db", ["postgresql"], indirect=True)
def test_on_postgresql_statusflow_keeps_to_its_own_schema(empty_db: Database) -> None:
    own = Database(empty_db.url.update_query_dict({"schema": "automation"}))
    schema.upgrade(own)
    with own.read() as conn:
        by_schema = dict(
            conn.execute(
                text(
                    "SELECT table_schema, count(*) FROM information_schema.tables "
                    "WHERE table_name LIKE 'sf\\_%' GROUP BY table_schema"
                )
            ).all()
        )
    own.dispose()
    assert list(by_schema) == ["automation"] and by_schema["automation"] > 10
    with pytest.raises(DatabaseError, match="in the schema automation, not statusflow"):
        schema.check(empty_db)  # the default schema is empty: it says where they are


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
