"""Events and steps handled in batches keep the guarantees of one-at-a-time handling.

The engine reads and writes a whole batch with a few statements (``preload``,
``journal``, ingest waves); these tests pin what that must not change: a record's
second event sees its first one's run, parallel branches see each other's writes, and
one failing step is recorded while the rest of its batch commits.
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import event, text

from engine.clock import ManualClock
from engine.storage.database import Database
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import engine, publish, run_states, set_status, shop, timeline
from tests.host import as_host
from tests.integration.conftest import install_tickets, publish_marking_graph, trails


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def move(db: Database, key: int, *statuses: str) -> None:
    """Put a demo order through these statuses, starting from New (no graph watches it)."""
    for status in ("NEW", *statuses):
        set_status(db, "orders", key, status)


def test_a_second_event_in_the_same_batch_sees_the_run_the_first_started(
    db: Database, clock
) -> None:
    shop(db, clock)
    g = Builder("Chase processing orders unless they move on")
    g.line(
        g.node("trigger.status_entered", codes=["PRC"]),
        g.node("wait.duration", duration={"amount": 1, "unit": "hours"}, skip_if_changed="status"),
        g.node("action.add_note", note="Still processing."),
    )
    publish(db, g.document(), clock)
    worker = engine(db, clock)
    move(db, 3, "PRC", "SHP")  # the events are claimed in one batch

    worker.run_until_idle()

    assert run_states(db) == [("3", "cancelled")]
    assert timeline(db, "3")[-1] == (
        "Cancelled: Status changed from PRC to SHP, so the remaining steps were not executed"
    )


def test_parallel_branches_of_one_run_each_see_the_other_branchs_write(db: Database, clock) -> None:
    shop(db, clock)
    g = Builder("Two marks on shipping")
    start = g.node("trigger.status_entered", codes=["SHP"])
    for mark in ("a", "b"):
        g.link(
            start,
            g.node(
                "action.set_field", field="customer_name", value=f"{{{{ customer_name }}}}+{mark}"
            ),
        )
    publish(db, g.document(), clock)
    worker = engine(db, clock)
    with as_host(db) as conn:
        name = conn.execute(text("SELECT customer_name FROM orders WHERE id = 6")).scalar_one()
    move(db, 6, "SHP")

    worker.run_until_idle()

    with as_host(db) as conn:
        marked = conn.execute(text("SELECT customer_name FROM orders WHERE id = 6")).scalar_one()
    assert marked in (f"{name}+a+b", f"{name}+b+a")
    assert run_states(db) == [("6", "succeeded")]


def test_a_failing_step_is_recorded_and_the_rest_of_its_batch_commits(db: Database, clock) -> None:
    shop(db, clock)
    broken = Builder("Blank the name on processing")  # customer_name may not be empty
    broken.line(
        broken.node("trigger.status_entered", codes=["PRC"]),
        broken.node("action.set_field", field="customer_name", value=""),
    )
    publish(db, broken.document(), clock)
    fine = Builder("Note shipping")
    fine.line(
        fine.node("trigger.status_entered", codes=["SHP"]),
        fine.node("action.add_note", note="Shipped."),
    )
    publish(db, fine.document(), clock)
    worker = engine(db, clock)
    move(db, 1, "PRC")
    for key in (2, 4):
        move(db, key, "SHP")

    worker.run_until_idle()

    assert sorted(run_states(db)) == [("1", "active"), ("2", "succeeded"), ("4", "succeeded")]
    retry = timeline(db, "1")[-1]
    assert retry.startswith("This step hit an unexpected error (the database refused the change")
    assert "customer_name" in retry and "it is tried again at" in retry
    assert "SELECT" not in retry and "UPDATE" not in retry  # no SQL in front of a person


def test_a_burst_costs_a_few_statements_per_event(db: Database) -> None:
    install_tickets(db, 200)
    publish_marking_graph(db)
    worker = engine(db, ManualClock())
    with as_host(db) as conn:
        conn.execute(text("UPDATE tickets SET status = 'OPN'"))
    sent: Counter[str] = Counter()
    event.listen(db.engine, "before_cursor_execute", lambda *_: sent.update(["statement"]))

    worker.run_until_idle()

    assert trails(db) == {"x": 200}
    # trigger → rules → set field: the record write and its run stamp are per event,
    # everything else per batch (it was 32 statements per event, one row at a time)
    assert sent["statement"] / 200 < 5
