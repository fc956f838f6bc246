"""The task inbox, worked the way an operator works it: read the task, decide, move on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QInputDialog, QTreeWidgetItem
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from designer.inbox import InboxPanel
from designer.runs_panel import RunsPanel
from engine.clock import ManualClock
from engine.governance import audit_log, users
from engine.runtime import tasks as task_service
from engine.runtime.engine import Engine
from engine.storage.database import Database
from tests.designer.screens import save_screenshot
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import engine, publish, set_status, shop
from tests.host import as_host

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def customer_of(db: Database, key: int) -> str:
    with as_host(db) as conn:
        query = text("SELECT customer_name FROM orders WHERE id = :k")
        return str(conn.execute(query, {"k": key}).scalar_one())


def failing_webhook(db: Database, clock: ManualClock, http_server, key: int = 9) -> Engine:  # type: ignore[no-untyped-def]
    """Order ``key`` delivered; the warehouse webhook answers 500 once: a manual task."""
    g = Builder("Delivered → tell the warehouse")
    start = g.node("trigger.status_entered", codes=["DEL"])
    hook = g.node("action.webhook", url=http_server.url("/warehouse"), retry_attempts=1)
    g.line(start, hook, g.node("action.add_note", note="Warehouse informed."))
    publish(db, g.document(), clock)
    worker = engine(db, clock)
    http_server.respond(500, {"error": "warehouse down"})
    set_status(db, "orders", key, "DEL")
    worker.run_until_idle()
    return worker


def proposal_approval(db: Database, clock: ManualClock, worker: Engine | None = None) -> Engine:
    g = Builder("Proposal → price approval")
    start = g.node("trigger.status_entered", codes=["PRC"])
    ask = g.node(
        "human.approval",
        approvals=["Price approval"],
        documents=["Signed quote", "Credit check"],
        assignee_role="publisher",
    )
    g.link(start, ask)
    g.link(ask, g.node("action.set_status", code="SHP"), "approved")
    publish(db, g.document(), clock)
    worker = worker or engine(db, clock)
    set_status(db, "orders", 5, "PRC")
    worker.run_until_idle()
    return worker


def open_inbox(qtbot: QtBot, db: Database, actor: str, clock: ManualClock) -> InboxPanel:
    panel = InboxPanel(db, actor, clock=clock)
    qtbot.addWidget(panel)
    panel.resize(1100, 560)
    panel.show()
    idle(qtbot, panel)
    return panel


def idle(qtbot: QtBot, panel: InboxPanel | RunsPanel) -> None:
    qtbot.waitUntil(lambda: not panel.worker.busy, timeout=10_000)


def click(qtbot: QtBot, panel: InboxPanel, title_start: str) -> QTreeWidgetItem:
    [item] = [i for i in panel.task_items() if i.text(0).startswith(title_start)]
    panel.list.scrollToItem(item)
    rect = panel.list.visualItemRect(item)
    qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    return item


def tick(qtbot: QtBot, panel: InboxPanel, document: str) -> None:
    box = panel.documents.boxes[document]
    qtbot.waitUntil(box.isVisible)  # a new box shows once the layout has placed it
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    idle(qtbot, panel)


def test_a_failed_webhook_is_worked_by_hand_and_the_run_succeeds(
    qtbot: QtBot, db: Database, clock: ManualClock, http_server
) -> None:
    shop(db, clock)
    worker = failing_webhook(db, clock, http_server)
    inbox = open_inbox(qtbot, db, "olga", clock)

    group = inbox.list.topLevelItem(0)
    assert group.text(0) == "Manual tasks (1)"
    item = click(qtbot, inbox, "Please do by hand: the call POST")
    assert customer_of(db, 9) in item.text(1)
    assert "HTTP 500" in inbox.failure.text()
    assert inbox.failure.text().startswith("The step 'Call a web address' failed.")
    rows = range(inbox.fields.rowCount())
    fields = {inbox.fields.item(r, 0).text(): inbox.fields.item(r, 1).text() for r in rows}
    assert fields["customer_name"] == customer_of(db, 9)
    assert [b for b, button in inbox.buttons.items() if not button.isHidden()] == [
        "done",
        "abandon",
    ]

    qtbot.keyClicks(inbox.comment, "Phoned the warehouse")
    with qtbot.waitSignal(inbox.counts_changed, timeout=10_000) as counted:
        qtbot.mouseClick(inbox.buttons["done"], Qt.MouseButton.LeftButton)
    idle(qtbot, inbox)

    assert counted.args == [0, 0]
    assert inbox.confirmation.text() == "Marked done. The run continues when the engine next looks."
    assert inbox.task_items() == [] and inbox.empty.isVisible()
    worker.run_until_idle()
    runs = RunsPanel(db, "olga")
    qtbot.addWidget(runs)
    runs.search_box.insert(customer_of(db, 9).split()[-1])  # pasted: names have accents
    qtbot.mouseClick(runs.search_button, Qt.MouseButton.LeftButton)
    idle(qtbot, runs)
    assert runs.results.item(0, 3).text() == "Succeeded (human compensation)"


def test_an_approval_shows_its_documents_and_a_rejection_needs_a_reason(
    qtbot: QtBot, db: Database, clock: ManualClock, message_boxes
) -> None:
    shop(db, clock)
    proposal_approval(db, clock)
    inbox = open_inbox(qtbot, db, "carla", clock)

    click(qtbot, inbox, "Price approval for orders 5")
    ticks = inbox.documents.findChildren(QCheckBox)
    assert [box.text() for box in ticks] == ["Signed quote", "Credit check"]
    assert inbox.documents.isVisible() and not inbox.failure.isVisible()
    assert inbox.buttons["approve"].isVisible() and inbox.buttons["reject"].isVisible()
    assert not inbox.buttons["done"].isVisible()

    qtbot.mouseClick(inbox.buttons["reject"], Qt.MouseButton.LeftButton)
    idle(qtbot, inbox)

    assert message_boxes and message_boxes[-1][0] == "Say why you reject it"
    with db.read() as conn:
        assert [t.state for t in task_service.list_tasks(conn)] == ["open"]

    qtbot.keyClicks(inbox.comment, "Price below margin")
    qtbot.mouseClick(inbox.buttons["reject"], Qt.MouseButton.LeftButton)
    idle(qtbot, inbox)
    assert inbox.confirmation.text().startswith("Rejected.")
    with db.read() as conn:
        [task] = task_service.list_tasks(conn, open_only=False)
    assert (task.state, task.comment) == ("rejected", "Price below margin")


def test_ticks_are_saved_and_kept_after_a_refresh(
    qtbot: QtBot, db: Database, clock: ManualClock
) -> None:
    shop(db, clock)
    proposal_approval(db, clock)
    inbox = open_inbox(qtbot, db, "carla", clock)
    click(qtbot, inbox, "Price approval for orders 5")

    tick(qtbot, inbox, "Credit check")
    with qtbot.waitSignal(inbox.counts_changed, timeout=10_000):
        inbox.refresh()
    idle(qtbot, inbox)

    boxes = inbox.documents.findChildren(QCheckBox)
    assert [(box.text(), box.isChecked()) for box in boxes] == [
        ("Signed quote", False),
        ("Credit check", True),
    ]
    assert inbox.documents.who["Credit check"].text() == "ticked by carla, 5 Jan 2026, 09:00"
    dan = open_inbox(qtbot, db, "dan", clock)
    click(qtbot, dan, "Price approval for orders 5")
    assert dan.documents.unticked() == ["Signed quote"]  # everyone sees the tick


def test_approving_with_a_document_unticked_asks_why_and_records_the_reason(
    qtbot: QtBot, db: Database, clock: ManualClock, message_boxes, monkeypatch
) -> None:
    shop(db, clock)
    proposal_approval(db, clock)
    inbox = open_inbox(qtbot, db, "carla", clock)
    click(qtbot, inbox, "Price approval for orders 5")
    tick(qtbot, inbox, "Signed quote")
    asked: list[tuple[str, str]] = []
    answers = iter([("", False), ("  ", True), ("Seen in the ERP", True)])

    def answer(_parent: object, title: str, label: str, *_a: object, **_k: object):  # type: ignore[no-untyped-def]
        asked.append((title, label))
        return next(answers)

    monkeypatch.setattr(QInputDialog, "getText", answer)
    qtbot.mouseClick(inbox.buttons["approve"], Qt.MouseButton.LeftButton)  # answered Cancel
    idle(qtbot, inbox)

    assert asked == [
        (
            "Some documents are not ticked",
            "Not ticked yet: 'Credit check'.\n\nTo go ahead anyway, say why they are not "
            "ticked. Your decision records which documents were not ticked and your reason.",
        )
    ]
    with db.read() as conn:
        [task] = task_service.list_tasks(conn)
    assert (task.state, list(task.ticks)) == ("open", ["Signed quote"])

    qtbot.mouseClick(inbox.buttons["approve"], Qt.MouseButton.LeftButton)  # a blank reason
    idle(qtbot, inbox)

    assert message_boxes[-1] == (
        "The task was not changed",
        f"Tick 'Credit check' on task {task.id} first, or give the reason you go ahead "
        "without it; the reason is recorded with your decision.",
    )  # the service's rule, not the panel's
    with db.read() as conn:
        assert [t.state for t in task_service.list_tasks(conn)] == ["open"]

    qtbot.mouseClick(inbox.buttons["approve"], Qt.MouseButton.LeftButton)
    idle(qtbot, inbox)

    assert inbox.confirmation.text().startswith("Approved.")
    with db.read() as conn:
        [decision] = audit_log.query(conn, action="task.approve")
        decided = task_service.get_task(conn, task.id)
    assert decision.after == {
        "state": "approved",
        "unticked": ["Credit check"],
        "unticked_reason": "Seen in the ERP",
    }
    assert decided.unticked_reason == "Seen in the ERP"


def test_people_see_their_roles_tasks_and_overdue_ones_stand_out(
    qtbot: QtBot, db: Database, clock: ManualClock
) -> None:
    shop(db, clock)
    for name, role in (("root", "admin"), ("ana", "designer"), ("ben", "publisher")):
        users.add_user(db, name, display_name=name.title(), roles=[role], actor="root")
    users.add_user(db, "olga", display_name="Olga", roles=["operator"], actor="root")
    proposal_approval(db, clock)
    clock.advance(timedelta(days=3))  # past the approval's two days

    ben, olga = open_inbox(qtbot, db, "ben", clock), open_inbox(qtbot, db, "olga", clock)

    [item] = ben.task_items()
    assert ben.list.itemWidget(item, 3).text().strip() == "Overdue"
    click(qtbot, ben, "Price approval")
    assert "Overdue since 7 Jan 2026, 09:00" in ben.facts.text()
    assert olga.task_items() == [] and olga.empty.isVisible()
    assert len(open_inbox(qtbot, db, "root", clock).task_items()) == 1  # an admin sees all
    with qtbot.waitSignal(ben.counts_changed, timeout=10_000) as counted:
        ben.refresh()
    assert counted.args == [1, 1]


def test_screenshot_of_an_approval_and_a_manual_task(
    qtbot: QtBot, db: Database, clock: ManualClock, http_server
) -> None:
    shop(db, clock)
    worker = failing_webhook(db, clock, http_server)
    proposal_approval(db, clock, worker)
    clock.advance(timedelta(days=3))
    inbox = open_inbox(qtbot, db, "olga", clock)
    approval = click(qtbot, inbox, "Price approval")
    qtbot.keyClicks(inbox.comment, "Quote checked, credit OK")
    inbox.documents.findChildren(QCheckBox)[0].setChecked(True)
    qtbot.wait(50)  # let the new checkboxes show and the layout settle

    save_screenshot(inbox, "inbox")
    groups = [inbox.list.topLevelItem(i).text(0) for i in range(inbox.list.topLevelItemCount())]
    assert groups == ["Approvals (1)", "Manual tasks (1)"]
    assert inbox.list.currentItem() is approval
    assert inbox.list.itemWidget(approval, 3).text().strip() == "Overdue"
    assert "Overdue since 7 Jan 2026, 09:00" in inbox.facts.text()
    boxes = inbox.documents.findChildren(QCheckBox)
    assert [(box.text(), box.isChecked(), box.isVisible()) for box in boxes] == [
        ("Signed quote", True, True),
        ("Credit check", False, True),
    ]
    assert inbox.comment.toPlainText() == "Quote checked, credit OK"
    shown = [name for name, button in inbox.buttons.items() if button.isVisible()]
    assert shown == ["approve", "reject"]
