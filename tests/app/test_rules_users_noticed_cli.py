"""Rules users noticed (issue 10, item 4), as typed at the prompt: ``task reject`` needs a
comment, ``task approve`` with documents unticked needs a reason (then shown by ``task
show``), and ``graph versions`` names the author, the approver and the publisher."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from engine import graphs
from engine.clock import ManualClock
from engine.runtime.engine import Engine
from engine.storage.database import Database
from tests.app.conftest import Statusflow, member
from tests.engine.runtime.graphs import Builder, note_graph
from tests.engine.runtime.support import engine, open_tasks, publish, set_status, shop, timeline

MOMENT = r"\d{4}-\d\d-\d\d \d\d:\d\d \S+"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.now(UTC))


def waiting_for_approval(db: Database, clock: ManualClock) -> tuple[Engine, int]:
    """Order 5 waits for a price approval whose checklist asks for a signed quote."""
    shop(db, clock)
    g = Builder("In progress → price approval")
    ask = g.node(
        "human.approval",
        approvals=["Price approval"],
        documents=["Signed quote"],
        assignee_role="publisher",
    )
    g.line(g.node("trigger.status_entered", codes=["PRC"]), ask)
    g.link(ask, g.node("action.set_status", code="SHP"), "approved")
    publish(db, g.document(), clock)
    set_status(db, "orders", 5, "PRC")
    worker = engine(db, clock)
    worker.run_until_idle()
    [approval] = open_tasks(db)
    return worker, int(approval.id)


@pytest.mark.parametrize("comment", [(), ("--comment", "  ")], ids=["no comment", "blank"])
def test_reject_without_a_comment_is_one_line_and_decides_nothing(
    db: Database, clock, statusflow: Statusflow, comment: tuple[str, ...]
) -> None:
    _, task_id = waiting_for_approval(db, clock)

    result = statusflow("--as", "carla", "task", "reject", str(task_id), *comment)

    assert result == (
        2,
        "",
        f"statusflow: Write a comment saying why you reject task {task_id}, so the people "
        "who asked know what to change.\n",
    )
    assert [(t.state, t.decided_by) for t in open_tasks(db)] == [("open", None)]


def test_approve_with_a_document_unticked_needs_a_reason_then_show_gives_it(
    db: Database, clock, statusflow: Statusflow
) -> None:
    worker, task_id = waiting_for_approval(db, clock)

    refused = statusflow("--as", "carla", "task", "approve", str(task_id), "--comment", "ok")
    assert refused == (
        2,
        "",
        f"statusflow: Tick 'Signed quote' on task {task_id} first, or give the reason you "
        "go ahead without it; the reason is recorded with your decision.\n",
    )
    assert [t.state for t in open_tasks(db)] == ["open"]

    code, out, err = statusflow(
        "--as", "carla", "task", "approve", str(task_id), "--comment", "ok",
        "--unticked-reason", "seen in the ERP",
    )  # fmt: skip
    shown = statusflow("task", "show", str(task_id))[1].splitlines()

    assert (code, err) == (0, "")
    assert out == f"Task {task_id} approved. The run continues when the engine next runs.\n"
    assert re.fullmatch(f"Approved by carla on {MOMENT}: ok", shown[-2])
    assert shown[-1] == "Not ticked: 'Signed quote'. Reason given: seen in the ERP"
    worker.run_until_idle()
    assert (
        "carla marked 'Price approval for orders 5' approved without ticking 'Signed quote' "
        "(reason: seen in the ERP) (ok)."
    ) in timeline(db, "5")


def test_approve_with_every_document_ticked_needs_no_reason(
    db: Database, clock, statusflow: Statusflow
) -> None:
    _, task_id = waiting_for_approval(db, clock)
    statusflow("--as", "carla", "task", "tick", str(task_id), "Signed quote")

    code, out, err = statusflow("--as", "carla", "task", "approve", str(task_id))
    shown = statusflow("task", "show", str(task_id))[1].splitlines()

    assert (code, err) == (0, "")
    assert out.startswith(f"Task {task_id} approved.")
    assert re.fullmatch(f"Approved by carla on {MOMENT}", shown[-1])


def test_versions_name_the_author_the_approver_and_the_publisher(
    db: Database, clock, statusflow: Statusflow
) -> None:
    shop(db, clock)  # before any account exists: the demo needs no role
    for name, role in (("root", "admin"), ("ana", "designer"), ("ben", "publisher")):
        member(db, name, role, actor="root")
    member(db, "carla", "publisher", actor="root")
    name = graphs.create_graph(db, note_graph(), actor="ana").name

    steps = (
        ("ana", "graph", "submit", name),
        ("ben", "graph", "approve", name, "V1.0"),
        ("carla", "graph", "publish", name, "V1.0"),
        ("ana", "graph", "submit", name),
        ("ben", "graph", "reject", name, "V1.1", "--comment", "not yet"),
        ("ana", "graph", "submit", name),
    )
    for actor, *argv in steps:
        assert statusflow("--as", actor, *argv)[0] == 0, argv
    code, out, err = statusflow("graph", "versions", name)

    assert (code, err) == (0, "")
    first, second, third = out.splitlines()
    assert re.fullmatch(
        f"V1.0   published   submitted by ana on {MOMENT}, approved by ben, "
        f"published by carla on {MOMENT}",
        first,
    ), first
    assert re.fullmatch(
        f"V1.1   rejected    submitted by ana on {MOMENT}, rejected by ben", second
    ), second
    assert re.fullmatch(f"V1.2   in_review   submitted by ana on {MOMENT}", third), third
