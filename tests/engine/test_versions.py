"""Version lifecycle: submit, four-eyes review, publish, rollback, disable."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.clock import ManualClock
from engine.errors import StatusFlowError
from engine.governance import versions
from engine.graphs import load_draft, save_draft
from engine.storage.database import Database
from engine.storage.tables import audit_entries, runs
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import engine, publish, run_states, set_status, shop


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def waiting_note(name: str, note: str) -> dict:
    g = Builder(name)
    g.line(
        g.node("trigger.status_entered", codes=["SHP"]),
        g.node("wait.duration", duration={"amount": 1, "unit": "hours"}),
        g.node("action.add_note", note=note),
    )
    return g.document()


def test_numbers_and_four_eyes(db: Database, clock) -> None:
    shop(db, clock)
    v1 = versions.submit(db, "Delivered → confirmation email", actor="ana", clock=clock)
    assert (v1.label, v1.state) == ("V1.0", "in_review")
    with pytest.raises(StatusFlowError, match="someone else must approve it"):
        versions.approve(db, v1.id, actor="ana", clock=clock)
    with pytest.raises(StatusFlowError, match="only an approved version"):
        versions.publish(db, v1.id, actor="ben", clock=clock)
    versions.approve(db, v1.id, actor="ben", clock=clock)
    versions.publish(db, v1.id, actor="ben", clock=clock)
    assert versions.submit(db, "Delivered → confirmation email", actor="ana").label == "V1.1"
    assert versions.submit(db, "Delivered → confirmation email", actor="ana", major=True).label == (
        "V2.0"
    )
    with db.read() as conn:
        actions = conn.execute(select(audit_entries.c.action, audit_entries.c.actor)).all()
    assert ("graph.publish", "ben") in actions


def test_a_graph_with_errors_cannot_be_submitted(db: Database, clock) -> None:
    shop(db, clock)
    with db.read() as conn:
        draft = load_draft(conn, versions.find_graph(conn, "Delivered → confirmation email").id)
    email = next(n for n in draft.nodes if n.type == "action.send_email")
    broken = draft.with_params(email.id, {**email.params, "subject": ""})
    save_draft(db, draft.id, broken.to_document(), actor="ana")
    with pytest.raises(StatusFlowError, match="cannot be submitted while it has problems"):
        versions.submit(db, "Delivered → confirmation email", actor="ana")


def test_rollback_new_runs_use_the_old_version_running_ones_finish(db: Database, clock) -> None:
    shop(db, clock)
    publish(db, waiting_note("Shipped note", "first wording"), clock)
    with db.read() as conn:
        graph_id = versions.find_graph(conn, "Shipped note").id
        draft = load_draft(conn, graph_id)
    note = next(n for n in draft.nodes if n.type == "action.add_note")
    save_draft(
        db,
        graph_id,
        draft.with_params(note.id, {"note": "second wording"}).to_document(),
        actor="ana",
    )
    publish(db, "Shipped note", clock)  # V1.1
    worker = engine(db, clock)
    set_status(db, "orders", 21, "SHP")
    worker.run_until_idle()  # a V1.1 run is waiting

    report = versions.rollback(db, "Shipped note", "V1.0", actor="ben", clock=clock)
    assert report.version.label == "V1.0"
    assert report.active_runs == {"V1.1": 1}
    set_status(db, "orders", 22, "SHP")
    worker.run_until_idle()
    clock.advance(timedelta(hours=1))
    worker.run_until_idle()

    with db.read() as conn:
        by_record = {
            r.record_key: versions.get_version(conn, r.version_id).label
            for r in conn.execute(select(runs))
        }
        audited = (
            conn.execute(
                select(audit_entries.c.summary).where(audit_entries.c.action == "graph.rollback")
            )
            .scalars()
            .all()
        )
    assert by_record == {"21": "V1.1", "22": "V1.0"}
    assert audited == ["Rolled back 'Shipped note' to V1.0"]
    assert {state for _, state in run_states(db)} == {"succeeded"}


def test_disable_stops_new_runs_and_may_cancel_running_ones(db: Database, clock) -> None:
    shop(db, clock)
    publish(db, waiting_note("Shipped note", "x"), clock)
    worker = engine(db, clock)
    set_status(db, "orders", 21, "SHP")
    worker.run_until_idle()

    cancelled = versions.set_enabled(
        db, "Shipped note", False, actor="ben", cancel_running=True, clock=clock
    )
    set_status(db, "orders", 22, "SHP")
    worker.run_until_idle()
    assert cancelled == 1
    assert run_states(db) == [("21", "cancelled")]

    versions.set_enabled(db, "Shipped note", True, actor="ben", clock=clock)
    set_status(db, "orders", 23, "SHP")
    worker.run_until_idle()
    assert ("23", "active") in run_states(db)
