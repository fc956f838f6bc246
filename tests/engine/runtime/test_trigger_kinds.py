"""Every trigger kind, through the engine: which runs start, on which record, and why.

Each case changes several records, some that must start a run and some that must not,
so a trigger that fires too often fails as surely as one that never fires. The first
line of a run's timeline says why it started; operations staff read it to understand
a run, so it is asserted word for word.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from engine.clock import ManualClock
from engine.runtime.starts import start_manual
from engine.sources.registry import add_source
from engine.storage.database import Database
from engine.storage.tables import graphs, run_steps, runs
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import engine, publish, shop
from tests.host import as_host

MONDAY_0759 = datetime(2026, 1, 5, 7, 59, tzinfo=UTC)  # 5 January 2026 is a Monday

Started = tuple[str, str, str]  # (graph, record key, first timeline line)


def opened(graph: str, key: str, why: str) -> Started:
    """A run of a graph's first version on one record, and the line that opens it."""
    return graph, key, f"{why}: started '{graph}' V1.0."


def openings(db: Database) -> list[Started]:
    """Every run as (graph, record, first timeline line), sorted: what started, and why."""
    with db.read() as conn:
        rows = conn.execute(
            select(graphs.c.name, runs.c.record_key, run_steps.c.run_id, run_steps.c.summary)
            .join(runs, runs.c.id == run_steps.c.run_id)
            .join(graphs, graphs.c.id == runs.c.graph_id)
            .order_by(run_steps.c.id)
        ).all()
    first: dict[str, Started] = {}
    for row in rows:
        first.setdefault(row.run_id, (row.name, row.record_key, row.summary))
    return sorted(first.values())


def host(db: Database, *statements: str) -> None:
    """Write the host application's tables, one statement after another."""
    with as_host(db) as conn:
        for statement in statements:
            conn.execute(text(statement))


def with_trigger(
    name: str, type_id: str, *, source: str = "orders", **params: Any
) -> dict[str, Any]:
    """A graph whose trigger leads to a note, so a run that starts also succeeds."""
    g = Builder(name, source)
    g.line(g.node(type_id, **params), g.node("action.add_note", note="Seen {{ record_key }}."))
    return g.document()


TICKETS = (
    "CREATE TABLE tickets (id INTEGER PRIMARY KEY, title TEXT NOT NULL, owner TEXT, "
    "priority TEXT, status TEXT NOT NULL)",
    "INSERT INTO tickets VALUES (1, 'Printer jammed', 'maria', 'low', 'OPEN')",
    "INSERT INTO tickets VALUES (2, 'No VPN', 'tom', 'low', 'OPEN')",
    "INSERT INTO tickets VALUES (3, 'Slow laptop', 'tom', 'low', 'OPEN')",
    "INSERT INTO tickets VALUES (4, 'New starter', 'aisha', 'low', 'OPEN')",
)


def tickets(db: Database) -> None:
    """A host table with two watched fields (the demo's orders watch only one), so a
    change to the *other* watched field leaves an event the trigger must ignore."""
    host(db, *TICKETS)
    add_source(
        db,
        name="tickets",
        table="tickets",
        key_column="id",
        status_column="status",
        watched_columns=("owner", "priority"),
    )


@dataclass(frozen=True)
class Case:
    """Graphs published, then host writes: ``before`` is processed before the graphs
    exist (it sets up old values), ``change`` is what the graphs react to."""

    graphs: tuple[dict[str, Any], ...]
    change: tuple[str, ...]
    started: list[Started]
    before: tuple[str, ...] = ()


def status(key: int, code: str) -> str:
    return f"UPDATE orders SET status = '{code}' WHERE id = {key}"


def label(key: int, name: str) -> str:
    return f"INSERT INTO order_labels (order_id, label) VALUES ({key}, '{name}')"


def new_order(key: int, code: str) -> str:
    return (
        "INSERT INTO orders (id, customer_name, email, amount, status, created_at) VALUES "
        f"({key}, 'Kim Lee', 'kim@example.com', 10, '{code}', '2026-01-05 07:00:00')"
    )


def ticket(key: int, column: str, value: str) -> str:
    return f"UPDATE tickets SET {column} = '{value}' WHERE id = {key}"


CASES = [
    pytest.param(
        Case(
            graphs=(
                with_trigger("Delivered", "trigger.status_entered", codes=["DEL"]),
                with_trigger("Closed", "trigger.status_entered", codes=["DEL", "CAN"]),
            ),
            before=(status(1, "SHP"), status(2, "SHP"), status(3, "SHP")),
            change=(status(1, "DEL"), status(2, "CAN"), status(3, "PRC")),
            started=[
                opened("Closed", "1", "Status changed from SHP to DEL"),
                opened("Closed", "2", "Status changed from SHP to CAN"),
                opened("Delivered", "1", "Status changed from SHP to DEL"),
            ],
        ),
        id="status-entered-codes",
    ),
    pytest.param(
        Case(
            graphs=(
                with_trigger(
                    "Shipped, then delivered",
                    "trigger.status_entered",
                    codes=["DEL"],
                    from_code="SHP",
                ),
            ),
            before=(status(1, "SHP"), status(2, "PRC"), status(3, "SHP")),
            change=(status(1, "DEL"), status(2, "DEL"), status(3, "CAN")),
            started=[opened("Shipped, then delivered", "1", "Status changed from SHP to DEL")],
        ),
        id="status-entered-from",
    ),
    pytest.param(
        Case(
            graphs=(with_trigger("VIP", "trigger.label_applied", label="VIP"),),
            change=(label(1, "VIP"), label(2, "Gift"), label(3, "VIPs")),
            started=[opened("VIP", "1", "Label 'VIP' applied")],
        ),
        id="label-applied",
    ),
    pytest.param(
        Case(
            graphs=(with_trigger("VIP", "trigger.label_applied", label="VIP"),),
            before=(label(3, "VIP"),),
            change=("DELETE FROM order_labels WHERE order_id = 3", label(4, "VIP")),
            started=[opened("VIP", "4", "Label 'VIP' applied")],
        ),
        id="label-removed",
    ),
    pytest.param(
        Case(
            graphs=(with_trigger("New order", "trigger.record_created"),),
            change=(new_order(51, "NEW"), new_order(52, "SNA")),
            started=[
                opened("New order", "51", "Record created with status NEW"),
                opened("New order", "52", "Record created with status SNA"),
            ],
        ),
        id="record-created-any",
    ),
    pytest.param(
        Case(
            graphs=(with_trigger("New and unassigned", "trigger.record_created", codes=["SNA"]),),
            before=(status(1, "NEW"),),
            change=(new_order(51, "NEW"), new_order(52, "SNA"), status(1, "SNA")),
            started=[opened("New and unassigned", "52", "Record created with status SNA")],
        ),
        id="record-created-filtered",
    ),
    pytest.param(
        Case(
            graphs=(
                with_trigger(
                    "Owner changes", "trigger.field_changed", source="tickets", field="owner"
                ),
            ),
            change=(
                ticket(1, "owner", "tom"),
                ticket(2, "priority", "high"),  # the other watched field
                ticket(3, "title", "Very slow laptop"),  # a field nobody watches
                "UPDATE tickets SET owner = 'maria', priority = 'high' WHERE id = 4",
            ),
            started=[
                opened("Owner changes", "1", "owner changed from 'maria' to 'tom'"),
                opened("Owner changes", "4", "owner changed from 'aisha' to 'maria'"),
            ],
        ),
        id="field-changed",
    ),
    pytest.param(
        Case(
            graphs=(
                with_trigger(
                    "Given to tom",
                    "trigger.field_changed",
                    source="tickets",
                    field="owner",
                    to_value="tom",
                ),
            ),
            change=(ticket(1, "owner", "tom"), ticket(2, "owner", "aisha")),
            started=[opened("Given to tom", "1", "owner changed from 'maria' to 'tom'")],
        ),
        id="field-changed-to-value",
    ),
]


@pytest.mark.parametrize("case", CASES)
def test_a_change_starts_exactly_the_runs_its_triggers_ask_for(db: Database, case: Case) -> None:
    """The graphs are published only after the set-up was processed, so every run that
    starts was started by ``change``; the assertion lists all of them."""
    clock = ManualClock(MONDAY_0759)
    shop(db, clock)
    if any(document["source"] == "tickets" for document in case.graphs):
        tickets(db)
    host(db, *case.before)
    worker = engine(db, clock)
    worker.run_until_idle()  # the set-up changes, before any graph listens
    for document in case.graphs:
        publish(db, document, clock)
    host(db, *case.change)
    worker.run_until_idle()
    assert openings(db) == case.started


def test_a_schedule_starts_records_in_its_status_at_its_minute_only(db: Database) -> None:
    """No demo order starts out Delivered, so order 1 is the only one in the status;
    order 2 and the other 48 are in other statuses and must not start."""
    clock = ManualClock(MONDAY_0759)
    shop(db, clock)
    host(db, status(1, "DEL"), status(2, "SHP"))
    reminder = "Delivered: ask for a review"
    schedule = with_trigger(reminder, "trigger.schedule", cron="0 8 * * 1-5", in_status=["DEL"])
    publish(db, schedule, clock)
    worker = engine(db, clock)
    worker.run_until_idle()
    clock.advance(timedelta(seconds=59))  # 07:59:59
    worker.run_until_idle()
    assert openings(db) == []
    clock.advance(timedelta(seconds=1))
    worker.run_until_idle()
    assert openings(db) == [
        opened(reminder, "1", "Scheduled (0 8 * * 1-5, 2026-01-05 08:00 UTC)"),
    ]


def test_a_manual_start_starts_only_the_record_asked_for(db: Database) -> None:
    """A manual trigger listens to no status change, only to the person who starts it."""
    clock = ManualClock(MONDAY_0759)
    shop(db, clock)
    publish(db, with_trigger("Call the customer", "trigger.manual"), clock)
    worker = engine(db, clock)
    host(db, status(7, "DEL"), label(7, "VIP"), new_order(51, "NEW"))
    start_manual(db, "Call the customer", "orders", "42", actor="olga", clock=clock)
    worker.run_until_idle()
    assert openings(db) == [opened("Call the customer", "42", "Started by hand by olga")]
