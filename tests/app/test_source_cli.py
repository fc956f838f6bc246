"""``statusflow source`` against a customer's PostgreSQL: add, check, sql, remove."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.app.test_cli import run
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
    assert "MISSING  2 capture trigger(s) on shop.orders are missing" in out
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


def test_a_wrong_password_or_an_unreachable_host_is_one_line(host, capsys) -> None:
    wrong = host.statusflow_url().replace("127.0.0.1:5432", "127.0.0.1:1")
    code, _, err = run(capsys, "--database", wrong, "source", "list")
    assert code != 0 and "Check that the server is running" in err
    assert len(err.strip().splitlines()) == 1
