"""Browsing a source's records: what the Records panel lists and how a search narrows it."""

from __future__ import annotations

import pytest

from engine import demo
from engine.runtime.records import RecordStore
from engine.sources import record_list
from engine.sources.record_list import load_records
from engine.sources.registry import get_source
from engine.storage.database import Database


@pytest.fixture
def shop(db: Database) -> Database:
    demo.install(db, actor="ana")
    return db


def test_every_order_is_listed_with_its_status_in_words_and_its_labels(shop: Database) -> None:
    orders = load_records(shop, "orders")

    assert len(orders.rows) == demo.ORDER_COUNT and not orders.more
    assert orders.headers == ("Id", "Customer name", "Email", "Amount")
    assert ("DEL", "DEL – Delivered") in orders.codes
    assert set(orders.labels or ()) <= set(demo.LABELS) and orders.labels
    with shop.read() as conn:
        source = get_source(conn, "orders")
        record = RecordStore().read(conn, source, "7")
    assert record is not None
    [seven] = [row for row in orders.rows if row.key == "7"]
    assert seven.values[1] == record["customer_name"]
    assert seven.status.startswith(f"{record['status']} – ")
    assert seven.labels == tuple(record["labels"])


def test_a_search_matches_a_shown_column_or_the_status_description(shop: Database) -> None:
    orders = load_records(shop, "orders")
    [seven] = [row for row in orders.rows if row.key == "7"]
    surname = seven.values[1].split()[-1]

    by_name = load_records(shop, "orders", surname.upper())
    delivered = load_records(shop, "orders", "delivered")

    assert "7" in [row.key for row in by_name.rows]
    assert all(surname in row.values[1] for row in by_name.rows)
    assert all(row.status == "DEL – Delivered" for row in delivered.rows)
    assert load_records(shop, "orders", "no such customer at all").rows == ()


def test_a_source_without_a_label_table_offers_no_labels(shop: Database) -> None:
    customers = load_records(shop, "customers")

    assert customers.labels is None
    assert all(row.labels == () for row in customers.rows)


def test_a_long_list_stops_at_the_shown_limit_and_says_there_is_more(
    shop: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(record_list, "SHOWN", 10)

    orders = load_records(shop, "orders")

    assert [row.key for row in orders.rows] == [str(key) for key in range(1, 11)]
    assert orders.more
