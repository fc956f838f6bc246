"""``statusflow task``: the task inbox as an operator or approver works it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.clock import ManualClock
from engine.runtime import tasks as task_service
from engine.storage.database import Database
from engine.storage.tables import runs as run_table
from tests.app.conftest import Statusflow, member
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import engine, open_tasks, publish, set_status, shop, timeline


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.now(UTC))  # decisions typed at the prompt happen now


def approval_graph() -> dict:
    g = Builder("In progress → price approval")
    ask = g.node(
        "human.approval",
        approvals=["Price approval"],
        documents=["Signed quote"],
        assignee_role="publisher",
    )
    g.line(g.node("trigger.status_entered", codes=["PRC"]), ask)
    g.link(ask, g.node("action.set_status", code="SHP"), "approved")
    return g.document()


def waiting_for_approval(db: Database, clock: ManualClock):  # type: ignore[no-untyped-def]
    shop(db, clock)
    publish(db, approval_graph(), clock)
    worker = engine(db, clock)
    set_status(db, "orders", 5, "PRC")
    worker.run_until_idle()
    [approval] = open_tasks(db)
    return worker, approval


def test_approving_from_the_command_line_lets_the_run_go_on(
    db: Database, clock, statusflow: Statusflow
) -> None:
    worker, approval = waiting_for_approval(db, clock)

    code, out, err = statusflow(
        "--as", "carla", "task", "approve", str(approval.id), "--comment", "ok",
        "--unticked-reason", "seen by fax",
    )  # fmt: skip
    clock.advance(timedelta(seconds=5))
    worker.run_until_idle()

    assert (code, err) == (0, "")
    assert out == f"Task {approval.id} approved. The run continues when the engine next runs.\n"
    with db.read() as conn:
        assert conn.execute(select(run_table.c.state)).scalar_one() == "succeeded"
    assert (
        "carla marked 'Price approval for orders 5' approved without ticking 'Signed quote' "
        "(reason: seen by fax) (ok)."
    ) in timeline(db, "5")
    assert any("Set the status from PRC to SHP" in step for step in timeline(db, "5"))


def test_show_gives_an_approver_what_they_need(db: Database, clock, statusflow) -> None:
    _, approval = waiting_for_approval(db, clock)

    code, out, _ = statusflow("task", "show", str(approval.id))

    due = f"{approval.due_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    assert code == 0
    assert out == (
        f"Task {approval.id} (approval, open): Price approval for orders 5\n"
        f"Assigned to role publisher; due: {due}\n"
        "\n"
        "Approve or reject: Price approval.\n"
        "\n"
        "Checklist:\n"
        "  [ ] Signed quote\n"
        "\n"
        f"Decide with 'statusflow task approve {approval.id}' or "
        f"'statusflow task reject {approval.id}'.\n"
    )


def test_ticking_a_document_is_saved_and_shown(db: Database, clock, statusflow) -> None:
    _, approval = waiting_for_approval(db, clock)

    code, out, err = statusflow("--as", "carla", "task", "tick", str(approval.id), "signed QUOTE")
    shown = statusflow("task", "show", str(approval.id))[1].splitlines()

    with db.read() as conn:
        at = task_service.get_task(conn, approval.id).ticks["Signed quote"].at
    ticked = f"  [x] Signed quote  (ticked by carla on {at.astimezone(UTC):%Y-%m-%d %H:%M} UTC)"
    assert (code, err) == (0, "")
    assert out == f"Task {approval.id} checklist (1 of 1 ticked):\n{ticked}\n"
    assert shown[shown.index("Checklist:") + 1] == ticked

    untick = statusflow("task", "tick", str(approval.id), "Signed quote", "--untick")[1]
    assert untick.splitlines() == [
        f"Task {approval.id} checklist (0 of 1 ticked):",
        "  [ ] Signed quote",
    ]


def test_ticking_a_document_not_on_the_checklist_is_one_clear_line(
    db: Database, clock, statusflow
) -> None:
    _, approval = waiting_for_approval(db, clock)

    assert statusflow("task", "tick", str(approval.id), "Invoice") == (
        2,
        "",
        f"statusflow: Task {approval.id} has no document 'Invoice' on its checklist. "
        "Its documents are: 'Signed quote'.\n",
    )


def test_show_of_a_manual_task_gives_the_error_and_the_record(
    db: Database, clock, http_server, statusflow
) -> None:
    shop(db, clock)
    g = Builder("Delivered → tell the warehouse")
    g.line(
        g.node("trigger.status_entered", codes=["DEL"]),
        g.node("action.webhook", url=http_server.url("/warehouse"), retry_attempts=1),
    )
    publish(db, g.document(), clock)
    http_server.respond(404, "no such hook")
    set_status(db, "orders", 9, "DEL")
    engine(db, clock).run_until_idle()
    [manual] = open_tasks(db)

    lines = statusflow("task", "show", str(manual.id))[1].splitlines()

    assert lines[0].startswith(f"Task {manual.id} (manual task, open): Please do by hand: ")
    assert any(line.startswith("What went wrong: ") and "404" in line for line in lines)
    assert "  customer_name: Jonas Ekström" in lines
    assert lines[-1] == (
        f"Decide with 'statusflow task done {manual.id}' or 'statusflow task abandon {manual.id}'."
    )


def test_list_shows_open_tasks_marks_overdue_ones_and_filters_mine(
    db: Database, clock, statusflow
) -> None:
    now = datetime.now(UTC)
    member(db, "root", "admin")
    member(db, "sam", "operator")
    with db.write() as conn:
        late = task_service.create_task(
            conn, kind="follow_up", title="Call Anna Costa back", assignee_role="operator",
            due_at=now - timedelta(days=1), clock=clock,
        )  # fmt: skip
        soon = task_service.create_task(
            conn, kind="alert", title="Check the stock", assignee_user="tom",
            due_at=now + timedelta(days=1), clock=clock,
        )  # fmt: skip
        done = task_service.create_task(conn, kind="alert", title="Old alert", clock=clock)
    task_service.decide(db, done, "done", actor="sam")

    everyone = statusflow("task", "list")[1].splitlines()
    mine = statusflow("--as", "sam", "task", "list", "--mine")[1].splitlines()
    history = statusflow("task", "list", "--all")[1]

    assert len(everyone) == 2
    assert everyone[0].startswith(
        f"{late:>5}  follow-up task  Call Anna Costa back  — role operator"
    )
    assert everyone[0].endswith("  OVERDUE")
    assert everyone[1].startswith(f"{soon:>5}  alert           Check the stock  — tom, ")
    assert "OVERDUE" not in everyone[1]
    assert mine == [everyone[0]]
    assert "Old alert  — anyone, no due time  [done]" in history


def test_a_wrong_task_id_is_one_clear_line(db: Database, clock, statusflow) -> None:
    assert statusflow("task", "approve", "99") == (2, "", "statusflow: There is no task 99.\n")


def test_a_decision_the_task_does_not_allow_is_refused(db: Database, clock, statusflow) -> None:
    _, approval = waiting_for_approval(db, clock)

    code, out, err = statusflow("task", "done", str(approval.id))

    assert (code, out) == (2, "")
    assert err.startswith("statusflow: ") and err.count("\n") == 1
    assert "is an approval: use approve or reject, not 'done'." in err
    assert [t.state for t in open_tasks(db)] == ["open"]


def test_deciding_twice_says_who_decided_first(db: Database, clock, statusflow) -> None:
    _, approval = waiting_for_approval(db, clock)
    statusflow("--as", "carla", "task", "reject", str(approval.id), "--comment", "too cheap")

    assert statusflow("--as", "dan", "task", "approve", str(approval.id)) == (
        2,
        "",
        f"statusflow: Task {approval.id} is already rejected (by carla); nothing was changed.\n",
    )
