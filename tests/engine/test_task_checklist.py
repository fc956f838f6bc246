"""An approval's checklist: ticks are saved with who and when, and approving without
them needs a reason, which the audit log and the run's timeline keep."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from engine.clock import ManualClock
from engine.errors import StatusFlowError
from engine.governance import audit_log, users
from engine.permissions import PermissionDenied
from engine.runtime import tasks as task_service
from engine.storage.database import Database
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import engine, open_tasks, publish, set_status, shop, timeline

DOCUMENTS = ["Signed quote", "Credit check"]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def approval(db: Database, clock: ManualClock) -> int:
    with db.write() as conn:
        return task_service.create_task(
            conn, kind="approval", title="Price approval for orders 5", checklist=DOCUMENTS,
            context={"record_key": "5"}, clock=clock,
        )  # fmt: skip


def read(db: Database, task_id: int) -> task_service.TaskInfo:
    with db.read() as conn:
        return task_service.get_task(conn, task_id)


def audit_of(db: Database, task_id: int) -> list[audit_log.AuditEntry]:
    with db.read() as conn:
        return audit_log.query(conn, object_type="task", object_id=str(task_id))[::-1]


def test_a_tick_is_saved_with_who_and_when_and_can_be_taken_back(db: Database, clock) -> None:
    task_id = approval(db, clock)

    ticked = task_service.tick_document(db, task_id, "Signed quote", actor="carla", clock=clock)
    clock.advance(timedelta(minutes=3))
    task_service.tick_document(db, task_id, " credit CHECK ", actor="dan", clock=clock)

    task = read(db, task_id)
    assert ticked.ticks["Signed quote"].by == "carla"
    assert {name: (t.by, t.at) for name, t in task.ticks.items()} == {
        "Signed quote": ("carla", clock.now() - timedelta(minutes=3)),
        "Credit check": ("dan", clock.now()),
    }
    assert task.unticked == []
    assert task.context == {"record_key": "5"}  # what the task is about is untouched

    task_service.tick_document(db, task_id, "Signed quote", ticked=False, actor="dan", clock=clock)

    assert read(db, task_id).unticked == ["Signed quote"]
    assert [(e.action, e.summary, e.after) for e in audit_of(db, task_id)] == [
        ("task.tick", "carla ticked 'Signed quote' on the approval 'Price approval for "
         "orders 5'", {"ticked": ["Signed quote"]}),
        ("task.tick", "dan ticked 'Credit check' on the approval 'Price approval for "
         "orders 5'", {"ticked": ["Credit check", "Signed quote"]}),
        ("task.untick", "dan unticked 'Signed quote' on the approval 'Price approval for "
         "orders 5'", {"ticked": ["Credit check"]}),
    ]  # fmt: skip


def test_ticking_twice_keeps_the_first_tick_and_writes_no_audit(db: Database, clock) -> None:
    task_id = approval(db, clock)
    task_service.tick_document(db, task_id, "Signed quote", actor="carla", clock=clock)

    again = task_service.tick_document(db, task_id, "Signed quote", actor="dan", clock=clock)
    task_service.tick_document(db, task_id, "Credit check", ticked=False, actor="dan", clock=clock)

    assert again.ticks["Signed quote"].by == "carla"
    assert len(audit_of(db, task_id)) == 1


def test_ticks_are_refused_in_words(db: Database, clock) -> None:
    task_id = approval(db, clock)
    with db.write() as conn:
        bare = task_service.create_task(conn, kind="approval", title="No papers", clock=clock)

    listed = "no document 'Invoice' on its checklist. Its documents are: 'Signed quote', 'Credit"
    with pytest.raises(StatusFlowError, match=re.escape(listed)):
        task_service.tick_document(db, task_id, "Invoice", actor="carla", clock=clock)
    with pytest.raises(StatusFlowError, match="has no checklist, so there is nothing to tick"):
        task_service.tick_document(db, bare, "Invoice", actor="carla", clock=clock)
    task_service.decide(db, task_id, "reject", actor="dan", comment="too cheap", clock=clock)
    with pytest.raises(StatusFlowError, match=r"already rejected \(by dan\); nothing was changed"):
        task_service.tick_document(db, task_id, "Signed quote", actor="carla", clock=clock)
    assert read(db, task_id).ticks == {}


def test_only_people_who_may_work_tasks_tick(db: Database, clock) -> None:
    task_id = approval(db, clock)
    users.add_user(db, "root", display_name="Root", roles=["admin"], actor="root")
    users.add_user(db, "olga", display_name="Olga", roles=["operator"], actor="root")

    with pytest.raises(PermissionDenied, match="no StatusFlow user 'mallory'"):
        task_service.tick_document(db, task_id, "Signed quote", actor="mallory", clock=clock)
    task_service.tick_document(db, task_id, "Signed quote", actor="olga", clock=clock)

    assert list(read(db, task_id).ticks) == ["Signed quote"]


def test_approving_with_documents_unticked_gives_a_reason_and_says_which(
    db: Database, clock
) -> None:
    shop(db, clock)
    g = Builder("Proposal → price approval")
    ask = g.node("human.approval", approvals=["Price approval"], documents=DOCUMENTS)
    g.line(g.node("trigger.status_entered", codes=["PRC"]), ask)
    g.link(ask, g.node("action.set_status", code="SHP"), "approved")
    publish(db, g.document(), clock)
    worker = engine(db, clock)
    set_status(db, "orders", 5, "PRC")
    worker.run_until_idle()
    [row] = open_tasks(db)

    task_service.tick_document(db, row.id, "Credit check", actor="carla", clock=clock)
    task_service.decide(
        db, row.id, "approve", actor="carla", comment="ok", unticked_reason="seen by fax",
        clock=clock,
    )  # fmt: skip
    worker.run_until_idle()

    assert (
        "carla marked 'Price approval for orders 5' approved without ticking 'Signed quote' "
        "(reason: seen by fax) (ok)."
    ) in timeline(db, "5")
    decision = audit_of(db, row.id)[-1]
    assert decision.summary == (
        "carla marked the approval 'Price approval for orders 5' approved without ticking "
        "'Signed quote' (reason: seen by fax): ok"
    )
    assert decision.after == {
        "state": "approved",
        "unticked": ["Signed quote"],
        "unticked_reason": "seen by fax",
    }
    assert any("Set the status from PRC to SHP" in step for step in timeline(db, "5"))


def test_a_rejection_does_not_list_unticked_documents(db: Database, clock) -> None:
    task_id = approval(db, clock)

    task_service.decide(db, task_id, "reject", actor="dan", comment="too cheap", clock=clock)

    assert audit_of(db, task_id)[-1].after == {"state": "rejected"}
