"""A customer's MariaDB order system, as it looks before StatusFlow arrives.

The shop's database holds ``orders`` and ``order_labels`` (and an ``alembic_version``
of its own). Its login ``shop_app`` may only read and write those two tables.
StatusFlow gets a login of its own, with a password kept in the keyring, granted
what the administrator chose. Databases and users are server-wide, so each gets a
unique name and is dropped afterwards. StatusFlow's own database stays SQLite or
PostgreSQL: a MariaDB host is always a database of its own.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pymysql
import pytest

MARIADB_ADMIN = os.environ.get("STATUSFLOW_TEST_MARIADB_URL", "mysql://root@127.0.0.1:3306")
SF_PASSWORD = "sf-host-secret"
APP_PASSWORD = "shop-app-secret"

SHOP = (
    """CREATE TABLE orders (
        id INT AUTO_INCREMENT PRIMARY KEY, customer_name VARCHAR(80) NOT NULL,
        email VARCHAR(120) NOT NULL, amount DECIMAL(10, 2) NOT NULL,
        salesperson VARCHAR(80), status VARCHAR(10) NOT NULL, trail VARCHAR(40) NOT NULL
        DEFAULT '', updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))""",
    """CREATE TABLE order_labels (
        id INT AUTO_INCREMENT PRIMARY KEY, order_id INT NOT NULL,
        label VARCHAR(40), FOREIGN KEY (order_id) REFERENCES orders (id))""",
    "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)",
    "INSERT INTO alembic_version VALUES ('3f1c0de2b7aa')",
)


def _server() -> tuple[str, int, str]:
    rest = MARIADB_ADMIN.split("://", 1)[1]
    user, _, address = rest.rpartition("@")
    host, _, port = address.partition(":")
    return host, int(port or 3306), user or "root"


def admin(database: str | None = None) -> pymysql.connections.Connection:
    host, port, user = _server()
    try:
        return pymysql.connect(
            host=host, port=port, user=user, database=database, autocommit=True, connect_timeout=5
        )
    except pymysql.err.OperationalError as exc:
        pytest.fail(
            f"MariaDB tests need a server at {MARIADB_ADMIN} "
            f"(set STATUSFLOW_TEST_MARIADB_URL): {exc}",
            pytrace=False,
        )


@dataclass(frozen=True)
class MariaDbHost:
    name: str
    app_user: str
    statusflow_user: str

    @property
    def address(self) -> str:
        host, port, _ = _server()
        return f"{host}:{port}"

    def url(self) -> str:
        """The host URL StatusFlow is given: its own login, no password."""
        return f"mysql://{self.statusflow_user}@{self.address}/{self.name}"

    def secret_name(self) -> str:
        return f"db/{self.statusflow_user}@{self.address}"

    def app(self) -> pymysql.connections.Connection:
        """A connection as the shop application."""
        host, port, _ = _server()
        return pymysql.connect(
            host=host,
            port=port,
            user=self.app_user,
            password=APP_PASSWORD,
            database=self.name,
            autocommit=True,
        )

    def catalog(self, query: str, *args: object) -> list[tuple]:
        with admin(self.name) as conn, conn.cursor() as cursor:
            cursor.execute(query, args or None)
            return list(cursor.fetchall())

    def grant(self, *grants: str) -> None:
        with admin(self.name) as conn, conn.cursor() as cursor:
            for grant in grants:
                cursor.execute(grant.format(db=self.name, sf=self.sf))

    @property
    def sf(self) -> str:
        return f"'{self.statusflow_user}'@'%'"


def mariadb_host(grants: tuple[str, ...], orders: int = 10) -> Iterator[MariaDbHost]:
    """The shop's database with StatusFlow's login granted ``grants`` (SQL with ``{db}``
    for the database and ``{sf}`` for StatusFlow's login)."""
    suffix = uuid.uuid4().hex[:8]
    host = MariaDbHost(f"sf_shop_{suffix}", f"shop_app_{suffix}", f"sf_engine_{suffix}")
    with admin() as conn, conn.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {host.name}")
        cursor.execute(f"CREATE USER '{host.app_user}'@'%' IDENTIFIED BY '{APP_PASSWORD}'")
        cursor.execute(f"CREATE USER {host.sf} IDENTIFIED BY '{SF_PASSWORD}'")
    try:
        with admin(host.name) as conn, conn.cursor() as cursor:
            for statement in SHOP:
                cursor.execute(statement)
            cursor.executemany(
                "INSERT INTO orders (customer_name, email, amount, status) "
                "VALUES (%s, %s, %s, 'NEW')",
                [
                    (f"Customer {n}", f"customer{n}@example.com", 50 + n)
                    for n in range(1, orders + 1)
                ],
            )
            cursor.execute(
                f"GRANT SELECT, INSERT, UPDATE ON {host.name}.orders TO '{host.app_user}'@'%'"
            )
            cursor.execute(
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON {host.name}.order_labels "
                f"TO '{host.app_user}'@'%'"
            )
        host.grant(*grants)
        yield host
    finally:
        with admin() as conn, conn.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {host.name}")
            cursor.execute(f"DROP USER IF EXISTS '{host.app_user}'@'%'")
            cursor.execute(f"DROP USER IF EXISTS {host.sf}")


READ_AND_WRITE = (
    "GRANT SELECT, UPDATE ON {db}.orders TO {sf}",
    "GRANT SELECT, INSERT, DELETE ON {db}.order_labels TO {sf}",
)
# least privilege for trigger capture: the triggers, and StatusFlow's two tables only
WITH_TRIGGERS = (
    *READ_AND_WRITE,
    "GRANT TRIGGER ON {db}.orders TO {sf}",
    "GRANT TRIGGER ON {db}.order_labels TO {sf}",
    "GRANT CREATE, DROP, SELECT, INSERT, DELETE ON {db}.sf_capture TO {sf}",
    "GRANT CREATE, DROP, SELECT, INSERT ON {db}.sf_host_writes TO {sf}",
)


TICKETS_TABLE = """CREATE TABLE tickets (
    id INT PRIMARY KEY, status VARCHAR(10) NOT NULL, priority INT NOT NULL,
    trail VARCHAR(20) NOT NULL DEFAULT '',
    changed_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
        ON UPDATE CURRENT_TIMESTAMP(6))"""
TICKET_GRANTS = (
    "GRANT SELECT, UPDATE, TRIGGER ON {db}.tickets TO {sf}",
    "GRANT CREATE, DROP, SELECT, INSERT, DELETE ON {db}.sf_capture TO {sf}",
    "GRANT CREATE, DROP, SELECT, INSERT ON {db}.sf_host_writes TO {sf}",
)


def ticket_desk(count: int) -> Iterator[MariaDbHost]:
    """A MariaDB database with ``count`` NEW tickets (the desk of tests/integration's
    conftest, in a host of its own), StatusFlow's login granted trigger capture."""
    for host in mariadb_host((), orders=0):
        with admin(host.name) as conn, conn.cursor() as cursor:
            cursor.execute(TICKETS_TABLE)
            cursor.executemany(
                "INSERT INTO tickets (id, status, priority) VALUES (%s, 'NEW', %s)",
                [(k, 1 + k % 3) for k in range(1, count + 1)],
            )
        host.grant(*TICKET_GRANTS)
        yield host


def open_host_tickets(host: MariaDbHost, first: int, last: int) -> None:
    """One UPDATE moves tickets ``first..last`` to OPN, as the desk's application would."""
    with admin(host.name) as conn, conn.cursor() as cursor:
        cursor.execute(
            "UPDATE tickets SET status = 'OPN' WHERE id BETWEEN %s AND %s", (first, last)
        )


def administrator_runs(host: MariaDbHost, script: str) -> None:
    """Pipe a script into the ``mysql`` client as the administrator does."""
    server, port, user = _server()
    subprocess.run(
        ["mysql", "-h", server, "-P", str(port), "-u", user, host.name],
        input=script,
        text=True,
        check=True,
        capture_output=True,
    )
