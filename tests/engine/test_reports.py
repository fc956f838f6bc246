"""The process optimisation report, read from real runs of a shop's automations."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import text

from engine import reports
from engine.clock import ManualClock
from engine.runtime import tasks as task_service
from engine.storage.database import Database
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import engine, open_tasks, publish, set_status, shop
from tests.host import as_host
from tests.servers import HttpServer

WAREHOUSE = "Delivered → tell the warehouse"
LABELLED = "VIP → tell the warehouse"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def _webhook_graph(name: str, trigger: str, url: str, **trigger_params: object) -> dict:
    g = Builder(name)
    g.line(
        g.node(trigger, **trigger_params),
        g.node("action.webhook", url=url, retry_backoff={"amount": 10, "unit": "seconds"}),
    )
    return g.document()


def _flip(name: str, when: str, then: str) -> dict:
    g = Builder(name)
    g.line(g.node("trigger.status_entered", codes=[when]), g.node("action.set_status", code=then))
    return g.document()


def busy_shop(db: Database, clock: ManualClock, http_server: HttpServer) -> None:
    """A morning in the shop: order 9's webhook fails three times and a person does it
    by hand two hours later; order 7's fails once then succeeds; a VIP label is sent;
    two graphs setting each other's status are stopped by the loop guard."""
    shop(db, clock)
    publish(
        db,
        _webhook_graph(WAREHOUSE, "trigger.status_entered", http_server.url(), codes=["DEL"]),
        clock,
    )
    worker = engine(db, clock)
    for _ in range(3):
        http_server.respond(500, {"error": "warehouse down"})
    set_status(db, "orders", 9, "DEL")
    for _ in range(3):
        worker.run_until_idle()
        clock.advance(timedelta(minutes=5))
    clock.advance(timedelta(hours=2))
    [task] = open_tasks(db)
    task_service.decide(db, task.id, "done", actor="olga", comment="phoned them", clock=clock)
    http_server.respond(500, {"error": "warehouse down"})
    set_status(db, "orders", 7, "DEL")
    worker.run_until_idle()
    clock.advance(timedelta(minutes=1))
    worker.run_until_idle()
    publish(
        db, _webhook_graph(LABELLED, "trigger.label_applied", http_server.url(), label="VIP"), clock
    )
    with as_host(db) as conn:
        conn.execute(text("INSERT INTO order_labels (order_id, label) VALUES (3, 'VIP')"))
    publish(db, _flip("A: on PRC set SHP", "PRC", "SHP"), clock)
    publish(db, _flip("B: on SHP set PRC", "SHP", "PRC"), clock, override_loop="test the guard")
    set_status(db, "orders", 4, "PRC")
    worker.run_until_idle()


@pytest.fixture
def since(db: Database, clock: ManualClock, http_server: HttpServer):  # type: ignore[no-untyped-def]
    busy_shop(db, clock, http_server)
    return clock.now() - timedelta(days=7)


def test_failures_are_counted_per_step_with_the_error_in_words(
    db: Database, since, http_server
) -> None:
    with db.read() as conn:
        rows = reports.failures_by_node(conn, since)

    [warehouse] = rows
    assert warehouse.graph == WAREHOUSE
    assert warehouse.node_title == f"POST {http_server.url()}"
    assert (warehouse.action, warehouse.error_class) == ("Call a web address", "http_5xx")
    assert warehouse.error == "The web service had an error"
    assert (warehouse.failed_attempts, warehouse.gave_up) == (4, 1)  # 3 on order 9, 1 on 7


def test_failures_before_the_period_are_left_out(db: Database, clock, since) -> None:
    with db.read() as conn:
        assert reports.failures_by_node(conn, clock.now() + timedelta(seconds=1)) == []


def test_retries_that_helped_are_told_from_those_that_ended_with_a_person(
    db: Database, since
) -> None:
    with db.read() as conn:
        rate = reports.retry_success_rate(conn, since)

    assert rate == reports.RetryRate(
        needed_retry=2, succeeded_later=1, handed_to_person=1, failed=0, still_trying=0, stopped=0
    )
    assert rate.rate == 0.5


def test_manual_tasks_show_how_long_people_took(db: Database, since) -> None:
    with db.read() as conn:
        [row] = reports.interventions(conn, since)

    assert (row.graph, row.tasks, row.decided, row.still_open) == (WAREHOUSE, 1, 1, 0)
    assert row.median_time == row.max_time == timedelta(hours=2, minutes=5)


def test_loop_guard_stops_name_the_record_and_why(db: Database, since) -> None:
    with db.read() as conn:
        [stop] = reports.loop_stops(conn, since)

    assert (stop.source, stop.record_key) == ("orders", "4")
    assert "chain of automations" in stop.reason


def test_actions_per_week_split_by_what_started_them(db: Database, clock, since) -> None:
    with db.read() as conn:
        weeks = reports.actions_per_week(conn, 4, now=clock.now())

    assert [w.week for w in weeks] == [
        (clock.now() - timedelta(weeks=n)).date() for n in (3, 2, 1, 0)
    ]  # the clock starts on a Monday
    this_week = weeks[-1]
    # status: the webhook that worked on its second try, and the six "set status" steps
    # of the loop before the guard stopped it (record writes count as actions too)
    assert (this_week.status, this_week.label, this_week.other, this_week.total) == (7, 1, 0, 8)
    assert (this_week.change, this_week.change_percent) == (8, None)


def test_runs_are_counted_per_outcome_in_words(db: Database, since) -> None:
    with db.read() as conn:
        rows = reports.runs_by_outcome(conn, since)

    found = {row.outcome: row.runs for row in rows}
    assert found["Succeeded (human compensation)"] == 1
    assert found["Stopped by loop guard"] == 1
    assert found["Succeeded"] == 2 + 6  # orders 7 and 3; six links of the loop


def test_csv_export_has_a_header_and_readable_cells(db: Database, since) -> None:
    with db.read() as conn:
        rows = reports.interventions(conn, since)
    out = io.StringIO()

    reports.to_csv(rows, out)

    assert out.getvalue().splitlines() == [
        "graph,tasks,decided,still_open,median_time,max_time",
        f"{WAREHOUSE},1,1,0,7500,7500",
    ]


def test_an_empty_csv_export_still_has_its_header() -> None:
    out = io.StringIO()

    reports.to_csv([], out, reports.LoopStop)

    assert out.getvalue().strip() == "at,graph,source,record_key,reason"
