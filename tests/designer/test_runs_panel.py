"""The runs panel, used the way support staff use it: find the order, read what happened."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QTreeWidgetItem
from pytestqt.qtbot import QtBot

from designer.problems import WARNING_COLOUR
from designer.runs_panel import RunsPanel
from engine import demo, graphs
from engine.clock import ManualClock
from engine.runtime import tasks as task_service
from engine.storage.database import Database
from tests.designer.screens import save_screenshot
from tests.designer.test_inbox import customer_of, failing_webhook
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import engine, mail_settings, publish, set_status, shop

DELIVERED = "Delivered → confirmation email"
LADDER = "Salesperson not assigned → escalation ladder"
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def panel(qtbot: QtBot, db: Database) -> RunsPanel:
    runs = RunsPanel(db, "sam")
    qtbot.addWidget(runs)
    runs.resize(1150, 720)
    runs.show()
    idle(qtbot, runs)
    return runs


def idle(qtbot: QtBot, panel: RunsPanel) -> None:
    qtbot.waitUntil(lambda: not panel.worker.busy, timeout=10_000)


def search(qtbot: QtBot, panel: RunsPanel, words: str, outcome: str | None = None) -> None:
    panel.search_box.clear()
    panel.search_box.insert(words)  # pasted: customer names have accents
    if outcome is not None:
        panel.outcome_combo.setCurrentText(outcome)
    qtbot.mouseClick(panel.search_button, Qt.MouseButton.LeftButton)
    idle(qtbot, panel)


def choose_row(qtbot: QtBot, panel: RunsPanel, row: int) -> None:
    rect = panel.results.visualItemRect(panel.results.item(row, 0))
    qtbot.mouseClick(panel.results.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    idle(qtbot, panel)


def lines(panel: RunsPanel) -> list[QTreeWidgetItem]:
    found: list[QTreeWidgetItem] = []
    tree = panel.timeline_view.timeline
    pending = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    while pending:
        item = pending.pop(0)
        found.append(item)
        pending = [item.child(i) for i in range(item.childCount())] + pending
    return found


def choose_line(qtbot: QtBot, panel: RunsPanel, starts: str) -> QTreeWidgetItem:
    item = next(line for line in lines(panel) if line.text(1).startswith(starts))
    tree = panel.timeline_view.timeline
    tree.scrollToItem(item)
    rect = tree.visualItemRect(item)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    return item


def delivered(db: Database, clock: ManualClock, smtp_server, key: int = 7) -> None:  # type: ignore[no-untyped-def]
    mail_settings(db, smtp_server.profile())
    publish(db, DELIVERED, clock)
    worker = engine(db, clock)
    set_status(db, "orders", key, "DEL")
    worker.run_until_idle()
    worker.stop()


def test_finding_an_order_by_customer_name_shows_the_email_that_went_out(
    qtbot: QtBot, db: Database, clock: ManualClock, smtp_server, panel: RunsPanel
) -> None:
    shop(db, clock)
    delivered(db, clock, smtp_server)
    name = customer_of(db, 7)

    search(qtbot, panel, name.split()[0].lower())

    rows = [panel.results.item(r, 2).text() for r in range(panel.results.rowCount())]
    assert rows and all(name.split()[0] in row for row in rows)
    row = rows.index(next(r for r in rows if r.startswith("orders 7 — ")))
    assert panel.results.item(row, 1).text() == f"{DELIVERED} V1.0"
    assert panel.results.item(row, 3).text() == "Succeeded"
    choose_row(qtbot, panel, row)
    assert panel.timeline_view.record_title.text().startswith(f"Timeline of orders 7 — {name}")
    emailed = choose_line(qtbot, panel, "Emailed ")
    assert emailed.text(0) == "09:00:00"
    shown = panel.timeline_view.details.toPlainText()
    assert "Subject: Your order 7 has been delivered" in shown
    assert f"To: {smtp_server.messages[0].message['To']}" in shown


def test_searching_by_order_number_and_outcome(
    qtbot: QtBot, db: Database, clock: ManualClock, smtp_server, panel: RunsPanel
) -> None:
    shop(db, clock)
    delivered(db, clock, smtp_server, key=7)

    search(qtbot, panel, "7", outcome="Cancelled")
    assert panel.results.rowCount() == 0
    assert panel.note.text().startswith("No runs match.")

    search(qtbot, panel, "7", outcome="Succeeded")
    assert panel.results.item(0, 2).text().startswith("orders 7 — ")


def test_retries_sit_under_the_step_they_retried_and_stand_out(
    qtbot: QtBot, db: Database, clock: ManualClock, http_server, panel: RunsPanel
) -> None:
    shop(db, clock)
    g = Builder("Delivered → tell the warehouse")
    start = g.node("trigger.status_entered", codes=["DEL"])
    hook = g.node("action.webhook", url=http_server.url(), retry_attempts=2)
    g.line(start, hook)
    publish(db, g.document(), clock)
    worker = engine(db, clock)
    for _ in range(2):
        http_server.respond(500, {"error": "warehouse down"})
    set_status(db, "orders", 4, "DEL")
    for _ in range(2):
        worker.run_until_idle()
        clock.advance(timedelta(minutes=5))

    panel.show_record("orders", "4")
    idle(qtbot, panel)

    failed = choose_line(qtbot, panel, "Failed after 2 attempts")
    assert failed.child(0).text(1).startswith("Attempt 1 of 2 failed")
    assert failed.child(0).foreground(1).color() == QColor(*WARNING_COLOUR)
    assert "What went wrong: The server at" in panel.timeline_view.details.toPlainText()


def test_an_active_run_refreshes_itself_until_it_ends(
    qtbot: QtBot, db: Database, clock: ManualClock, http_server, panel: RunsPanel
) -> None:
    shop(db, clock)
    worker = failing_webhook(db, clock, http_server)
    panel.show_record("orders", "9")
    idle(qtbot, panel)
    heading = panel.timeline_view.timeline.topLevelItem(0)
    assert "Still running" in heading.text(1)
    assert panel.timeline_view.refresh_timer.isActive()

    with db.read() as conn:
        [task] = task_service.list_tasks(conn)
    task_service.decide(db, task.id, "done", actor="olga", comment="phoned them", clock=clock)
    worker.run_until_idle()

    qtbot.waitUntil(
        lambda: (
            "Succeeded (human compensation)" in panel.timeline_view.timeline.topLevelItem(0).text(1)
        ),
        timeout=15_000,  # refreshes every 2 s; a busy machine may miss a few
    )
    assert not panel.timeline_view.refresh_timer.isActive()


def test_screenshot_of_an_emailed_run_and_a_cancelled_escalation(
    qtbot: QtBot,
    db: Database,
    clock: ManualClock,
    smtp_server,
    http_server,
    memory_keyring,
    panel: RunsPanel,
) -> None:
    shop(db, clock)
    mail_settings(db, smtp_server.profile(), sms_url=http_server.url("/sms"))
    ladder_version = publish(db, LADDER, clock)
    publish(db, DELIVERED, clock)
    worker = engine(db, clock)
    set_status(db, "orders", 3, "SNA")
    worker.run_until_idle()
    clock.advance(timedelta(minutes=5))
    worker.run_until_idle()
    clock.advance(timedelta(minutes=55))
    set_status(db, "orders", 3, "DEL")
    worker.run_until_idle()

    search(qtbot, panel, "3")
    choose_row(qtbot, panel, 0)
    headings = [panel.timeline_view.timeline.topLevelItem(i).text(1) for i in range(2)]
    assert headings[0].startswith(f"{LADDER} V1.0 — Cancelled: Status changed from SNA to DEL")
    assert headings[1] == f"{DELIVERED} V1.0 — Succeeded"
    choose_line(qtbot, panel, "Emailed ")
    with qtbot.waitSignal(panel.show_path) as shown:
        qtbot.mouseClick(panel.timeline_view.canvas_button, Qt.MouseButton.LeftButton)
    graph_id, version_id, node_ids = shown.args
    with db.read() as conn:
        ladder = graphs.find_graph(conn, LADDER)
    assert (graph_id, version_id) == (ladder.id, ladder_version)
    document = demo.demo_graph_document("salesperson_escalation")
    ladder_nodes = [node["id"] for node in document["nodes"]]  # type: ignore[attr-defined]
    assert node_ids == ladder_nodes[:4]  # trigger, wait, email, the wait it was cancelled in

    save_screenshot(panel, "timeline")
