"""``statusflow source`` against a MariaDB order system of its own, as IT scripts it:
the password from the environment, check's exit code, the SQL for the administrator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.sources.hosts import hosts
from engine.storage import schema
from engine.storage.database import Database
from tests.app.test_cli import run
from tests.integration.host_mariadb import (
    READ_AND_WRITE,
    SF_PASSWORD,
    MariaDbHost,
    administrator_runs,
    mariadb_host,
)

pytestmark = pytest.mark.mariadb


@pytest.fixture
def shop(statusflow_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MariaDbHost]:
    monkeypatch.setenv("STATUSFLOW_HOST_PASSWORD_ORDERS", SF_PASSWORD)
    for host in mariadb_host(READ_AND_WRITE):
        yield host
        hosts.dispose()


def statusflow(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'statusflow.db'}"
    db = Database(url)
    schema.upgrade(db)
    db.dispose()
    return url


def add(shop: MariaDbHost, *extra: str) -> tuple[str, ...]:
    return (
        *("source", "add", "orders", "--table", "orders", "--key", "id", "--status", "status"),
        *("--labels", "order_labels", "--host-url", shop.url(), *extra),
    )


def test_install_later_then_the_administrators_sql_makes_it_ready(
    shop: MariaDbHost, tmp_path: Path, capsys
) -> None:
    url = statusflow(tmp_path)
    code, out, err = run(capsys, "--database", url, *add(shop))
    assert code != 0 and out == "" and len(err.strip().splitlines()) == 1
    assert "may not install trigger capture" in err and "--install-later" in err

    code, out, _ = run(capsys, "--database", url, *add(shop, "--install-later"))
    assert code == 0
    assert f"Watching orders in {shop.url()} as 'orders' (captured by triggers)" in out
    code, out, _ = run(capsys, "--database", url, "source", "list")
    assert f"orders         table orders in {shop.url()} (key id" in out

    code, out, _ = run(capsys, "--database", url, "source", "check", "orders")
    assert code == 3 and "not ready" in out
    assert f"GRANT TRIGGER ON {shop.name}.orders TO {shop.sf};" in out
    code, sql, _ = run(capsys, "--database", url, "source", "sql", "orders")
    assert code == 0 and "CREATE TABLE IF NOT EXISTS sf_capture" in sql
    administrator_runs(shop, sql)  # piped into the mysql client, as printed
    shop.grant(
        "GRANT TRIGGER ON {db}.orders TO {sf}",
        "GRANT TRIGGER ON {db}.order_labels TO {sf}",
        "GRANT DROP, SELECT, INSERT, DELETE ON {db}.sf_capture TO {sf}",
        "GRANT DROP, SELECT, INSERT ON {db}.sf_host_writes TO {sf}",
        "GRANT CREATE ON {db}.sf_capture TO {sf}",
        "GRANT CREATE ON {db}.sf_host_writes TO {sf}",
    )
    code, out, _ = run(capsys, "--database", url, "source", "check", "orders")
    assert code == 0, out
    assert "The capture triggers on orders and order_labels are installed." in out
    code, out, _ = run(capsys, "--database", url, "source", "remove", "orders")
    assert code == 0
    assert shop.catalog(f"SHOW TRIGGERS FROM {shop.name}") == []
    left = shop.catalog(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
        "AND table_name LIKE 'sf%%'",
        shop.name,
    )
    assert left == []


def test_poll_capture_needs_no_grant_beyond_reading_and_writing(
    shop: MariaDbHost, tmp_path: Path, capsys
) -> None:
    url = statusflow(tmp_path)
    code, out, _ = run(
        capsys, "--database", url, *add(shop, "--capture", "poll", "--changed-column", "updated_at")
    )
    assert code == 0 and "polled every 5 s, by updated_at" in out
    code, out, _ = run(capsys, "--database", url, "source", "check", "orders")
    assert code == 0, out
    assert "nothing of StatusFlow's is installed on it" in out
