"""A PostgreSQL host that is not StatusFlow's database: StatusFlow keeps its own
(SQLite here) and polls the shop's table through a connection of its own, with the
shop's roles as in tests/integration/host_postgresql.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from engine.clock import ManualClock
from engine.errors import SourceError
from engine.sources.hosts import hosts
from engine.sources.registry import Capture, add_source
from engine.sources.status_codes import set_codes
from engine.storage.database import Database
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import engine, publish, run_states
from tests.integration.host_postgresql import READ_AND_WRITE, HostDatabase, host_database

pytestmark = pytest.mark.postgres


@pytest.fixture
def shop() -> Iterator[HostDatabase]:
    yield from host_database(READ_AND_WRITE)
    hosts.dispose()


def watch(db: Database, shop: HostDatabase, capture: Capture) -> None:
    add_source(
        db,
        name="orders",
        table="shop.orders",
        key_column="id",
        status_column="status",
        label_table="shop.order_labels",
        capture=capture,
        host_url=shop.statusflow_url(),
    )
    set_codes(db, "orders", [("NEW", "New"), ("PAID", "Paid"), ("PACK", "Packing")])


def test_poll_capture_and_a_guarded_write_back_in_a_postgresql_host_of_its_own(
    shop: HostDatabase, statusflow: Database
) -> None:
    db, clock = statusflow, ManualClock()
    watch(db, shop, Capture("poll", changed_column="updated_at", poll_seconds=1))
    g = Builder("Paid → packing", source="orders")
    g.line(
        g.node("trigger.status_entered", codes=["PAID"]), g.node("action.set_status", code="PACK")
    )
    publish(db, g.document(), clock)
    worker = engine(db, clock)
    with shop.app() as app:
        app.execute("UPDATE orders SET status = 'PAID', updated_at = now() WHERE id = 4")
    for _ in range(3):
        clock.advance(timedelta(seconds=1))
        worker.run_until_idle()
    assert run_states(db) == [("4", "succeeded")]
    with shop.app() as app:
        assert app.execute("SELECT status FROM orders WHERE id = 4").fetchone() == ("PACK",)
    with db.read() as conn:
        events = conn.exec_driver_sql(
            "SELECT new_value, caused_by_run_id IS NOT NULL FROM sf_status_events ORDER BY id"
        ).fetchall()
    assert events == [("PAID", False), ("PACK", True)]  # the engine's write is known
    assert shop.catalog(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'statusflow'"
    ) == [(0,)]  # nothing of StatusFlow's in the host database
    worker.stop()


def test_trigger_capture_in_a_postgresql_host_of_its_own_is_refused_in_one_line(
    shop: HostDatabase, statusflow: Database
) -> None:
    with pytest.raises(SourceError) as refused:
        watch(statusflow, shop, Capture())
    message = str(refused.value)
    assert "Trigger capture in a postgresql database other than StatusFlow's own" in message
    assert "--capture poll" in message and "\n" not in message
