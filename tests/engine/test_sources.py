"""Registering a business table as a record source, and what StatusFlow learns about it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select, text

from engine.errors import SourceError
from engine.runtime.records import RecordStore
from engine.sources.introspection import label_names, table_fields
from engine.sources.registry import (
    SourceInfo,
    add_source,
    get_source,
    list_sources,
    refresh_fields,
    remove_source,
)
from engine.storage import schema
from engine.storage.database import Database
from engine.storage.tables import audit_entries, graphs
from tests.host import as_host, stored

TICKETS = (
    "CREATE TABLE tickets (id INTEGER PRIMARY KEY, title TEXT, requester_email TEXT, "
    "owner_name VARCHAR(80), customer_ref TEXT, priority INTEGER, cost NUMERIC(10, 2), "
    "weight REAL, state VARCHAR(20), due_on DATE, closed_at TIMESTAMP, urgent BOOLEAN)",
    "CREATE TABLE ticket_tags (ticket_id INTEGER REFERENCES tickets(id), tag TEXT)",
    "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)",
    "INSERT INTO tickets (id, title, state, cost) VALUES (1, 'Printer on fire', 'OPEN', 12.50)",
    "INSERT INTO ticket_tags (ticket_id, tag) VALUES (1, 'urgent'), (1, 'hardware'), (1, 'urgent')",
)
TICKET_COLUMNS = (
    "id, title, requester_email, owner_name, customer_ref, priority, cost, weight, state, "
    "due_on, closed_at, urgent"
)


@pytest.fixture
def tickets_db(db: Database) -> Database:
    with as_host(db) as conn:
        for statement in TICKETS:
            conn.execute(text(statement))
    return db


def register(db: Database, **overrides: object) -> SourceInfo:
    arguments: dict = {
        "name": "tickets",
        "table": "tickets",
        "key_column": "id",
        "status_column": "state",
        "actor": "ana",
    }
    return add_source(db, **{**arguments, **overrides})


def audit_actions(db: Database) -> list[tuple[str, str, str]]:
    with db.read() as conn:
        query = select(audit_entries.c.actor, audit_entries.c.action, audit_entries.c.object_id)
        return [tuple(row) for row in conn.execute(query.order_by(audit_entries.c.id))]


def test_registering_learns_the_columns_labels_and_display_defaults(tickets_db: Database) -> None:
    source = register(tickets_db, label_table="ticket_tags", label_column="tag")
    assert dict(source.fields) == {
        "id": "number",
        "title": "text",
        "requester_email": "text",
        "owner_name": "text",
        "customer_ref": "text",
        "priority": "number",
        "cost": "number",
        "weight": "number",
        "state": "text",
        "due_on": "date",
        "closed_at": "datetime",
        "urgent": "boolean",
    }
    assert source.display_columns == ("id", "title", "requester_email", "owner_name")
    assert (source.label_table, source.label_key_column, source.label_column) == (
        stored(tickets_db, "ticket_tags"),
        "ticket_id",
        "tag",
    )
    assert get_source(tickets_db, "tickets") == source
    assert list_sources(tickets_db) == [source]
    assert audit_actions(tickets_db) == [("ana", "source.add", "tickets")]


def test_names_are_matched_to_the_spelling_the_database_stores(tickets_db: Database) -> None:
    source = register(tickets_db, table="Tickets", key_column="ID", status_column="STATE")
    assert (source.table, source.key_column, source.status_column) == (
        stored(tickets_db, "tickets"),
        "id",
        "state",
    )


def test_an_unknown_table_is_refused_with_the_tables_that_exist(tickets_db: Database) -> None:
    with pytest.raises(SourceError) as refused:
        register(tickets_db, table="tikets")
    where = "the schema public" if tickets_db.is_postgresql else "this database"
    assert str(refused.value) == (
        f"There is no table 'tikets' in {where}. Its tables are: notes, ticket_tags, tickets."
    )


def test_an_unknown_column_is_refused_with_the_columns_that_exist(tickets_db: Database) -> None:
    with pytest.raises(SourceError) as refused:
        register(tickets_db, status_column="stat")
    assert str(refused.value) == (
        f"{stored(tickets_db, 'tickets')} has no column 'stat'. Its columns are: {TICKET_COLUMNS}."
    )


@pytest.mark.parametrize(
    "table",
    ["tickets; DROP TABLE tickets", 'tickets"; DROP TABLE tickets; --', "x' OR '1'='1"],
)
def test_a_table_name_with_sql_in_it_is_refused_and_never_run(
    tickets_db: Database, table: str
) -> None:
    with pytest.raises(SourceError, match="There is no table"):
        register(tickets_db, table=table)
    with as_host(tickets_db) as conn:
        assert conn.execute(text("SELECT count(*) FROM tickets")).scalar() == 1
    assert list_sources(tickets_db) == []


def test_statusflows_own_tables_cannot_be_registered(tickets_db: Database) -> None:
    with pytest.raises(SourceError, match="StatusFlow's own tables"):
        register(tickets_db, table="sf_status_events", key_column="id", status_column="kind")
    if tickets_db.is_postgresql:
        with pytest.raises(SourceError, match="statusflow is StatusFlow's own schema"):
            register(tickets_db, table="statusflow.sf_status_events", status_column="kind")


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_table_in_another_schema_is_found_by_its_qualified_name(db: Database) -> None:
    with as_host(db) as conn:
        conn.execute(text("CREATE SCHEMA shop"))
        conn.execute(text("CREATE TABLE shop.orders (id INTEGER PRIMARY KEY, status TEXT)"))
        conn.execute(
            text("CREATE TABLE shop.order_tags (order_id INTEGER REFERENCES shop.orders, tag TEXT)")
        )
    source = register(
        db,
        table="shop.orders",
        status_column="status",
        label_table="shop.order_tags",
        label_column="tag",
    )
    assert (source.table, source.label_table, source.label_key_column) == (
        "shop.orders",
        "shop.order_tags",
        "order_id",
    )
    with pytest.raises(SourceError, match=r"no schema 'shp'.*public, shop"):
        register(db, name="other", table="shp.orders", status_column="status")


@pytest.mark.parametrize("name", ["Tickets", "1st", "help-desk", "t" * 41, ""])
def test_a_source_name_must_be_a_short_slug(tickets_db: Database, name: str) -> None:
    with pytest.raises(SourceError, match="cannot be a source name"):
        register(tickets_db, name=name)


def test_a_name_or_a_table_registered_twice_is_refused(tickets_db: Database) -> None:
    register(tickets_db)
    with pytest.raises(SourceError, match="named 'tickets' exists already"):
        register(tickets_db, table="notes", status_column="body")
    with pytest.raises(SourceError, match="already registered as the record source 'tickets'"):
        register(tickets_db, name="helpdesk")
    assert [s.name for s in list_sources(tickets_db)] == ["tickets"]
    assert audit_actions(tickets_db) == [("ana", "source.add", "tickets")]


def test_a_label_table_without_a_foreign_key_needs_the_key_column(tickets_db: Database) -> None:
    with pytest.raises(
        SourceError, match=r"no column with a foreign key to (public\.)?tickets.*--label"
    ):
        register(tickets_db, label_table="notes", label_column="body")
    source = register(tickets_db, label_table="notes", label_key_column="id", label_column="body")
    assert source.label_key_column == "id"


def test_the_status_column_cannot_also_be_a_watched_column(tickets_db: Database) -> None:
    with pytest.raises(SourceError, match="state is the status column"):
        register(tickets_db, watched_columns=["due_on", "state"])


def test_an_unknown_source_is_answered_with_the_known_ones(tickets_db: Database) -> None:
    with pytest.raises(SourceError, match="Known sources: none are registered yet"):
        get_source(tickets_db, "orders")
    register(tickets_db)
    with pytest.raises(SourceError, match=r"no record source named 'orders'. Known sources: tick"):
        get_source(tickets_db, "orders")


def test_a_source_used_by_a_graph_cannot_be_removed(tickets_db: Database) -> None:
    source = register(tickets_db)
    with tickets_db.write() as conn:
        conn.execute(
            insert(graphs).values(
                id="00000000-0000-0000-0000-000000000001",
                name="Escalate stale tickets",
                source_id=source.id,
                created_at=datetime.now(UTC),
            )
        )
    with pytest.raises(SourceError, match="used by the graphs Escalate stale tickets"):
        remove_source(tickets_db, "tickets", actor="ana")
    assert list_sources(tickets_db) == [source]


def test_removing_a_source_is_audited(tickets_db: Database) -> None:
    register(tickets_db)
    remove_source(tickets_db, "tickets", actor="bo")
    assert list_sources(tickets_db) == []
    assert audit_actions(tickets_db)[-1] == ("bo", "source.remove", "tickets")


def test_refreshing_fields_picks_up_a_new_column(tickets_db: Database) -> None:
    register(tickets_db)
    with as_host(tickets_db) as conn:
        conn.execute(text("ALTER TABLE tickets ADD COLUMN region TEXT"))
    refreshed = refresh_fields(tickets_db, "tickets")
    assert refreshed.fields["region"] == "text"
    assert get_source(tickets_db, "tickets") == refreshed


def test_a_record_is_read_by_its_key_as_events_carry_it(tickets_db: Database) -> None:
    source = register(tickets_db)
    read = RecordStore().read
    with tickets_db.read() as conn:
        record = read(conn, source, "1")
        assert record is not None
        assert (record["title"], record["state"], float(record["cost"])) == (
            "Printer on fire",
            "OPEN",
            12.5,
        )
        assert read(conn, source, "2") is None
        assert read(conn, source, "1 OR 1=1") is None


def test_label_names_are_the_distinct_labels_in_use(tickets_db: Database) -> None:
    with_labels = register(tickets_db, label_table="ticket_tags", label_column="tag")
    with tickets_db.read() as conn:
        assert label_names(conn, with_labels) == ["hardware", "urgent"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sqlites_loose_column_types_are_understood(db: Database) -> None:
    with as_host(db) as conn:
        conn.execute(
            text(
                "CREATE TABLE legacy (a DECIMAL(8, 2), b DATETIME, c BOOLEAN, d VARCHAR, "
                "e DOUBLE, f BIGINT, g DATE, h)"
            )
        )
        fields = table_fields(conn, "legacy")
    assert fields == {
        "a": "number",
        "b": "datetime",
        "c": "boolean",
        "d": "text",
        "e": "number",
        "f": "number",
        "g": "date",
        "h": "text",
    }


def test_a_source_is_added_right_after_the_first_upgrade(empty_db: Database) -> None:
    """The first connection came before StatusFlow's schema existed (a first start)."""
    empty_db.check_reachable()
    schema.upgrade(empty_db)
    with as_host(empty_db) as conn:
        for statement in TICKETS:
            conn.execute(text(statement))
    assert register(empty_db).table == stored(empty_db, "tickets")
