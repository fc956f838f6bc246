"""StatusFlow watching a customer's MariaDB order system from a database of its own:
the shop's writes captured by triggers or by polling, write-backs exactly once, and
every refusal in one plain line."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from engine.clock import ManualClock
from engine.demo import demo_graph_document
from engine.errors import SourceError, StatusFlowError
from engine.runtime.records import RecordStore
from engine.secrets import SecretStore
from engine.sources import capture_table, readiness
from engine.sources.hosts import hosts
from engine.sources.registry import Capture, add_source, get_source, remove_source
from engine.sources.status_codes import set_codes
from engine.storage.database import Database
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import engine, mail_settings, publish, run_states, timeline
from tests.integration.host_mariadb import (
    READ_AND_WRITE,
    SF_PASSWORD,
    WITH_TRIGGERS,
    MariaDbHost,
    admin,
    administrator_runs,
    mariadb_host,
)
from tests.memory_keyring import MemoryKeyring

pytestmark = pytest.mark.mariadb

CODES = [
    ("NEW", "New"),
    ("SNA", "Salesperson not assigned"),
    ("ASN", "Assigned"),
    ("PAID", "Paid"),
    ("PACK", "Packing"),
    ("DEL", "Delivered"),
]
POLL = Capture("poll", changed_column="updated_at", poll_seconds=1)
TRIGGER = Capture()


def _with_password(grants: tuple[str, ...]) -> Iterator[MariaDbHost]:
    """The shop's database, StatusFlow's login password in the keyring."""
    for shop in mariadb_host(grants):
        SecretStore().set(shop.secret_name(), SF_PASSWORD)
        yield shop
        hosts.dispose()


@pytest.fixture
def host(memory_keyring: MemoryKeyring) -> Iterator[MariaDbHost]:
    yield from _with_password(WITH_TRIGGERS)


@pytest.fixture
def host_without_ddl(memory_keyring: MemoryKeyring) -> Iterator[MariaDbHost]:
    """StatusFlow may read and write the shop's tables, and nothing else."""
    yield from _with_password(READ_AND_WRITE)


def watch_orders(db: Database, host: MariaDbHost, capture: Capture = TRIGGER) -> None:
    add_source(
        db,
        name="orders",
        table="orders",
        key_column="id",
        status_column="status",
        label_table="order_labels",
        capture=capture,
        host_url=host.url(),
    )
    set_codes(db, "orders", CODES)


def delivered_email_and_archive() -> dict:
    """Seed 000: an order gets DEL → email the client, then archive the record."""
    g = Builder("Delivered → email and archive", source="orders")
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


def paid_to_packing() -> dict:
    """A write-back: a paid order moves on to packing and is labelled."""
    g = Builder("Paid → packing", source="orders")
    g.line(
        g.node("trigger.status_entered", codes=["PAID"]),
        g.node("action.set_status", code="PACK"),
        g.node("action.apply_label", label="to-pack"),
    )
    return g.document()


def shop_runs(host: MariaDbHost, *statements: str) -> None:
    with host.app() as app, app.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def events(db: Database) -> list[tuple]:
    with db.read() as conn:
        return conn.exec_driver_sql(
            "SELECT record_key, kind, old_value, new_value, caused_by_run_id IS NOT NULL, "
            "causation_depth FROM sf_status_events ORDER BY id"
        ).fetchall()


def settle(worker, clock: ManualClock, rounds: int = 3) -> None:
    """Let polls and moves come due, and run what they bring."""
    for _ in range(rounds):
        clock.advance(timedelta(seconds=1))
        worker.run_until_idle()


def test_trigger_capture_runs_seed_000_and_writes_back_once(
    host: MariaDbHost, statusflow: Database, smtp_server
) -> None:
    db, clock = statusflow, ManualClock()
    watch_orders(db, host)
    mail_settings(db, smtp_server.profile())
    publish(db, delivered_email_and_archive(), clock)
    publish(db, paid_to_packing(), clock)
    worker = engine(db, clock)

    shop_runs(  # the shop's own login: no grant on anything of StatusFlow's
        host,
        "INSERT INTO orders (customer_name, email, amount, status) "
        "VALUES ('Zoë Quint', 'zoe@example.com', 12, 'NEW')",
        "UPDATE orders SET status = 'DEL' WHERE id = 3",
        "UPDATE orders SET status = 'PAID' WHERE id = 4",
    )
    settle(worker, clock)

    [mail] = smtp_server.wait_for(1)
    assert mail.message["Subject"] == "Your order 3 has been delivered"
    assert list(mail.recipients) == ["customer3@example.com"]
    assert sorted(run_states(db)) == [("3", "succeeded"), ("4", "succeeded")]
    assert any(line.startswith("Archived") for line in timeline(db, "3"))
    assert host.catalog("SELECT status FROM orders WHERE id = 4") == [("PACK",)]
    assert host.catalog("SELECT label FROM order_labels WHERE order_id = 4") == [("to-pack",)]
    assert events(db) == [
        ("11", "created", None, "NEW", False, 0),
        ("3", "status", "NEW", "DEL", False, 0),
        ("4", "status", "NEW", "PAID", False, 0),
        ("4", "status", "PAID", "PACK", True, 1),  # the engine's own write, with its run
        ("4", "label", None, "to-pack", True, 1),
    ]
    assert host.catalog("SELECT count(*) FROM sf_capture") == [(0,)]  # all moved
    assert host.catalog("SELECT count(*) FROM sf_host_writes") == [(2,)]  # one per write
    worker.stop()


def test_a_step_retried_after_its_host_write_committed_does_not_write_again(
    host: MariaDbHost, statusflow: Database
) -> None:
    """The crash case: the host transaction committed, StatusFlow's did not, so the
    step runs again. Its marker is in the host: the second attempt writes nothing."""
    watch_orders(statusflow, host)
    source = get_source(statusflow, "orders")
    store = RecordStore()
    with statusflow.write() as conn:
        first = store.write_fields(
            conn, source, "5", {"trail": "x"}, run_id="r1", step_key="sf-r1-node"
        )
        raise_after_host_commit = first  # StatusFlow's side is lost with this rollback
        conn.rollback()
    with statusflow.write() as conn:
        again = store.write_fields(
            conn, source, "5", {"trail": "xx"}, run_id="r1", step_key="sf-r1-node"
        )
    assert (raise_after_host_commit, again) == (1, 1)
    assert host.catalog("SELECT trail FROM orders WHERE id = 5") == [("x",)]
    other = RecordStore()
    with statusflow.write() as conn:  # another step is another write
        other.write_fields(conn, source, "5", {"trail": "xy"}, run_id="r1", step_key="sf-r1-b")
    assert host.catalog("SELECT trail FROM orders WHERE id = 5") == [("xy",)]


def test_nothing_the_shop_writes_can_make_capture_fail(
    host: MariaDbHost, statusflow: Database
) -> None:
    """Session settings the application happens to use, a long key, bytes that are
    not text: the shop's statement still succeeds and the change is captured."""
    with admin(host.name) as conn, conn.cursor() as cursor:
        cursor.execute("CREATE TABLE notes (ref VARCHAR(300) PRIMARY KEY, status VARBINARY(20))")
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE ON {host.name}.notes TO '{host.app_user}'@'%'"
        )
    host.grant("GRANT SELECT, UPDATE, TRIGGER ON {db}.notes TO {sf}")
    watch_orders(statusflow, host)
    add_source(
        statusflow,
        name="notes",
        table="notes",
        key_column="ref",
        status_column="status",
        host_url=host.url(),
    )
    with host.app() as app, app.cursor() as cursor:
        cursor.execute(
            "SET @statusflow_depth = 'not a number', @statusflow_run_id = %s", ("r" * 90,)
        )
        cursor.execute("UPDATE orders SET status = 'DEL' WHERE id = 1")
        cursor.execute("INSERT INTO notes VALUES (%s, %s)", ("k" * 300, b"\xff\xfeNEW"))
    rows = host.catalog(
        "SELECT LENGTH(record_key), kind, causation_depth, LENGTH(caused_by_run_id) "
        "FROM sf_capture ORDER BY id"
    )
    assert rows == [(1, "status", 0, 36), (200, "created", 0, 36)]


def test_removing_the_source_leaves_the_host_database_as_it_was(
    host: MariaDbHost, statusflow: Database
) -> None:
    watch_orders(statusflow, host)
    assert len(host.catalog(f"SHOW TRIGGERS FROM {host.name}")) == 4
    assert host.catalog("SELECT version_num FROM alembic_version") == [("3f1c0de2b7aa",)]
    shop_runs(host, "UPDATE orders SET status = 'DEL' WHERE id = 2")  # captured, never moved
    remove_source(statusflow, "orders")
    assert host.catalog(f"SHOW TRIGGERS FROM {host.name}") == []
    tables = sorted(
        host.catalog(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", host.name
        )
    )
    assert tables == [("alembic_version",), ("order_labels",), ("orders",)]
    assert host.catalog("SELECT version_num FROM alembic_version") == [("3f1c0de2b7aa",)]


def test_poll_capture_runs_seed_000_and_the_ladder_without_any_ddl(
    host_without_ddl: MariaDbHost, statusflow: Database, smtp_server, http_server
) -> None:
    host, db, clock = host_without_ddl, statusflow, ManualClock()
    watch_orders(db, host, POLL)
    SecretStore().set("sms/default", "gateway-token")
    mail_settings(db, smtp_server.profile(), sms_url=http_server.url("/sms"))
    publish(db, delivered_email_and_archive(), clock)
    publish(db, demo_graph_document("salesperson_escalation"), clock)
    publish(db, paid_to_packing(), clock)
    worker = engine(db, clock)
    worker.run_until_idle()

    def shop_sets(key: int, status: str) -> None:
        shop_runs(
            host,
            f"UPDATE orders SET status = '{status}', updated_at = NOW(6) WHERE id = {key}",
        )

    shop_sets(3, "DEL")
    shop_sets(5, "SNA")
    shop_sets(6, "SNA")
    shop_sets(7, "PAID")
    settle(worker, clock)
    assert [m.message["Subject"] for m in smtp_server.wait_for(1)] == [
        "Your order 3 has been delivered"
    ]
    clock.advance(timedelta(minutes=5))
    worker.run_until_idle()
    shop_sets(6, "ASN")  # order 6 got a salesperson: its ladder stops
    settle(worker, clock)
    clock.advance(timedelta(minutes=115))
    worker.run_until_idle()
    clock.advance(timedelta(hours=4))
    worker.run_until_idle()

    subjects = sorted(m.message["Subject"] for m in smtp_server.wait_for(4))
    assert subjects == [
        "Order 5 has no salesperson",
        "Order 6 has no salesperson",
        "Reminder: order 5 still has no salesperson",
        "Your order 3 has been delivered",
    ]
    [sms] = http_server.requests
    assert "Order 5" in sms.json["message"]
    assert host.catalog("SELECT status FROM orders WHERE id = 7") == [("PACK",)]
    settle(worker, clock)  # the next poll sees the engine's own write, and knows it
    assert ("7", "status", "PAID", "PACK", True, 1) in events(db)
    assert sorted(run_states(db)) == [
        ("3", "succeeded"),
        ("5", "succeeded"),
        ("6", "cancelled"),
        ("7", "succeeded"),
    ]
    assert host.catalog(f"SHOW TRIGGERS FROM {host.name}") == []
    assert host.catalog(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s "
        "AND table_name LIKE 'sf%%'",
        host.name,
    ) == [(0,)]
    worker.stop()


def test_a_guarded_write_does_not_overwrite_what_changed_meanwhile(
    host_without_ddl: MariaDbHost, statusflow: Database
) -> None:
    watch_orders(statusflow, host_without_ddl, POLL)
    source = get_source(statusflow, "orders")
    shop_runs(host_without_ddl, "UPDATE orders SET status = 'ASN' WHERE id = 2")
    with statusflow.write() as conn, pytest.raises(StatusFlowError, match="changed while"):
        RecordStore().write_fields(
            conn, source, "2", {"status": "PACK"}, run_id="r", expected={"status": "NEW"}
        )
    assert host_without_ddl.catalog("SELECT status FROM orders WHERE id = 2") == [("ASN",)]
    with statusflow.write() as conn:  # the retry reads it again, and writes
        written = RecordStore().write_fields(
            conn, source, "2", {"status": "PACK"}, run_id="r", expected={"status": "ASN"}
        )
    assert written == 1
    assert host_without_ddl.catalog("SELECT status FROM orders WHERE id = 2") == [("PACK",)]


def test_without_ddl_grants_trigger_capture_says_what_to_do(
    host_without_ddl: MariaDbHost, statusflow: Database
) -> None:
    host = host_without_ddl
    with pytest.raises(SourceError) as refused:
        watch_orders(statusflow, host)
    message = str(refused.value)
    assert "\n" not in message
    assert f"GRANT TRIGGER ON {host.name}.orders TO {host.sf};" in message
    assert "--install-later" in message and "--capture poll" in message
    assert host.catalog(f"SHOW TRIGGERS FROM {host.name}") == []


def test_check_lists_missing_grants_and_sql_prints_what_to_run(
    host_without_ddl: MariaDbHost, statusflow: Database
) -> None:
    host = host_without_ddl
    watch_orders(statusflow, host, Capture(install=False))
    result = readiness.check_source(statusflow, "orders")
    assert not result.ready
    missing = {fix for f in result.findings if not f.ok for fix in f.fix}
    assert f"GRANT TRIGGER ON {host.name}.orders TO {host.sf};" in missing
    capture_grant = "GRANT CREATE, DROP, SELECT, INSERT, DELETE"
    assert f"{capture_grant} ON {host.name}.sf_capture TO {host.sf};" in missing
    assert not any(f"SELECT ON {host.name}.orders " in fix for fix in missing)  # it has that
    with admin(host.name) as conn, conn.cursor() as cursor:
        for statement in missing:
            cursor.execute(statement)
    hosts.dispose()
    after = readiness.check_source(statusflow, "orders")
    [triggers_missing] = [f for f in after.findings if not f.ok]
    assert "sf_orders_status" in triggers_missing.sentence
    administrator_runs(host, readiness.capture_script(statusflow, "orders"))
    assert readiness.check_source(statusflow, "orders").ready


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mysql://{user}@{address}/{db}", "Store the password with 'statusflow secret set db/"),
        ("mysql://{user}@{address}/no_such_shop", "Check the database name"),
        ("mysql://{user}@127.0.0.1:1/{db}", "Check that the server is running"),
        ("mysql://{user}:pw@{address}/{db}", "never stores one"),
        ("oracle://{user}@{address}/{db}", "must be MariaDB, MySQL or PostgreSQL"),
    ],
)
def test_a_wrong_host_is_one_plain_line(
    host: MariaDbHost, statusflow: Database, url: str, expected: str
) -> None:
    if "password" in expected:
        SecretStore().set(host.secret_name(), "wrong password")
    filled = url.format(user=host.statusflow_user, address=host.address, db=host.name)
    with pytest.raises(SourceError) as refused:
        add_source(
            statusflow,
            name="orders",
            table="orders",
            key_column="id",
            status_column="status",
            host_url=filled,
        )
    message = str(refused.value)
    assert expected in message and "\n" not in message
    assert "Traceback" not in message


def test_bad_table_and_column_names_list_what_exists(
    host: MariaDbHost, statusflow: Database
) -> None:
    def add(table: str, key: str) -> str:
        with pytest.raises(SourceError) as refused:
            add_source(
                statusflow,
                name="orders",
                table=table,
                key_column=key,
                status_column="status",
                host_url=host.url(),
            )
        return str(refused.value)

    assert add("order", "id") == (
        "There is no table 'order' in this database. Its tables are: order_labels, orders."
    )
    assert "orders has no column 'ident'. Its columns are: id, customer_name" in add(
        "orders", "ident"
    )


def test_a_capture_row_moved_again_after_a_crash_makes_one_event(
    host: MariaDbHost, statusflow: Database
) -> None:
    """The engine died after committing the events and before deleting the host's rows:
    the next move finds the same rows and adds nothing."""
    watch_orders(statusflow, host)
    source = get_source(statusflow, "orders")
    shop_runs(host, "UPDATE orders SET status = 'DEL' WHERE id IN (1, 2)")
    for _ in range(2):
        with statusflow.write() as conn, hosts.connect(conn, source) as shop:
            moved = capture_table.move(conn, shop, source)
    assert len(moved) == 2
    assert [e[:4] for e in events(statusflow)] == [
        ("1", "status", "NEW", "DEL"),
        ("2", "status", "NEW", "DEL"),
    ]
    with statusflow.read() as conn, hosts.connect(conn, source) as shop:
        capture_table.forget(shop, moved)
    assert host.catalog("SELECT count(*) FROM sf_capture") == [(0,)]


def test_a_revoked_grant_is_logged_once_and_nothing_is_lost_when_it_returns(
    host: MariaDbHost, statusflow: Database, caplog: pytest.LogCaptureFixture
) -> None:
    db, clock = statusflow, ManualClock()
    watch_orders(db, host)
    publish(db, paid_to_packing(), clock)
    worker = engine(db, clock)
    host.grant("REVOKE SELECT ON {db}.sf_capture FROM {sf}")
    shop_runs(host, "UPDATE orders SET status = 'PAID' WHERE id = 8")
    with caplog.at_level("WARNING", logger="engine"):
        settle(worker, clock, rounds=4)
        assert run_states(db) == []
        host.grant("GRANT SELECT ON {db}.sf_capture TO {sf}")
        settle(worker, clock)
    failures = [r.getMessage() for r in caplog.records if "orders failed" in r.getMessage()]
    assert len(failures) == 1 and "SELECT command denied" in failures[0]
    assert any("orders works again" in r.getMessage() for r in caplog.records)
    assert run_states(db) == [("8", "succeeded")]
    assert host.catalog("SELECT status FROM orders WHERE id = 8") == [("PACK",)]
    worker.stop()


def test_a_capture_that_fails_never_fails_the_shops_write(
    host: MariaDbHost, statusflow: Database
) -> None:
    """The capture table's grant revoked, then the table dropped by someone: the
    shop's statements still succeed, and check says why changes stopped arriving."""
    watch_orders(statusflow, host)
    host.grant("REVOKE INSERT ON {db}.sf_capture FROM {sf}")
    shop_runs(host, "UPDATE orders SET status = 'DEL' WHERE id = 1")
    host.grant("DROP TABLE {db}.sf_capture")
    shop_runs(host, "UPDATE orders SET status = 'ASN' WHERE id = 2")
    assert host.catalog("SELECT id, status FROM orders WHERE id IN (1, 2) ORDER BY id") == [
        (1, "DEL"),
        (2, "ASN"),
    ]
    hosts.dispose()
    result = readiness.check_source(statusflow, "orders")
    missing = [f.sentence for f in result.findings if not f.ok]
    assert any("lacks INSERT on sf_capture" in sentence for sentence in missing)


def test_a_table_may_be_named_with_its_database(host: MariaDbHost, statusflow: Database) -> None:
    with pytest.raises(SourceError) as refused:
        add_source(
            statusflow,
            name="orders",
            table="no_such_db.orders",
            key_column="id",
            status_column="status",
            host_url=host.url(),
        )
    assert str(refused.value) == (
        f"There is no database 'no_such_db' on this server (or StatusFlow's login may not "
        f"see it). It sees: {host.name}."
    )
    source = add_source(
        statusflow,
        name="orders",
        table=f"{host.name}.orders",
        key_column="id",
        status_column="status",
        host_url=host.url(),
    )
    assert source.table == f"{host.name}.orders"
    shop_runs(host, "UPDATE orders SET status = 'DEL' WHERE id = 6")
    assert host.catalog("SELECT record_key, kind FROM sf_capture") == [(b"6", "status")]


def watch_notes(db: Database, host: MariaDbHost) -> None:
    """A second source on the same host database, sharing its capture table."""
    with admin(host.name) as conn, conn.cursor() as cursor:
        cursor.execute("CREATE TABLE notes (ref VARCHAR(20) PRIMARY KEY, status VARCHAR(10))")
        cursor.execute("INSERT INTO notes VALUES ('n1', 'NEW')")
        cursor.execute(f"GRANT SELECT, UPDATE ON {host.name}.notes TO '{host.app_user}'@'%'")
    host.grant("GRANT SELECT, UPDATE, TRIGGER ON {db}.notes TO {sf}")
    add_source(
        db,
        name="notes",
        table="notes",
        key_column="ref",
        status_column="status",
        host_url=host.url(),
    )


def test_two_sources_share_a_host_and_each_gets_only_its_changes(
    host: MariaDbHost, statusflow: Database
) -> None:
    watch_orders(statusflow, host)
    watch_notes(statusflow, host)
    shop_runs(host, "UPDATE notes SET status = 'DONE' WHERE ref = 'n1'")
    shop_runs(host, "UPDATE orders SET status = 'DEL' WHERE id = 3")
    with statusflow.write() as conn:
        notes = get_source(conn, "notes")
        with hosts.connect(conn, notes) as shop:
            assert len(capture_table.move(conn, shop, notes)) == 1
    assert [e[:4] for e in events(statusflow)] == [("n1", "status", "NEW", "DONE")]
    remove_source(statusflow, "orders")  # its change was never moved: it goes with it
    assert host.catalog("SELECT record_key FROM sf_capture") == [(b"n1",)]
    assert sorted(row[0] for row in host.catalog(f"SHOW TRIGGERS FROM {host.name}")) == [
        "sf_notes_created",
        "sf_notes_status",
    ]


def test_a_failed_engine_write_leaves_no_run_on_the_next_write(
    host: MariaDbHost, statusflow: Database
) -> None:
    """MySQL session variables outlive the transaction: a write that failed must not
    leave its run on the pooled connection for the next write to be blamed on."""
    watch_orders(statusflow, host)
    source = get_source(statusflow, "orders")
    store = RecordStore()
    with pytest.raises(Exception, match="Data too long"), statusflow.write() as conn:
        store.write_fields(conn, source, "1", {"status": "X" * 30}, run_id="r-failed")
    with statusflow.write() as conn:  # the designer's Records panel: no run
        store.write_fields(conn, source, "2", {"status": "ASN"}, run_id=None)
    assert host.catalog("SELECT record_key, caused_by_run_id FROM sf_capture") == [(b"2", None)]
