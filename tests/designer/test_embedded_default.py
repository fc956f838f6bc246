"""The embedded default as a new user meets it: change a record, watch it happen.

Real parts throughout: the engine runs on its background thread on the real clock,
emails go over SMTP to the built-in loopback outbox, the warehouse webhook is a real
HTTP server that answers 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from designer.main_window import MainWindow
from designer.reports_panel import TABS
from designer.session import Session
from engine import demo
from engine.clock import SYSTEM_CLOCK
from engine.outbox import LoopbackOutbox, ensure_demo_profile
from engine.runtime.engine import Engine
from engine.runtime.scheduler import EngineRunner
from engine.storage.database import Database
from engine.storage.tables import runs
from tests.designer.screens import save_screenshot
from tests.designer.test_inbox import click
from tests.designer.test_records_panel import _choose_status, _click_record
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import publish

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def embedded(
    qtbot: QtBot, db: Database, tmp_path: Path, http_server
) -> Iterator[tuple[MainWindow, LoopbackOutbox]]:
    demo.install(db, actor="root")
    outbox = LoopbackOutbox(tmp_path / "outbox.jsonl")
    outbox.start()
    ensure_demo_profile(db, outbox, "root")
    publish(db, "Delivered → confirmation email", SYSTEM_CLOCK)
    g = Builder("Shipped → tell the warehouse")
    g.line(
        g.node("trigger.status_entered", codes=["SHP"]),
        g.node("action.webhook", url=http_server.url("/warehouse"), retry_attempts=1),
    )
    publish(db, g.document(), SYSTEM_CLOCK)
    for _ in range(5):
        http_server.respond(500, {"error": "warehouse down"})
    runner = EngineRunner(Engine(db), poll_seconds=0.2)
    runner.start_background()
    window = MainWindow(Session(db, "root"), outbox=outbox, runner=runner)
    qtbot.addWidget(window)
    window.resize(1500, 950)
    window.show()
    qtbot.waitExposed(window)
    yield window, outbox
    window.document.mark_saved()
    window.close()
    if window.runner is not None:
        window.runner.stop()
    outbox.stop()


def change_status(qtbot: QtBot, window: MainWindow, key: str, status: str) -> None:
    panel = window.records
    window.show_dock("Records")
    qtbot.waitUntil(lambda: panel.source.count() == 2)
    panel.source.setCurrentText("orders")
    qtbot.waitUntil(lambda: panel.table.rowCount() == demo.ORDER_COUNT)
    _click_record(qtbot, panel, key)
    _choose_status(panel, status)
    qtbot.mouseClick(panel.apply_status, Qt.MouseButton.LeftButton)


def run_state(db: Database, key: str) -> str | None:
    with db.read() as conn:
        return (
            conn.execute(
                select(runs.c.state).where(runs.c.record_key == key).order_by(runs.c.started_at)
            )
            .scalars()
            .first()
        )


def test_order_7_delivered_then_a_failing_webhook_worked_by_hand(
    qtbot: QtBot, embedded: tuple[MainWindow, LoopbackOutbox], db: Database
) -> None:
    window, outbox = embedded
    change_status(qtbot, window, "7", "DEL – Delivered")

    qtbot.waitUntil(lambda: window.outbox.table.rowCount() == 1, timeout=10_000)
    [mail] = outbox.messages()
    assert mail.subject == "Your order 7 has been delivered"
    assert window.outbox.table.item(0, 2).text() == mail.subject
    qtbot.waitUntil(lambda: run_state(db, "7") == "succeeded", timeout=10_000)
    window.show_dock("Runs")
    window.runs.show_record("orders", "7")
    tree = window.runs.timeline_view.timeline
    qtbot.waitUntil(
        lambda: any(
            "Emailed" in tree.topLevelItem(i).text(1)
            or any(
                "Emailed" in tree.topLevelItem(i).child(c).text(1)
                for c in range(tree.topLevelItem(i).childCount())
            )
            for i in range(tree.topLevelItemCount())
        ),
        timeout=10_000,
    )
    save_screenshot(window, "embedded_after_delivery")

    change_status(qtbot, window, "9", "SHP – Shipped")
    qtbot.waitUntil(lambda: run_state(db, "9") == "active", timeout=10_000)
    window.show_dock("Tasks")

    def manual_task_listed() -> bool:
        window.inbox.refresh()
        qtbot.waitUntil(lambda: not window.inbox.worker.busy, timeout=10_000)
        return any(i.text(0).startswith("Please do by hand") for i in window.inbox.task_items())

    qtbot.waitUntil(manual_task_listed, timeout=15_000)
    click(qtbot, window.inbox, "Please do by hand: the call POST")
    qtbot.keyClicks(window.inbox.comment, "Phoned the warehouse")
    qtbot.mouseClick(window.inbox.buttons["done"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: run_state(db, "9") == "succeeded_compensated", timeout=15_000)

    window.show_dock("Reports")
    window.reports.refresh()
    qtbot.waitUntil(lambda: not window.reports.worker.busy, timeout=10_000)
    failures = window.reports.pages[TABS.index("Failures")].table
    manual = window.reports.pages[TABS.index("Manual work")].table
    assert failures.rowCount() == 1
    assert failures.item(0, 0).text() == "Shipped → tell the warehouse"
    assert manual.rowCount() == 1 and manual.item(0, 1).text() == "1"
    save_screenshot(window, "embedded_reports")
