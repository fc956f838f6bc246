"""Approvals and manual compensation: the run waits for people, then goes on."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.clock import ManualClock
from engine.errors import StatusFlowError
from engine.runtime import tasks as task_service
from engine.storage.database import Database
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


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def proposal_graph() -> dict:
    g = Builder("Proposal confirmation → approvals")
    start = g.node("trigger.status_entered", codes=["PRC"])
    ask = g.node(
        "human.approval",
        approvals=["Price approval", "Legal review"],
        documents=["Signed quote", "Credit check"],
        assignee_role="publisher",
    )
    go = g.node("action.set_status", code="SHP")
    stop = g.node("action.add_note", note="Proposal for {{ customer_name }} was rejected.")
    g.line(start, ask)
    g.link(ask, go, "approved")
    g.link(ask, stop, "rejected")
    return g.document()


def test_both_approvals_let_the_run_continue(db: Database, clock) -> None:
    shop(db, clock)
    publish(db, proposal_graph(), clock)
    worker = engine(db, clock)
    set_status(db, "orders", 5, "PRC")
    worker.run_until_idle()

    price, legal = open_tasks(db)
    assert price.title == "Price approval for orders 5"
    assert legal.title == "Legal review for orders 5"
    assert price.checklist == ["Signed quote", "Credit check"]
    assert price.assignee_role == "publisher"

    for document in price.checklist:
        task_service.tick_document(db, price.id, document, actor="carla", clock=clock)
    task_service.decide(db, price.id, "approve", actor="carla", clock=clock)
    worker.run_until_idle()
    assert run_states(db) == [("5", "active")]  # still waiting for legal
    task_service.decide(
        db, legal.id, "approve", actor="dan", comment="ok", unticked_reason="seen by carla",
        clock=clock,
    )  # fmt: skip
    worker.run_until_idle()

    states = run_states(db)
    assert ("5", "succeeded") in states
    assert "All approvals given: took the 'Approved' branch." in timeline(db, "5")
    assert any("Set the status from PRC to SHP" in s for s in timeline(db, "5"))


def test_one_rejection_takes_the_reject_branch(db: Database, clock) -> None:
    shop(db, clock)
    publish(db, proposal_graph(), clock)
    worker = engine(db, clock)
    set_status(db, "orders", 5, "PRC")
    worker.run_until_idle()
    price, legal = open_tasks(db)

    task_service.decide(db, legal.id, "reject", actor="dan", comment="clause 4", clock=clock)
    worker.run_until_idle()

    steps = timeline(db, "5")
    assert "'Legal review for orders 5' was rejected by dan: took the 'Rejected' branch." in steps
    assert any(s.endswith("was rejected.") for s in steps)
    assert run_states(db) == [("5", "succeeded")]
    assert open_tasks(db) == []  # the price approval is no longer asked for
    with pytest.raises(StatusFlowError, match="already cancelled"):
        task_service.decide(db, price.id, "approve", actor="carla", clock=clock)


def test_a_failing_webhook_becomes_a_manual_task(db: Database, clock, http_server) -> None:
    shop(db, clock)
    g = Builder("Delivered → tell the warehouse")
    start = g.node("trigger.status_entered", codes=["DEL"])
    hook = g.node(
        "action.webhook",
        url=http_server.url("/warehouse"),
        body='{"order": "{{ record_key }}", "customer": "{{ customer_name }}"}',
        retry_backoff={"amount": 10, "unit": "seconds"},
    )
    note = g.node("action.add_note", note="Warehouse informed.")
    g.line(start, hook, note)
    publish(db, g.document(), clock)
    worker = engine(db, clock)
    for _ in range(3):
        http_server.respond(500, {"error": "warehouse down"})

    set_status(db, "orders", 9, "DEL")
    for _ in range(3):
        worker.run_until_idle()
        clock.advance(timedelta(minutes=5))

    assert len(http_server.requests) == 3
    keys = {r.headers["Idempotency-Key"] for r in http_server.requests}
    assert len(keys) == 1  # every retry carries the same key
    [task] = open_tasks(db)
    assert task.kind == "compensation"
    assert task.title.startswith("Please do by hand: the call POST")
    assert task.context["error_class"] == "http_5xx"
    assert task.context["record"]["id"] == 9
    steps = timeline(db, "9")
    assert sum("Attempt" in s and "failed" in s for s in steps) == 2
    assert run_states(db) == [("9", "active")]

    task_service.decide(db, task.id, "done", actor="olga", comment="called them", clock=clock)
    worker.run_until_idle()

    assert run_states(db) == [("9", "succeeded_compensated")]
    steps = timeline(db, "9")
    assert "Warehouse informed." in steps
    assert steps[-1] == "Succeeded (human compensation)"


def test_abandoning_the_manual_task_fails_the_run(db: Database, clock, http_server) -> None:
    shop(db, clock)
    g = Builder("Delivered → webhook, no retries")
    start = g.node("trigger.status_entered", codes=["DEL"])
    hook = g.node("action.webhook", url=http_server.url(), retry_attempts=1)
    g.line(start, hook)
    publish(db, g.document(), clock)
    worker = engine(db, clock)
    http_server.respond(404, "no such hook")

    set_status(db, "orders", 9, "DEL")
    worker.run_until_idle()
    [task] = open_tasks(db)
    task_service.decide(
        db, task.id, "abandon", actor="olga", comment="customer cancelled", clock=clock
    )
    worker.run_until_idle()

    assert run_states(db) == [("9", "failed")]
    assert timeline(db, "9")[-1] == "Failed: olga abandoned the manual task (customer cancelled)"
