"""Changes the host application makes in SQL leave exactly the events the engine needs."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import Row, select, text

from engine.runtime.events import Event, claim_events
from engine.sources.registry import SourceInfo, add_source, remove_source
from engine.sources.triggers import NOTIFY_CHANNEL, clear_write_context, set_write_context
from engine.storage.database import Database
from engine.storage.tables import status_events
from tests.host import as_host

ORDERS = (
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_name TEXT, email TEXT, "
    "amount NUMERIC, status TEXT, delivered_on DATE)",
    "CREATE TABLE order_labels (order_id INTEGER REFERENCES orders(id), label TEXT)",
    "INSERT INTO orders VALUES (1, 'Ana Diaz', 'ana@example.com', 10.5, 'NEW', NULL)",
    "INSERT INTO orders VALUES (2, 'Bo Chen', 'bo@example.com', 99, 'NEW', NULL)",
)


def run_sql(db: Database, *statements: str, **params: Any) -> None:
    with as_host(db) as conn:
        for statement in statements:
            conn.execute(text(statement), params)


def events(db: Database) -> list[Row[Any]]:
    with db.read() as conn:
        return list(conn.execute(select(status_events).order_by(status_events.c.id)))


def values(event: Row[Any]) -> tuple[Any, ...]:
    return (event.record_key, event.kind, event.field, event.old_value, event.new_value)


@pytest.fixture
def orders(db: Database) -> SourceInfo:
    run_sql(db, *ORDERS)
    return add_source(
        db,
        name="orders",
        table="orders",
        key_column="id",
        status_column="status",
        label_table="order_labels",
        watched_columns=["delivered_on"],
    )


def test_changing_an_orders_status_leaves_one_event_with_old_and_new(
    db: Database, orders: SourceInfo
) -> None:
    before = datetime.now(UTC)
    run_sql(db, "UPDATE orders SET status = 'DEL' WHERE id = 1")
    (event,) = events(db)
    assert event.source_id == orders.id
    assert values(event) == ("1", "status", "status", "NEW", "DEL")
    assert before - timedelta(seconds=5) <= event.occurred_at <= datetime.now(UTC)
    assert (event.caused_by_run_id, event.causation_depth, event.processed_at) == (None, 0, None)


def test_setting_the_same_status_again_leaves_no_event(db: Database, orders: SourceInfo) -> None:
    run_sql(db, "UPDATE orders SET status = 'NEW' WHERE id = 1")
    assert events(db) == []


def test_other_columns_leave_events_only_when_watched(db: Database, orders: SourceInfo) -> None:
    run_sql(db, "UPDATE orders SET email = 'ana@new.example.com', amount = 12 WHERE id = 1")
    assert events(db) == []
    run_sql(db, "UPDATE orders SET delivered_on = '2026-01-05' WHERE id = 2")
    assert [values(e) for e in events(db)] == [("2", "field", "delivered_on", None, "2026-01-05")]


def test_one_update_of_status_and_watched_column_leaves_one_event_each(
    db: Database, orders: SourceInfo
) -> None:
    run_sql(db, "UPDATE orders SET status = 'DEL', delivered_on = '2026-01-05' WHERE id = 1")
    assert sorted(values(e) for e in events(db)) == [
        ("1", "field", "delivered_on", None, "2026-01-05"),
        ("1", "status", "status", "NEW", "DEL"),
    ]


def test_a_new_order_leaves_a_created_event(db: Database, orders: SourceInfo) -> None:
    run_sql(db, "INSERT INTO orders (id, customer_name, status) VALUES (3, 'Cy', 'NEW')")
    assert [values(e) for e in events(db)] == [("3", "created", "status", None, "NEW")]


def test_applying_and_removing_a_label_leave_label_events(db: Database, orders: SourceInfo) -> None:
    run_sql(db, "INSERT INTO order_labels VALUES (2, 'VIP')")
    run_sql(db, "DELETE FROM order_labels WHERE order_id = 2")
    assert [values(e) for e in events(db)] == [
        ("2", "label", "label", None, "VIP"),
        ("2", "label_removed", "label", "VIP", None),
    ]


def test_a_row_without_a_key_is_saved_and_leaves_no_event(db: Database, orders: SourceInfo) -> None:
    run_sql(db, "INSERT INTO order_labels VALUES (NULL, 'orphan')")
    with as_host(db) as conn:
        assert conn.execute(text("SELECT count(*) FROM order_labels")).scalar() == 1
    assert events(db) == []


def test_an_engine_write_carries_its_run_and_depth_and_others_do_not(
    db: Database, orders: SourceInfo
) -> None:
    run_id = str(uuid.uuid4())
    with as_host(db) as conn:
        set_write_context(conn, run_id, 2)
        conn.execute(text("UPDATE orders SET status = 'DEL' WHERE id = 1"))
        clear_write_context(conn)
        conn.execute(text("UPDATE orders SET status = 'DEL' WHERE id = 2"))
    run_sql(db, "UPDATE orders SET status = 'CLOSED' WHERE id = 1")
    caused = [(e.record_key, e.caused_by_run_id, e.causation_depth) for e in events(db)]
    assert caused == [("1", run_id, 2), ("2", None, 0), ("1", None, 0)]


def test_a_removed_source_leaves_no_events_and_its_table_still_works(
    db: Database, orders: SourceInfo
) -> None:
    remove_source(db, "orders", actor="ana")
    run_sql(
        db,
        "UPDATE orders SET status = 'DEL', delivered_on = '2026-01-05' WHERE id = 1",
        "INSERT INTO orders (id, status) VALUES (3, 'NEW')",
        "INSERT INTO order_labels VALUES (1, 'VIP')",
        "DELETE FROM order_labels",
    )
    assert events(db) == []


def test_a_source_registered_again_after_removal_leaves_one_event_per_change(
    db: Database, orders: SourceInfo
) -> None:
    remove_source(db, "orders")
    again = add_source(db, name="orders", table="orders", key_column="id", status_column="status")
    run_sql(db, "UPDATE orders SET status = 'DEL' WHERE id = 1")
    assert [(e.source_id, *values(e)) for e in events(db)] == [
        (again.id, "1", "status", "status", "NEW", "DEL")
    ]


postgresql_only = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


@pytest.mark.postgres
@postgresql_only
def test_a_listening_engine_is_notified_when_the_change_commits(
    db: Database, db_url: str, orders: SourceInfo
) -> None:
    with psycopg.connect(db_url, autocommit=True) as listener:
        listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
        run_sql(db, "UPDATE orders SET status = 'DEL' WHERE id = 1")
        received = list(listener.notifies(timeout=5, stop_after=1))
    assert [(n.channel, n.payload) for n in received] == [(NOTIFY_CHANNEL, str(orders.id))]


@pytest.mark.postgres
@postgresql_only
def test_concurrent_transactions_on_different_orders_both_leave_their_events(
    db: Database, orders: SourceInfo
) -> None:
    run_id = str(uuid.uuid4())
    both_updated = threading.Barrier(2, timeout=10)

    def change(order_id: int, caused_by: str | None) -> None:
        with db.write() as conn:
            if caused_by:
                set_write_context(conn, caused_by, 1)
            conn.execute(
                text("UPDATE public.orders SET status = 'DEL' WHERE id = :id"), {"id": order_id}
            )
            both_updated.wait()  # neither commits before both have written

    workers = [
        threading.Thread(target=change, args=(1, run_id)),
        threading.Thread(target=change, args=(2, None)),
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    caused = sorted((e.record_key, e.kind, e.caused_by_run_id) for e in events(db))
    assert caused == [("1", "status", run_id), ("2", "status", None)]


def test_a_value_that_was_not_set_reads_empty_in_the_why_sentence() -> None:
    def event(kind: str, old: str | None, new: str | None) -> Event:
        return Event(1, 1, "7", kind, "salesperson", old, new, None, 0)

    assert event("field", None, "maria").describe() == ("salesperson changed from empty to 'maria'")
    assert event("field", "maria", None).describe() == "salesperson changed from 'maria' to empty"
    assert event("status", None, "NEW").describe() == "Status changed from empty to NEW"


def _five_events(db: Database) -> str:
    """Five status events, oldest first; the second caused by a run (returned)."""
    run_id = str(uuid.uuid4())
    run_sql(db, "UPDATE orders SET status = 'A' WHERE id = 1")
    with as_host(db) as conn:
        set_write_context(conn, run_id, 3)
        conn.execute(text("UPDATE orders SET status = 'A' WHERE id = 2"))
        clear_write_context(conn)
    run_sql(db, "UPDATE orders SET status = 'B' WHERE id = 1")
    run_sql(db, "UPDATE orders SET status = 'B' WHERE id = 2")
    run_sql(db, "UPDATE orders SET status = 'C' WHERE id = 1")
    return run_id


def test_an_engine_claims_the_oldest_events_up_to_its_batch(
    db: Database, orders: SourceInfo
) -> None:
    run_id = _five_events(db)
    ids = [e.id for e in events(db)]
    with db.write() as conn:
        claimed = claim_events(conn, "engine-a", 2)
    assert [e.id for e in claimed] == ids[:2]  # in order, and no more than the batch
    first, second = claimed
    assert (first.record_key, first.old_value, first.new_value) == ("1", "NEW", "A")
    assert (second.caused_by_run_id, second.causation_depth) == (run_id, 3)  # the loop guard


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_engines_claiming_at_once_get_different_events(
    db: Database, orders: SourceInfo
) -> None:
    """The first engine's claim is still open (not processed yet): the second skips its
    events instead of taking them too, and without waiting for it."""
    _five_events(db)
    ids = [e.id for e in events(db)]
    with db.write() as first:
        mine = claim_events(first, "engine-a", 2)
        with db.write() as second:
            second.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
            theirs = claim_events(second, "engine-b", 2)
    assert [e.id for e in mine] == ids[:2]
    assert [e.id for e in theirs] == ids[2:4]
