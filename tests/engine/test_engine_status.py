"""What IT sees of the engines: who is alive, what is waiting, what went wrong lately."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.clock import ManualClock
from engine.runtime.status import engine_status
from engine.storage.database import Database
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import engine, publish, set_status, shop


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def status(db: Database, clock: ManualClock):  # type: ignore[no-untyped-def]
    with db.read() as conn:
        return engine_status(conn, clock.now())


def reminder(url: str) -> dict:
    g = Builder("Delivered → remind the warehouse tomorrow")
    g.line(
        g.node("trigger.status_entered", codes=["DEL"]),
        g.node("wait.duration", duration={"amount": 1, "unit": "days"}),
        g.node("action.webhook", url=url),
    )
    return g.document()


def test_an_engine_that_stops_beating_is_shown_as_not_answering(db: Database, clock) -> None:
    shop(db, clock)
    worker = engine(db, clock)

    [alive] = status(db, clock).engines
    clock.advance(timedelta(seconds=31))
    [silent] = status(db, clock).engines

    assert alive.id == worker.id and alive.alive and alive.stopped is None
    assert not silent.alive and silent.last_beat == alive.started


def test_a_stopped_engine_is_listed_as_stopped_for_an_hour(db: Database, clock) -> None:
    shop(db, clock)
    worker = engine(db, clock)
    clock.advance(timedelta(minutes=1))
    worker.stop()

    [stopped] = status(db, clock).engines
    clock.advance(timedelta(hours=1, seconds=1))

    assert stopped.stopped == clock.now() - timedelta(hours=1, seconds=1)
    assert not stopped.alive
    assert status(db, clock).engines == []


def test_events_and_work_no_engine_has_taken_are_counted(db: Database, clock, http_server) -> None:
    shop(db, clock)
    publish(db, reminder(http_server.url()), clock)
    worker = engine(db, clock)
    set_status(db, "orders", 7, "DEL")
    set_status(db, "orders", 9, "DEL")

    waiting = status(db, clock)
    worker.run_until_idle()
    clock.advance(timedelta(days=1, seconds=30))
    due = status(db, clock)
    clock.advance(timedelta(seconds=40))
    overdue = status(db, clock)

    assert (waiting.events_waiting, waiting.work_due) == (2, 0)
    assert (due.events_waiting, due.work_due, due.work_overdue) == (0, 2, 0)
    assert due.oldest_pending_due == clock.now() - timedelta(seconds=70)
    assert (overdue.work_due, overdue.work_overdue) == (2, 2)


def test_the_last_errors_say_which_record_and_step(db: Database, clock, http_server) -> None:
    shop(db, clock)
    publish(db, reminder(http_server.url()), clock)
    worker = engine(db, clock)
    http_server.respond(500, {"error": "warehouse down"})
    set_status(db, "orders", 7, "DEL")
    worker.run_until_idle()
    clock.advance(timedelta(days=1))
    worker.run_until_idle()

    [error] = status(db, clock).last_errors

    assert (error.record, error.step, error.error_class) == (
        "orders 7",
        "Call a web address",
        "http_5xx",
    )
    assert error.graph == "Delivered → remind the warehouse tomorrow"
    assert "HTTP 500" in error.error
    assert error.at == clock.now()
