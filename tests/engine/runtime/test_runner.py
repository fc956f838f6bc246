"""The long-running engine: background thread, NOTIFY wake-up, graceful stop."""

from __future__ import annotations

import time

from sqlalchemy import select

from engine.clock import SYSTEM_CLOCK
from engine.runtime import tasks as task_service
from engine.runtime.engine import Engine
from engine.runtime.scheduler import EngineRunner
from engine.storage.database import Database
from engine.storage.tables import engines
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import open_tasks, publish, run_states, set_status, shop


def wait_until(condition, timeout: float = 10.0) -> float:
    """Seconds it took for ``condition()`` to hold; fails after ``timeout``."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, "timed out"
        time.sleep(0.02)
    return time.monotonic() - started


def test_background_engine_reacts_to_a_status_change(db: Database) -> None:
    shop(db, SYSTEM_CLOCK)
    g = Builder("Note deliveries")
    g.line(g.node("trigger.status_entered", codes=["DEL"]), g.node("action.add_note", note="ok"))
    publish(db, g.document(), SYSTEM_CLOCK)
    # On PostgreSQL the poll is slow on purpose: only NOTIFY can wake the engine in time.
    runner = EngineRunner(Engine(db), poll_seconds=30.0 if db.is_postgresql else 0.2)
    runner.start_background()
    try:
        time.sleep(0.3)  # the first pump has run and found nothing
        set_status(db, "orders", 7, "DEL")
        took = wait_until(lambda: run_states(db) == [("7", "succeeded")])
    finally:
        runner.stop()
    assert took < 5.0
    with db.read() as conn:
        row = conn.execute(select(engines)).one()
    assert row.stopped_at is not None and row.last_beat_at is not None


def test_a_wait_fires_when_it_falls_due_not_at_the_next_poll(db: Database) -> None:
    shop(db, SYSTEM_CLOCK)
    g = Builder("Note two seconds after delivery")
    g.line(
        g.node("trigger.status_entered", codes=["DEL"]),
        g.node("wait.duration", duration={"amount": 2, "unit": "seconds"}),
        g.node("action.add_note", note="ok"),
    )
    publish(db, g.document(), SYSTEM_CLOCK)
    set_status(db, "orders", 7, "DEL")  # the first pump finds it; the next poll is far off
    runner = EngineRunner(Engine(db), poll_seconds=30.0)
    runner.start_background()
    try:
        took = wait_until(lambda: run_states(db) == [("7", "succeeded")])
    finally:
        runner.stop()
    assert took < 5.0


def test_a_decided_approval_resumes_its_run_at_once(db: Database) -> None:
    shop(db, SYSTEM_CLOCK)
    g = Builder("Approve deliveries")
    ask = g.node("human.approval", approvals=["Check"], assignee_role="publisher")
    g.line(g.node("trigger.status_entered", codes=["DEL"]), ask)
    g.link(ask, g.node("action.add_note", note="approved"), "approved")
    publish(db, g.document(), SYSTEM_CLOCK)
    # On PostgreSQL the poll is slow on purpose: only NOTIFY can wake the engine in time.
    runner = EngineRunner(Engine(db), poll_seconds=30.0 if db.is_postgresql else 0.2)
    runner.start_background()
    try:
        set_status(db, "orders", 7, "DEL")
        wait_until(lambda: len(open_tasks(db)) == 1)
        [check] = open_tasks(db)
        task_service.decide(db, check.id, "approve", actor="carla")
        took = wait_until(lambda: run_states(db) == [("7", "succeeded")])
    finally:
        runner.stop()
    assert took < 5.0
