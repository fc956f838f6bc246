"""StatusFlow in a customer's PostgreSQL database: its own schema and role, the shop's
tables in theirs, and the shop application's writes never failing because of it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from engine.clock import ManualClock
from engine.demo import demo_graph_document
from engine.errors import SourceError
from engine.secrets import SecretStore
from engine.sources import readiness
from engine.sources.registry import Capture, add_source, remove_source
from engine.sources.status_codes import set_codes
from engine.storage.database import Database
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import engine, mail_settings, publish, run_states, timeline
from tests.integration.host_postgresql import (
    READ_AND_WRITE,
    WITH_TRIGGERS,
    HostDatabase,
    host_database,
)

pytestmark = pytest.mark.postgres

CODES = [
    ("NEW", "New"),
    ("SNA", "Salesperson not assigned"),
    ("ASN", "Assigned"),
    ("DEL", "Delivered"),
]


TRIGGER = Capture()


@pytest.fixture
def host() -> Iterator[HostDatabase]:
    yield from host_database(WITH_TRIGGERS)


@pytest.fixture
def host_without_trigger_grant() -> Iterator[HostDatabase]:
    yield from host_database(READ_AND_WRITE)


def watch_orders(db: Database, capture: Capture = TRIGGER) -> None:
    add_source(
        db,
        name="orders",
        table="shop.orders",
        key_column="id",
        status_column="status",
        label_table="shop.order_labels",
        capture=capture,
    )
    set_codes(db, "orders", CODES)


def delivered_email_and_archive() -> dict:
    """Seed 000: an order gets DEL → email the client, then archive the record."""
    g = Builder("Delivered → email and archive")
    g.line(
        g.node("trigger.status_entered", codes=["DEL"]),
        g.node(
            "action.send_email",
            to="{{ email }}",
            subject="Your order {{ record_key }} has been delivered",
            body_text="Dear {{ customer_name }}, your order was delivered.",
        ),
        g.node("action.archive_record"),
    )
    return g.document()


def test_the_shop_applications_writes_succeed_and_are_captured(
    host: HostDatabase, smtp_server
) -> None:
    clock = ManualClock()
    db = host.statusflow()
    watch_orders(db)
    mail_settings(db, smtp_server.profile())
    publish(db, delivered_email_and_archive(), clock)
    worker = engine(db, clock)

    with host.app() as app:  # the shop's role: no grant on anything of StatusFlow's
        app.execute(
            "INSERT INTO orders (customer_name, email, amount, status) "
            "VALUES ('Zoë Quint', 'zoe@example.com', 12, 'NEW')"
        )
        app.execute("UPDATE orders SET status = 'DEL' WHERE id = 3")
        app.execute("INSERT INTO order_labels (order_id, label) VALUES (3, 'VIP')")
        assert app.execute("SELECT status FROM orders WHERE id = 3").fetchone() == ("DEL",)
    worker.run_until_idle()

    [mail] = smtp_server.wait_for(1)
    assert mail.message["Subject"] == "Your order 3 has been delivered"
    assert list(mail.recipients) == ["customer3@example.com"]
    assert run_states(db) == [("3", "succeeded")]
    assert any(line.startswith("Archived") for line in timeline(db, "3"))
    with db.read() as conn:
        kinds = conn.exec_driver_sql(
            "SELECT record_key, kind FROM sf_status_events ORDER BY id"
        ).fetchall()
    assert kinds == [("11", "created"), ("3", "status"), ("3", "label")]
    worker.stop()


def test_statusflow_lives_in_its_own_schema_and_leaves_the_hosts_alembic_alone(
    host: HostDatabase,
) -> None:
    db = host.statusflow()
    watch_orders(db)
    tables = host.catalog(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema IN ('shop', 'public') ORDER BY 1, 2"
    )
    assert tables == [("shop", "alembic_version"), ("shop", "order_labels"), ("shop", "orders")]
    assert host.catalog("SELECT version_num FROM shop.alembic_version") == [("3f1c0de2b7aa",)]
    functions = host.catalog(
        "SELECT n.nspname, p.prosecdef, pg_get_userbyid(p.proowner) FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.proname = 'sf_capture_change'"
    )
    assert functions == [("statusflow", True, host.statusflow_role)]


def test_removing_a_source_leaves_the_host_table_as_it_was(host: HostDatabase) -> None:
    db = host.statusflow()
    watch_orders(db)
    triggers = (
        "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
        "AND tgrelid IN ('shop.orders'::regclass, 'shop.order_labels'::regclass)"
    )
    assert len(host.catalog(triggers)) == 4
    # StatusFlow's role may add triggers (TRIGGER) but only the owner may drop them
    with pytest.raises(SourceError, match=r"does not own shop\.orders") as refused:
        remove_source(db, "orders")
    statements = readiness.capture_sql(db, "orders", remove=True)
    assert all(s in str(refused.value) for s in statements)
    with host.admin() as admin:
        for statement in statements:
            admin.execute(statement)
    remove_source(db, "orders")
    assert host.catalog(triggers) == []
    leftovers = host.catalog(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'shop' AND c.relname LIKE 'sf%'"
    )
    assert leftovers == []


def test_without_the_trigger_grant_add_says_what_to_do_and_changes_nothing(
    host_without_trigger_grant: HostDatabase,
) -> None:
    host = host_without_trigger_grant
    db = host.statusflow()
    with pytest.raises(SourceError) as refused:
        watch_orders(db)
    message = str(refused.value)
    assert "lacks the TRIGGER privilege" in message
    assert f"GRANT TRIGGER ON shop.orders TO {host.statusflow_role}" in message
    assert "--capture poll" in message and "\n" not in message
    assert readiness_of(db) is None  # nothing registered


def readiness_of(db: Database) -> readiness.Readiness | None:
    try:
        return readiness.check_source(db, "orders")
    except SourceError:
        return None


def test_an_administrator_installs_the_sql_by_hand_and_check_sees_it(
    host_without_trigger_grant: HostDatabase,
) -> None:
    host = host_without_trigger_grant
    db = host.statusflow()
    watch_orders(db, Capture(install=False))
    before = readiness.check_source(db, "orders")
    assert not before.ready
    [missing] = [f for f in before.findings if not f.ok]
    assert "sf_orders_label_added, sf_orders_label_removed are missing" in missing.sentence
    assert "changes to shop.orders and shop.order_labels are not seen" in missing.sentence
    with host.admin() as admin:
        for statement in readiness.capture_sql(db, "orders"):
            admin.execute(statement)
    assert readiness.check_source(db, "orders").ready


def test_check_lists_each_missing_grant_with_its_sql(host: HostDatabase) -> None:
    db = host.statusflow()
    watch_orders(db)
    with host.admin() as admin:
        admin.execute(f"REVOKE UPDATE ON shop.orders FROM {host.statusflow_role}")
        admin.execute(f"REVOKE DELETE ON shop.order_labels FROM {host.statusflow_role}")
    result = readiness.check_source(db, "orders")
    missing = {f.fix for f in result.findings if not f.ok}
    role = host.statusflow_role
    assert missing == {
        (f"GRANT UPDATE ON shop.orders TO {role};",),
        (f"GRANT DELETE ON shop.order_labels TO {role};",),
    }
    assert not result.ready


def test_poll_capture_runs_the_escalation_ladder_without_any_ddl(
    host_without_trigger_grant: HostDatabase, smtp_server, http_server, memory_keyring
) -> None:
    host = host_without_trigger_grant
    clock = ManualClock()
    db = host.statusflow()
    watch_orders(db, Capture("poll", changed_column="updated_at", poll_seconds=1))
    SecretStore().set("sms/default", "gateway-token")
    mail_settings(db, smtp_server.profile(), sms_url=http_server.url("/sms"))
    ladder = demo_graph_document("salesperson_escalation")
    publish(db, ladder, clock)
    worker = engine(db, clock)
    worker.run_until_idle()  # the first poll learns the table as it is: no events

    def shop_sets(key: int, status: str) -> None:
        with host.app() as app:
            app.execute(
                "UPDATE orders SET status = %s, updated_at = now() WHERE id = %s", (status, key)
            )

    shop_sets(3, "SNA")
    shop_sets(4, "SNA")
    clock.advance(timedelta(seconds=1))
    worker.run_until_idle()
    clock.advance(timedelta(minutes=5))
    worker.run_until_idle()
    assert len(smtp_server.wait_for(2)) == 2  # first rung for both orders
    shop_sets(4, "ASN")  # order 4 got a salesperson: its ladder stops
    clock.advance(timedelta(minutes=115))
    worker.run_until_idle()
    clock.advance(timedelta(hours=4))
    worker.run_until_idle()

    subjects = sorted(m.message["Subject"] for m in smtp_server.wait_for(3))
    assert subjects == [
        "Order 3 has no salesperson",
        "Order 4 has no salesperson",
        "Reminder: order 3 still has no salesperson",
    ]
    [sms] = http_server.requests
    assert "Order 3" in sms.json["message"]
    assert sorted(run_states(db)) == [("3", "succeeded"), ("4", "cancelled")]
    assert host.catalog(
        "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'shop.orders'::regclass "
        "AND NOT tgisinternal"
    ) == [(0,)]
    worker.stop()


def test_poll_capture_knows_the_engines_own_writes(
    host_without_trigger_grant: HostDatabase,
) -> None:
    host = host_without_trigger_grant
    clock = ManualClock()
    db = host.statusflow()
    watch_orders(db, Capture("poll", poll_seconds=1))  # no changed-at column: full compare
    g = Builder("Delivered → mark done")
    g.line(g.node("trigger.status_entered", codes=["DEL"]), g.node("action.set_status", code="ASN"))
    publish(db, g.document(), clock)
    worker = engine(db, clock)
    worker.run_until_idle()
    with host.app() as app:
        app.execute("UPDATE orders SET status = 'DEL' WHERE id = 5")
    clock.advance(timedelta(seconds=1))
    worker.run_until_idle()
    clock.advance(timedelta(seconds=1))
    worker.run_until_idle()  # the next poll sees the engine's ASN
    with db.read() as conn:
        events = conn.exec_driver_sql(
            "SELECT new_value, caused_by_run_id IS NOT NULL, causation_depth "
            "FROM sf_status_events ORDER BY id"
        ).fetchall()
        left = conn.exec_driver_sql("SELECT count(*) FROM sf_engine_writes").scalar()
    assert events == [("DEL", False, 0), ("ASN", True, 1)]
    assert left == 0  # the write log entry was consumed by the change it explained
    with host.app() as app:
        assert app.execute("SELECT status FROM orders WHERE id = 5").fetchone() == ("ASN",)
    worker.stop()


def test_nothing_the_host_sets_can_make_capture_fail_its_write(host: HostDatabase) -> None:
    """The capture insert has nothing that can fail: settings the application happens to
    use, a search path of its own, and a key longer than the events' column."""
    db = host.statusflow()
    watch_orders(db)
    with host.admin() as admin:  # a text key, as some applications have
        admin.execute("CREATE TABLE shop.notes (ref text PRIMARY KEY, status text)")
        admin.execute(f"GRANT SELECT, INSERT, UPDATE ON shop.notes TO {host.app_role}")
        admin.execute(f"GRANT SELECT, UPDATE, TRIGGER ON shop.notes TO {host.statusflow_role}")
    add_source(db, name="notes", table="shop.notes", key_column="ref", status_column="status")
    with host.app() as app:
        app.execute("SET statusflow.depth = 'not a number'")
        app.execute("SELECT set_config('statusflow.run_id', %s, false)", ("r" * 100,))
        app.execute("SET search_path TO pg_temp, shop")
        app.execute("UPDATE orders SET status = 'DEL' WHERE id = 1")
        app.execute("INSERT INTO notes VALUES (%s, 'NEW')", ("k" * 300,))
    with db.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT length(record_key), kind, causation_depth, length(caused_by_run_id) "
            "FROM sf_status_events ORDER BY id"
        ).fetchall()
    assert rows == [(1, "status", 0, 36), (200, "created", 0, 36)]
    engine(db, ManualClock()).run_until_idle()  # a made-up run id stops nothing
    with db.read() as conn:
        left = conn.exec_driver_sql(
            "SELECT count(*) FROM sf_status_events WHERE processed_at IS NULL"
        ).scalar()
    assert left == 0
