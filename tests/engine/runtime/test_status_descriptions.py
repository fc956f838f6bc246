"""A status code's description changed by an admin shows in running automations at
once: no publish, no engine restart."""

from __future__ import annotations

from datetime import timedelta

from engine.clock import ManualClock
from engine.sources import status_codes
from engine.storage.database import Database
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import AUTHOR, engine, publish, set_status, shop, timeline


def describe_later() -> dict:
    """In progress → wait an hour → a note naming the status, then set it to Shipped."""
    g = Builder("In progress → note the status an hour later")
    g.line(
        g.node("trigger.status_entered", codes=["PRC"]),
        g.node("action.add_note", note="Now: {{ status_description }}"),
        g.node("wait.duration", duration={"amount": 1, "unit": "hours"}),
        g.node("action.add_note", note="An hour later: {{ status_description }}"),
        g.node("action.set_status", code="SHP"),
    )
    return g.document()


def rename(db: Database, code: str, description: str) -> None:
    """What an admin does in the status code editor: the same codes, one new wording."""
    codes = status_codes.list_codes(db, "orders")
    changed = [(c.code, description if c.code == code else c.description) for c in codes]
    status_codes.set_codes(db, "orders", changed, actor=AUTHOR)


def test_a_new_description_shows_in_a_waiting_run_without_a_publish(db: Database) -> None:
    clock = ManualClock()
    shop(db, clock)
    publish(db, describe_later(), clock)
    worker = engine(db, clock)
    set_status(db, "orders", 5, "PRC")
    worker.run_until_idle()

    rename(db, "PRC", "Being packed")
    rename(db, "SHP", "Handed to the courier")
    worker.heartbeat()  # every few seconds: the engine notices the new catalogue
    clock.advance(timedelta(hours=1, minutes=1))
    worker.run_until_idle()

    steps = timeline(db, "5")
    assert "Now: In progress" in steps
    assert "An hour later: Being packed" in steps
    assert "Set the status from PRC to SHP – Handed to the courier." in steps


def test_an_unchanged_catalogue_is_not_read_again(db: Database, monkeypatch) -> None:
    clock = ManualClock()
    shop(db, clock)
    publish(db, describe_later(), clock)
    worker = engine(db, clock)
    reads: list[str] = []
    real = status_codes.list_codes

    def counted(conn, source_name):  # type: ignore[no-untyped-def]
        reads.append(source_name)
        return real(conn, source_name)

    monkeypatch.setattr("engine.runtime.services.list_codes", counted)
    set_status(db, "orders", 5, "PRC")
    worker.run_until_idle()
    clock.advance(timedelta(hours=2))
    worker.run_until_idle()

    assert "Set the status from PRC to SHP – Shipped." in timeline(db, "5")
    assert reads == ["orders"]  # five steps, one read of the catalogue
