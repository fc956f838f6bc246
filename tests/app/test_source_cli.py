"""``statusflow source`` against a customer's PostgreSQL: add, check, sql, remove."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from engine import demo
from engine.storage import schema
from engine.storage.database import Database
from tests.app.test_cli import run
from tests.conftest import fresh_postgres_url
from tests.integration.host_postgresql import READ_AND_WRITE, HostDatabase, host_database

pytestmark = pytest.mark.postgres

ADD = ("source", "add", "orders", "--table", "shop.orders", "--key", "id", "--status", "status")


@pytest.fixture
def host(statusflow_home) -> Iterator[HostDatabase]:
    for host in host_database(READ_AND_WRITE):
        host.statusflow().dispose()
        yield host


def test_add_without_the_trigger_grant_is_one_line_and_poll_works(host, capsys) -> None:
    url = host.statusflow_url()
    code, out, err = run(capsys, "--database", url, *ADD)
    assert code != 0 and out == ""
    assert len(err.strip().splitlines()) == 1 and "lacks the TRIGGER privilege" in err
    code, out, _ = run(
        capsys, "--database", url, *ADD, "--capture", "poll", "--changed-column", "updated_at"
    )
    assert code == 0 and "polled every 5 s, by updated_at" in out
    code, out, _ = run(capsys, "--database", url, "source", "list")
    assert "shop.orders" in out and "polled every 5 s" in out
    code, _, err = run(capsys, "--database", url, "source", "sql", "orders")
    assert code != 0 and "nothing is installed on shop.orders" in err


def test_check_says_what_is_missing_with_the_sql_and_exits_3(host, capsys) -> None:
    url = host.statusflow_url()
    assert run(capsys, "--database", url, *ADD, "--install-later")[0] == 0
    code, out, _ = run(capsys, "--database", url, "source", "check", "orders")
    assert code == 3
    assert (
        "MISSING  The capture trigger(s) sf_orders_status, sf_orders_created are missing, so "
        "those changes to shop.orders are not seen." in out
    )
    assert "CREATE TRIGGER sf_orders_status AFTER UPDATE OF status ON shop.orders" in out
    assert "not ready" in out

    code, sql, _ = run(capsys, "--database", url, "source", "sql", "orders")
    assert code == 0
    with host.admin() as admin:
        admin.execute(sql)  # what the administrator pastes into psql
    code, out, _ = run(capsys, "--database", url, "source", "check", "orders")
    assert code == 0 and "MISSING" not in out and "'orders' is ready." in out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--table", "shop.nope"), "There is no table 'nope' in the schema shop"),
        (("--table", "shp.orders"), "There is no schema 'shp'"),
        (("--status", "state"), "has no column 'state'"),
    ],
)
def test_bad_names_get_one_plain_line(host, capsys, arguments, message) -> None:
    argv = list(ADD)
    flag = arguments[0]
    argv[argv.index(flag) + 1] = arguments[1]
    code, _, err = run(capsys, "--database", host.statusflow_url(), *argv)
    assert code != 0 and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("127.0.0.1:5432", "127.0.0.1:1"), "Check that the server is running"),
        (("127.0.0.1:5432", "127.0.0.1:notaport"), "is not a database URL"),
        (("@", "x@"), 'role "sf_engine_'),
    ],
)
def test_a_wrong_url_is_one_line(host, capsys, change, message) -> None:
    wrong = host.statusflow_url().replace(*change)
    code, _, err = run(capsys, "--database", wrong, "source", "list")
    assert code != 0 and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_the_short_postgres_scheme_is_understood(host, capsys) -> None:
    url = host.statusflow_url().replace("postgresql://", "postgres://")
    code, out, _ = run(capsys, "--database", url, "db", "info")
    assert code == 0 and "schema statusflow" in out


def test_without_connect_the_administrator_is_told_the_grant(host, capsys) -> None:
    with host.admin() as admin:
        admin.execute(f"REVOKE CONNECT ON DATABASE {host.name} FROM PUBLIC")
    code, _, err = run(capsys, "--database", host.statusflow_url(), "source", "list")
    assert code != 0
    assert f"GRANT CONNECT ON DATABASE {host.name} TO {host.statusflow_role};" in err


def test_a_missing_grant_is_one_line_that_says_who_fixes_it(host, capsys) -> None:
    url = host.statusflow_url()
    with host.admin() as admin:
        admin.execute("CREATE TABLE shop.order_statuses (code text PRIMARY KEY, description text)")
    assert run(capsys, "--database", url, *ADD, "--capture", "poll")[0] == 0
    code, out, err = run(
        capsys,
        "--database",
        url,
        "source",
        "codes",
        "orders",
        "--from-table",
        "shop.order_statuses",
    )
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "SELECT" not in err.replace("permission", "")
    assert "permission denied for table order_statuses" in err
    assert "An administrator grants what is missing" in err


def test_check_without_use_of_the_schema_says_so_and_exits_3(host, capsys) -> None:
    url = host.statusflow_url()
    assert run(capsys, "--database", url, *ADD, "--install-later")[0] == 0
    with host.admin() as admin:
        admin.execute(f"REVOKE USAGE ON SCHEMA shop FROM {host.statusflow_role}")
    code, out, _ = run(capsys, "--database", url, "source", "check", "orders")
    assert code == 3
    assert "may not use the schema shop" in out
    assert f"GRANT USAGE ON SCHEMA shop TO {host.statusflow_role};" in out


@pytest.fixture
def legacy_url(statusflow_home) -> Iterator[str]:
    """A database StatusFlow set up in public, before it kept to a schema of its own."""
    for url in fresh_postgres_url():
        db = Database(f"{url}?schema=public")
        schema.upgrade(db)
        demo.install(db, actor="ana")
        with db.write() as conn:  # as an earlier StatusFlow left its capture function
            conn.exec_driver_sql("ALTER FUNCTION public.sf_capture_change() SECURITY INVOKER")
        db.dispose()
        yield url


def test_statusflow_in_public_is_found_not_started_again_beside_it(legacy_url, capsys) -> None:
    for command in (("source", "list"), ("db", "upgrade")):
        code, _, err = run(capsys, "--database", legacy_url, *command)
        assert code == 2
        assert "are in the schema public, not statusflow: add ?schema=public" in err
    with psycopg.connect(legacy_url) as conn:
        assert conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'statusflow'"
        ).fetchone() == (0,)


def test_upgrading_gives_an_earlier_capture_function_its_guarantees(legacy_url, capsys) -> None:
    code, _, _ = run(capsys, "--database", f"{legacy_url}?schema=public", "db", "upgrade")
    assert code == 0
    with psycopg.connect(legacy_url) as conn:
        definer = conn.execute(
            "SELECT prosecdef FROM pg_proc WHERE proname = 'sf_capture_change'"
        ).fetchall()
    assert definer == [(True,)]


def test_an_unreachable_host_database_is_one_line(host, capsys) -> None:
    code, out, err = run(
        capsys, "--database", host.statusflow_url(), *ADD, "--host-url", "mysql://app@crm/crm"
    )
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "The host database mysql://app@crm/crm of the source 'orders' failed" in err
    assert "Check that the server is running and that host and port are right." in err
