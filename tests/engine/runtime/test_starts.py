"""Runs started by hand and on a schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.clock import ManualClock
from engine.errors import StatusFlowError
from engine.runtime.engine import Engine
from engine.runtime.starts import cron_trigger, start_manual
from engine.storage.database import Database
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import engine, publish, run_states, set_status, shop, timeline

MONDAY_0759 = datetime(2026, 1, 5, 7, 59, tzinfo=UTC)  # 5 January 2026 is a Monday


def test_crontab_weekdays_mean_what_people_mean() -> None:
    weekdays = cron_trigger("0 8 * * 1-5")
    fires = []
    moment = datetime(2026, 1, 3, 0, 0, tzinfo=UTC)  # a Saturday
    for _ in range(6):
        moment = weekdays.get_next_fire_time(None, moment + timedelta(seconds=1))
        fires.append(moment.strftime("%a %H:%M"))
    assert fires == ["Mon 08:00", "Tue 08:00", "Wed 08:00", "Thu 08:00", "Fri 08:00", "Mon 08:00"]
    sunday = cron_trigger("30 9 * * 0").get_next_fire_time(None, MONDAY_0759)
    assert sunday.strftime("%a %H:%M") == "Sun 09:30"


def test_manual_start_runs_the_current_version(db: Database) -> None:
    clock = ManualClock(MONDAY_0759)
    shop(db, clock)
    g = Builder("Call the customer")
    g.line(g.node("trigger.manual"), g.node("action.add_note", note="Call {{ customer_name }}."))
    publish(db, g.document(), clock)
    worker = engine(db, clock)

    run_id = start_manual(db, "Call the customer", "orders", "42", actor="olga", clock=clock)
    worker.run_until_idle()

    assert run_states(db) == [("42", "succeeded")]
    assert timeline(db, "42")[0].startswith("Started by hand by olga: started 'Call the customer'")
    assert len(run_id) == 36
    with pytest.raises(StatusFlowError, match="no record orders:4242"):
        start_manual(db, "Call the customer", "orders", "4242", actor="olga", clock=clock)
    with pytest.raises(StatusFlowError, match="works on orders records, not customers"):
        start_manual(db, "Call the customer", "customers", "1", actor="olga", clock=clock)
    with pytest.raises(StatusFlowError, match="no published version"):
        start_manual(db, "Delivered → confirmation email", "orders", "1", actor="olga")


def scheduled(min_age: dict | None = None) -> dict:
    g = Builder("Weekday reminder for stuck orders")
    params = {"cron": "0 8 * * 1-5", "in_status": ["SNA"]}
    if min_age:
        params["min_age"] = min_age
    g.line(g.node("trigger.schedule", **params), g.node("action.add_note", note="Still stuck."))
    return g.document()


def test_a_schedule_fires_once_for_each_record_in_the_status(db: Database) -> None:
    clock = ManualClock(MONDAY_0759)
    shop(db, clock)
    publish(db, scheduled(), clock)
    first, second = engine(db, clock), None
    if db.is_postgresql:  # two engines look at the same schedule
        second = Engine(db, clock=clock)
    first.run_until_idle()
    assert run_states(db) == []
    clock.advance(timedelta(minutes=1))
    first.run_until_idle()
    if second is not None:
        second.run_until_idle()
    stuck = [key for key, _ in run_states(db)]
    assert stuck, "the demo has orders waiting for a salesperson"
    assert len(stuck) == len(set(stuck))  # each record once, whatever the engine count
    clock.advance(timedelta(hours=3))
    first.run_until_idle()
    assert len(run_states(db)) == len(stuck)  # not again before tomorrow 08:00


def test_a_schedule_only_takes_records_long_enough_in_the_status(db: Database) -> None:
    clock = ManualClock(MONDAY_0759 - timedelta(days=3))
    shop(db, clock)
    publish(db, scheduled(min_age={"amount": 2, "unit": "days"}), clock)
    worker = engine(db, clock)
    set_status(db, "orders", 1, "PRC")
    set_status(db, "orders", 1, "SNA")  # this one entered SNA three days before
    worker.run_until_idle()
    clock.set(MONDAY_0759)
    set_status(db, "orders", 2, "PRC")
    set_status(db, "orders", 2, "SNA")  # and this one a minute before 08:00
    worker.run_until_idle()
    clock.advance(timedelta(minutes=1))
    worker.run_until_idle()
    keys = {key for key, _ in run_states(db)}
    assert "1" in keys and "2" not in keys


def test_after_downtime_a_missed_firing_runs_once_within_the_grace(db: Database) -> None:
    clock = ManualClock(MONDAY_0759 + timedelta(minutes=30))  # engine starts at 08:29
    shop(db, clock)
    publish(db, scheduled(), clock)
    worker = engine(db, clock)
    worker.run_until_idle()
    started = len(run_states(db))
    assert started > 0  # 08:00 was missed by 29 minutes: within the default hour of grace
    clock.advance(timedelta(minutes=5))
    worker.run_until_idle()
    assert len(run_states(db)) == started
