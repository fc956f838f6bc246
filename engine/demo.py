"""Demo data: a small shop whose orders and customers StatusFlow can watch.

``install`` creates the business tables a host application would own (orders with
labels, customers, their status code tables), registers them as record sources and
stores the three seed scenarios as draft graphs, so a new user sees the product work
without configuring anything. It is idempotent: a second call changes nothing.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from importlib import resources

from sqlalchemy import (
    Column,
    Connection,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    func,
    insert,
    select,
    text,
)

from engine import graphs
from engine.clock import SYSTEM_CLOCK, Clock
from engine.governance import versions
from engine.settings import FOUR_EYES_RELAXED, set_setting
from engine.sources import registry, status_codes
from engine.sources.introspection import HOST_DEFAULT_SCHEMA
from engine.storage.database import Database

shop = MetaData()

orders = Table(
    "orders",
    shop,
    Column("id", Integer, primary_key=True),
    Column("customer_name", String(120), nullable=False),
    Column("email", String(200), nullable=False),
    Column("phone", String(40)),
    Column("amount", Numeric(10, 2), nullable=False),
    Column("salesperson", String(80)),
    Column("status", String(10), nullable=False),
    Column("delivery_date", Date),
    Column("created_at", DateTime, nullable=False),
)
order_labels = Table(
    "order_labels",
    shop,
    Column("id", Integer, primary_key=True),
    Column("order_id", ForeignKey("orders.id"), nullable=False),
    Column("label", String(60), nullable=False),
)
order_statuses = Table(
    "order_statuses",
    shop,
    Column("code", String(10), primary_key=True),
    Column("description", String(120), nullable=False),
    Column("sort_order", Integer, nullable=False),
)
customers = Table(
    "customers",
    shop,
    Column("id", Integer, primary_key=True),
    Column("name", String(120), nullable=False),
    Column("email", String(200), nullable=False),
    Column("phone", String(40)),
    Column("responsible", String(80)),
    Column("status", String(10), nullable=False),
    Column("created_at", DateTime, nullable=False),
)

ORDER_STATUSES = (
    ("NEW", "New"),
    ("SNA", "Salesperson not assigned"),
    ("ASN", "Salesperson assigned"),
    ("PRC", "In progress"),
    ("SHP", "Shipped"),
    ("DEL", "Delivered"),
    ("CAN", "Cancelled"),
)
CUSTOMER_STATUSES = (("NEW", "New customer"), ("ACT", "Active"), ("INA", "Inactive"))
LABELS = ("VIP", "Express", "Gift", "Fragile")
SALESPEOPLE = ("maria", "tom", "aisha")
FIRST = ("Anna", "Ben", "Chloé", "David", "Elif", "Finn", "Grace", "Hugo", "Ines", "Jonas")
LAST = ("Berg", "Costa", "Dubois", "Ekström", "Fischer", "García", "Hansen", "Ivanov", "Jensen")
DEMO_GRAPHS = ("delivered_email", "salesperson_escalation", "welcome_journey")
ORDER_COUNT = 50


@dataclass(frozen=True)
class DemoReport:
    """What ``install`` did, for the CLI to say."""

    created: bool
    orders: int
    customers: int
    graphs: tuple[str, ...]


def _person(rng: random.Random) -> tuple[str, str, str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    email = f"{first}.{last}".lower().replace("é", "e").replace("ö", "o").replace("í", "i")
    phone = f"+1555{rng.randrange(1_000_000):06d}"
    return f"{first} {last}", f"{email}@example.com", phone


def _order_rows(rng: random.Random, now: datetime) -> list[dict[str, object]]:
    # Most demo orders sit early in their life so a user has something to move along.
    weights = (5, 2, 3, 3, 2, 0, 1)
    rows = []
    for key in range(1, ORDER_COUNT + 1):
        name, email, phone = _person(rng)
        status = rng.choices([c for c, _ in ORDER_STATUSES], weights)[0]
        rows.append(
            {
                "id": key,
                "customer_name": name,
                "email": email,
                "phone": phone,
                "amount": Decimal(rng.randrange(1_500, 250_000)) / 100,
                "salesperson": None if status in ("NEW", "SNA") else rng.choice(SALESPEOPLE),
                "status": status,
                "delivery_date": date(now.year, now.month, 1) + timedelta(days=rng.randrange(60)),
                "created_at": (now - timedelta(hours=rng.randrange(1, 720))).replace(tzinfo=None),
            }
        )
    return rows


def _customer_rows(rng: random.Random, now: datetime) -> list[dict[str, object]]:
    rows = []
    for key in range(1, 11):
        name, email, phone = _person(rng)
        rows.append(
            {
                "id": key,
                "name": name,
                "email": email,
                "phone": phone,
                "responsible": rng.choice(SALESPEOPLE),
                "status": "ACT",
                "created_at": (now - timedelta(days=rng.randrange(30, 400))).replace(tzinfo=None),
            }
        )
    return rows


def demo_graph_document(name: str) -> dict[str, object]:
    """One of the seed scenarios as a StatusFlow JSON document (also a template)."""
    text = resources.files("resources.demo.graphs").joinpath(f"{name}.json").read_text("utf-8")
    return json.loads(text)


@contextmanager
def _shop(db: Database) -> Iterator[Connection]:
    """A write transaction on the demo shop's tables. On PostgreSQL they live in the
    host schema ``public``, apart from StatusFlow's own, as a customer's tables would."""
    with db.write() as conn:
        if db.is_postgresql:
            conn = conn.execution_options(schema_translate_map={None: HOST_DEFAULT_SCHEMA})
        yield conn


def _move_sequences(conn: Connection) -> None:
    """PostgreSQL: the rows came with their ids, so the key sequences start past them and
    the host's own INSERT without an id works."""
    for table in (orders, customers):
        conn.execute(
            text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :top)"),
            {
                "table": f"{HOST_DEFAULT_SCHEMA}.{table.name}",
                "top": conn.scalar(func.max(table.c.id)),
            },
        )


def _fill_tables(db: Database, clock: Clock) -> tuple[int, int]:
    rng = random.Random(20261122)
    now = clock.now().astimezone(UTC)
    order_rows = _order_rows(rng, now)
    customer_rows = _customer_rows(rng, now)
    with _shop(db) as conn:
        shop.create_all(conn)
        conn.execute(
            insert(order_statuses),
            [
                {"code": c, "description": d, "sort_order": i}
                for i, (c, d) in enumerate(ORDER_STATUSES)
            ],
        )
        conn.execute(insert(orders), order_rows)
        conn.execute(insert(customers), customer_rows)
        labelled = rng.sample(order_rows, 12)
        conn.execute(
            insert(order_labels),
            [{"order_id": row["id"], "label": rng.choice(LABELS)} for row in labelled],
        )
        if db.is_postgresql:
            _move_sequences(conn)
    return len(order_rows), len(customer_rows)


def _already_installed(db: Database) -> bool:
    return any(source.name == "orders" for source in registry.list_sources(db))


def install(db: Database, *, actor: str, clock: Clock = SYSTEM_CLOCK) -> DemoReport:
    """Create the demo shop, register it, and add the seed graphs as drafts."""
    if _already_installed(db):
        with _shop(db) as conn:
            count = conn.execute(select(orders.c.id)).all()
        return DemoReport(False, len(count), 0, ())
    # The tables are filled before the sources are registered: the demo's history is
    # not a stream of status changes for the engine to act on.
    order_count, customer_count = _fill_tables(db, clock)
    registry.add_source(
        db,
        name="orders",
        table="orders",
        key_column="id",
        status_column="status",
        label_table="order_labels",
        display_columns=("id", "customer_name", "email", "amount"),
        watched_columns=("salesperson",),
        actor=actor,
    )
    status_codes.load_codes_from_table(db, "orders", "order_statuses", actor=actor)
    registry.add_source(
        db,
        name="customers",
        table="customers",
        key_column="id",
        status_column="status",
        display_columns=("id", "name", "email"),
        actor=actor,
    )
    status_codes.set_codes(db, "customers", list(CUSTOMER_STATUSES), actor=actor)
    created = tuple(
        graphs.create_graph(db, demo_graph_document(name), actor=actor, clock=clock).name
        for name in DEMO_GRAPHS
    )
    return DemoReport(True, order_count, customer_count, created)


def publish_for_one_person(db: Database, graph_names: tuple[str, ...], *, actor: str) -> None:
    """Make the embedded default work from its first start: one person uses it, so the
    four-eyes rule is relaxed (audited; Settings or 'statusflow settings' can turn it
    back on) and the seed graphs are reviewed and published, ready to react."""
    set_setting(db, FOUR_EYES_RELAXED, True, actor=actor)
    for name in graph_names:
        version = versions.submit(db, name, actor=actor, note="The demo's starting point.")
        versions.approve(db, version.id, actor=actor, comment="Embedded demo, one person.")
        versions.publish(db, version.id, actor=actor)
