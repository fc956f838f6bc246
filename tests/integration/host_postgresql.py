"""A customer's PostgreSQL database, as it looks before StatusFlow arrives.

The shop application owns the schema ``shop``; its login role ``shop_app`` may only
read and write ``shop.orders`` and ``shop.order_labels``. StatusFlow gets its own
login role, which owns the schema ``statusflow`` and is granted what the
administrator chose to grant. Roles are cluster-wide, so each gets a unique name and
is dropped afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg

from engine.storage import schema
from engine.storage.database import Database
from tests.conftest import _pg_admin, _pg_conninfo

SHOP = """
CREATE SCHEMA shop;
CREATE TABLE shop.orders (
    id serial PRIMARY KEY, customer_name text NOT NULL, email text NOT NULL,
    amount numeric(10, 2) NOT NULL, salesperson text, status varchar(10) NOT NULL,
    updated_at timestamp NOT NULL DEFAULT now());
CREATE TABLE shop.order_labels (
    id serial PRIMARY KEY, order_id integer NOT NULL REFERENCES shop.orders, label text);
CREATE TABLE shop.alembic_version (version_num varchar(32) PRIMARY KEY);
INSERT INTO shop.alembic_version VALUES ('3f1c0de2b7aa');
INSERT INTO shop.orders (customer_name, email, amount, status)
SELECT 'Customer ' || n, 'customer' || n || '@example.com', 50 + n, 'NEW'
FROM generate_series(1, 10) AS n;
"""


@dataclass(frozen=True)
class HostDatabase:
    name: str
    app_role: str
    statusflow_role: str

    def app(self) -> psycopg.Connection:
        """A connection as the shop application, with its own search path."""
        conn = psycopg.connect(_pg_conninfo(self.name), user=self.app_role, autocommit=True)
        conn.execute("SET search_path TO shop")
        return conn

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(_pg_conninfo(self.name), autocommit=True)

    def statusflow_url(self) -> str:
        url = _pg_conninfo(self.name).split("://", 1)[1].split("@", 1)[1]
        return f"postgresql://{self.statusflow_role}@{url}"

    def statusflow(self) -> Database:
        db = Database(self.statusflow_url())
        schema.upgrade(db)
        return db

    def catalog(self, query: str) -> list[tuple]:
        with self.admin() as conn:
            return conn.execute(query).fetchall()


def host_database(grants: tuple[str, ...]) -> Iterator[HostDatabase]:
    """The shop's database with StatusFlow's role granted ``grants`` (SQL with
    ``{sf}`` for StatusFlow's role)."""
    suffix = uuid.uuid4().hex[:8]
    host = HostDatabase(f"sf_host_{suffix}", f"shop_app_{suffix}", f"sf_engine_{suffix}")
    with _pg_admin() as admin:
        admin.execute(f"CREATE DATABASE {host.name}")
        admin.execute(f"CREATE ROLE {host.app_role} LOGIN")
        admin.execute(f"CREATE ROLE {host.statusflow_role} LOGIN")
    try:
        with host.admin() as conn:
            conn.execute(SHOP)
            conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
            conn.execute(f"GRANT USAGE ON SCHEMA shop TO {host.app_role}")
            conn.execute(
                f"GRANT SELECT, INSERT, UPDATE ON shop.orders, shop.order_labels TO {host.app_role}"
            )
            conn.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA shop TO {host.app_role}")
            conn.execute(f"CREATE SCHEMA statusflow AUTHORIZATION {host.statusflow_role}")
            for grant in grants:
                conn.execute(grant.format(sf=host.statusflow_role))
        yield host
    finally:
        with _pg_admin() as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {host.name} WITH (FORCE)")
            admin.execute(f"DROP ROLE IF EXISTS {host.app_role}")
            admin.execute(f"DROP ROLE IF EXISTS {host.statusflow_role}")


READ_AND_WRITE = (
    "GRANT USAGE ON SCHEMA shop TO {sf}",
    "GRANT SELECT, UPDATE ON shop.orders TO {sf}",
    "GRANT SELECT, INSERT, DELETE ON shop.order_labels TO {sf}",
)
WITH_TRIGGERS = (*READ_AND_WRITE, "GRANT TRIGGER ON shop.orders, shop.order_labels TO {sf}")
