"""The engine's guarantees: loops stop, waits survive restarts, nothing runs twice."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update

from engine.clock import ManualClock
from engine.errors import StatusFlowError
from engine.runtime import leases
from engine.runtime.dispatch import Dispatcher
from engine.runtime.engine import Engine
from engine.storage.database import Database
from engine.storage.tables import audit_entries, engines, locks, runs, work_items
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import (
    engine,
    open_tasks,
    publish,
    run_states,
    set_status,
    shop,
    timeline,
)
from tests.host import stored


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def flip(name: str, when: str, then: str) -> dict:
    g = Builder(name)
    g.line(g.node("trigger.status_entered", codes=[when]), g.node("action.set_status", code=then))
    return g.document()


def test_two_graphs_that_feed_each_other_stop_at_the_depth_limit(db: Database, clock) -> None:
    shop(db, clock)
    publish(db, flip("A: on PRC set SHP", "PRC", "SHP"), clock)
    publish(db, flip("B: on SHP set PRC", "SHP", "PRC"), clock, override_loop="test the guard")
    worker = engine(db, clock)

    set_status(db, "orders", 4, "PRC")
    worker.run_until_idle()

    states = [state for _, state in run_states(db)]
    assert states.count("stopped_loop_guard") == 1
    assert states.count("succeeded") == 6  # depth 0..5 ran; link 6 was stopped
    [alert] = open_tasks(db)
    assert alert.kind == "alert" and alert.assignee_role == "admin"
    assert "chain of automations" in alert.instructions
    with db.read() as conn:
        audited = conn.execute(
            select(func.count()).where(audit_entries.c.action == "engine.loop_guard")
        ).scalar_one()
    assert audited == 1


def test_too_many_starts_per_hour_on_one_record_are_stopped(db: Database, clock) -> None:
    shop(db, clock)
    g = Builder("Note every change")
    g.line(
        g.node("trigger.status_entered", codes=["PRC", "NEW"]), g.node("action.add_note", note="x")
    )
    publish(db, g.document(), clock)
    worker = engine(db, clock)
    for n in range(12):
        set_status(db, "orders", 2, "PRC" if n % 2 == 0 else "NEW")
        worker.run_until_idle()
        clock.advance(timedelta(minutes=1))

    states = [state for _, state in run_states(db)]
    assert states.count("succeeded") == 10
    assert states.count("stopped_loop_guard") == 2
    assert "already started 10 times on this record in the last hour" in timeline(db, "2")[-1]


def test_waits_survive_a_restart_and_fire_once(db: Database, clock) -> None:
    shop(db, clock)
    g = Builder("Remind after a day")
    g.line(
        g.node("trigger.status_entered", codes=["SHP"]),
        g.node("wait.duration", duration={"amount": 1, "unit": "days"}),
        g.node("action.add_note", note="A day has passed for {{ record_key }}."),
    )
    publish(db, g.document(), clock)
    first = engine(db, clock)
    for key in (11, 12, 13):
        set_status(db, "orders", key, "SHP")
    first.run_until_idle()
    first.stop()  # the process ends; only rows remain
    del first

    clock.advance(timedelta(days=3))  # the engine was down for longer than the wait
    second = engine(db, clock)
    second.run_until_idle()
    second.run_until_idle()

    for key in ("11", "12", "13"):
        assert timeline(db, key).count(f"A day has passed for {key}.") == 1
    assert {state for _, state in run_states(db)} == {"succeeded"}


def test_a_second_engine_on_one_sqlite_file_is_refused(tmp_path, sqlite_template, clock) -> None:
    shutil.copy(sqlite_template, tmp_path / "one.db")
    db = Database(f"sqlite:///{tmp_path / 'one.db'}")
    first = engine(db, clock)
    with pytest.raises(StatusFlowError, match="only one may run per SQLite file"):
        Engine(db, clock=clock).start()
    first.stop()
    Engine(db, clock=clock).start()  # once the first has stopped, another may run


def test_an_engine_that_died_without_stopping_does_not_block_the_next(
    tmp_path, sqlite_template, clock
) -> None:
    shutil.copy(sqlite_template, tmp_path / "one.db")
    db = Database(f"sqlite:///{tmp_path / 'one.db'}")
    crashed = engine(db, clock)
    ended = subprocess.Popen(["true"])
    ended.wait()  # its process id no longer exists
    dead_pid = ended.pid
    with db.write() as conn:
        conn.execute(update(engines).where(engines.c.id == crashed.id).values(pid=dead_pid))
    successor = Engine(db, clock=clock)
    successor.start()  # the crashed one's lock is taken over at once

    with db.read() as conn:
        assert conn.execute(select(locks.c.owner)).scalars().all() == [successor.id]
    with pytest.raises(StatusFlowError, match="only one may run per SQLite file"):
        Engine(db, clock=clock).start()  # the successor now holds the one-engine lock


def test_an_expired_lease_is_taken_over_and_the_step_runs_once(db: Database, clock) -> None:
    shop(db, clock)
    g = Builder("Label on delivery")
    g.line(
        g.node("trigger.status_entered", codes=["DEL"]), g.node("action.apply_label", label="Done")
    )
    publish(db, g.document(), clock)
    crashed = engine(db, clock)
    set_status(db, "orders", 8, "DEL")
    crashed.ingest_events()
    with db.write() as conn:  # the first engine claims the step, then dies
        [claim] = leases.claim_due(conn, crashed.id, clock.now(), crashed.lease, 10)
    clock.advance(timedelta(minutes=1))

    rescuer = Engine(db, clock=clock, lease=timedelta(seconds=30))
    rescuer.run_until_idle()

    assert run_states(db) == [("8", "succeeded")]
    assert any("stopped answering" in s for s in timeline(db, "8"))
    with db.write() as conn:  # the dead engine wakes up late and tries to finish its step
        Dispatcher(db, crashed.services, clock).run_batch(conn, [claim], crashed.lease)
    with db.read() as conn:
        labels = conn.execute(
            text(
                f"SELECT count(*) FROM {stored(db, 'order_labels')} "
                "WHERE order_id = 8 AND label = 'Done'"
            )
        ).scalar_one()
        done = conn.execute(select(func.count()).where(work_items.c.state == "done")).scalar_one()
    assert labels == 1
    assert done == 1


def test_a_status_change_before_the_step_fires_cancels_it(db: Database, clock) -> None:
    shop(db, clock)
    g = Builder("Wait then label, unless changed")
    g.line(
        g.node("trigger.status_entered", codes=["SHP"]),
        g.node("wait.duration", duration={"amount": 2, "unit": "hours"}),
        g.node("action.apply_label", label="Late", skip_if_changed="status"),
    )
    publish(db, g.document(), clock)
    worker = engine(db, clock)
    set_status(db, "orders", 14, "SHP")
    worker.run_until_idle()
    set_status(db, "orders", 14, "DEL")  # the wait itself does not watch; the action does
    worker.run_until_idle()
    clock.advance(timedelta(hours=2))
    worker.run_until_idle()

    assert run_states(db) == [("14", "cancelled")]
    assert "Not executed: status changed from SHP to DEL since the run started." in timeline(
        db, "14"
    )
    with db.read() as conn:
        assert conn.execute(select(runs.c.outcome_reason)).scalar_one() == (
            "status changed from SHP to DEL since the run started"
        )
