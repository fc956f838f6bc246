"""The audit viewer and the engine status panel, used as an auditor and IT would."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from designer.audit_panel import AuditPanel
from designer.engine_panel import EnginePanel
from engine.clock import ManualClock
from engine.governance import audit_log, users
from engine.runtime.engine import Engine
from engine.runtime.scheduler import EngineRunner
from engine.storage.database import Database
from tests.designer.screens import save_screenshot
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import engine, publish, set_status, shop

DELIVERED = "Delivered → confirmation email"
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def column(table, index: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [table.item(row, index).text() for row in range(table.rowCount())]


def pick(combo, text: str) -> None:  # type: ignore[no-untyped-def]
    combo.setCurrentIndex(combo.findText(text))


# -- audit ----------------------------------------------------------------------------


@pytest.fixture
def audit(qtbot: QtBot, db: Database) -> AuditPanel:
    """Ana wrote and submitted the delivered-email graph this morning; Ben published it."""
    clock = ManualClock(datetime.now(UTC) - timedelta(hours=1))
    shop(db, clock)
    publish(db, DELIVERED, clock)
    panel = AuditPanel(db, "root")  # the admin, once accounts exist
    qtbot.addWidget(panel)
    panel.resize(1100, 700)
    panel.show()
    panel.worker.wait_for_done(5000)
    return panel


def test_filtering_by_person_shows_only_what_they_did(audit: AuditPanel, qtbot: QtBot) -> None:
    everyone = audit.table.rowCount()

    pick(audit.who, "ben")
    audit.worker.wait_for_done(5000)

    assert set(column(audit.table, 1)) == {"ben"}
    assert column(audit.table, 2) == ["Published", "Approved"]
    assert everyone > audit.table.rowCount()
    assert audit.count.text() == "2 entries."


def test_who_offers_every_account_even_one_that_did_nothing_yet(
    audit: AuditPanel, qtbot: QtBot, db: Database
) -> None:
    users.add_user(db, "root", display_name="Root", roles=["admin"], actor="root")
    users.add_user(db, "cat", display_name="Cat Auditor", roles=["operator"], actor="root")
    pick(audit.who, "ben")
    audit.worker.wait_for_done(5000)

    offered = [audit.who.itemText(i) for i in range(audit.who.count())]
    assert offered == ["Everyone", "ana", "ben", "cat", "root"]
    assert audit.who.currentText() == "ben"  # reading the list again kept the choice
    assert audit.who.itemData(offered.index("cat"), Qt.ItemDataRole.ToolTipRole) == "Cat Auditor"

    pick(audit.who, "cat")
    audit.worker.wait_for_done(5000)
    assert audit.count.text() == "0 entries."


def test_the_readable_kind_of_change_filters_and_details_show_before_and_after(
    audit: AuditPanel, qtbot: QtBot
) -> None:
    pick(audit.what, "Publishing")
    audit.worker.wait_for_done(5000)
    audit.table.selectRow(0)

    assert column(audit.table, 2) == ["Published"]
    text = audit.details.toPlainText()
    assert "What: Published (graph.publish)" in text and "Before:" in text and "After:" in text
    assert column(audit.table, 3) == ["Version"]
    save_screenshot(audit, "audit")


def test_dates_before_the_entries_show_none(audit: AuditPanel) -> None:
    audit.date_to.setDate(audit.date_from.date())
    audit.worker.wait_for_done(5000)

    assert audit.table.rowCount() == 0
    assert audit.count.text() == "0 entries."


def test_export_writes_the_rows_shown(
    audit: AuditPanel, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "audit.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(target), ""))
    pick(audit.who, "ben")
    audit.worker.wait_for_done(5000)

    qtbot.mouseClick(audit.export_button, Qt.MouseButton.LeftButton)

    with target.open(encoding="utf-8", newline="") as file:
        header, *rows = list(csv.reader(file))
    assert tuple(header) == audit_log.CSV_COLUMNS
    assert [(row[1], row[2]) for row in rows] == [
        ("ben", "graph.publish"),
        ("ben", "graph.approve"),
    ]


# -- engine status --------------------------------------------------------------------


def failing_hook(url: str) -> dict:
    g = Builder("Delivered → tell the warehouse")
    g.line(
        g.node("trigger.status_entered", codes=["DEL"]),
        g.node("action.webhook", url=url, retry_attempts=1),
    )
    return g.document()


@pytest.fixture
def crashed_engine_with_an_error(db: Database, http_server) -> None:  # type: ignore[no-untyped-def]
    """An engine that failed a webhook an hour ago and then died without stopping."""
    clock = ManualClock(datetime.now(UTC) - timedelta(hours=1))
    shop(db, clock)
    publish(db, failing_hook(http_server.url("/warehouse")), clock)
    worker = engine(db, clock)
    http_server.respond(503, {"error": "warehouse down"})
    set_status(db, "orders", 9, "DEL")
    worker.run_until_idle()


def engine_panel(qtbot: QtBot, db: Database, **kwargs) -> EnginePanel:  # type: ignore[no-untyped-def]
    panel = EnginePanel(db, **kwargs)
    qtbot.addWidget(panel)
    panel.resize(1000, 620)
    panel.show()
    panel.worker.wait_for_done(5000)
    return panel


def test_a_dead_engine_and_its_last_error_are_shown(
    qtbot: QtBot, db: Database, crashed_engine_with_an_error: None
) -> None:
    panel = engine_panel(qtbot, db)

    assert panel.summary.text().startswith("No engine is running")
    assert column(panel.engines, 0) == ["Not answering"]
    [error] = column(panel.errors, 4)
    assert error.startswith("The web service had an error: ")
    assert column(panel.errors, 2) == ["orders 9"]
    assert not panel.start_button.isVisible()  # not the embedded engine: IT runs it


def test_the_embedded_engine_can_be_stopped_and_started_again(
    qtbot: QtBot, db: Database, crashed_engine_with_an_error: None
) -> None:
    def new_runner() -> EngineRunner:
        return EngineRunner(Engine(db), poll_seconds=0.2, heartbeat_seconds=1)

    first = new_runner()
    first.start_background()
    panel = engine_panel(qtbot, db, runner=first, new_runner=new_runner)
    running = column(panel.engines, 0)
    qtbot.wait(50)
    save_screenshot(panel, "engine_status")
    announced: list[object] = []
    panel.runner_changed.connect(announced.append)

    qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: announced == [None] and not panel.worker.busy, timeout=10000)
    stopped = (column(panel.engines, 0), panel.summary.text(), panel.start_button.isEnabled())
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(announced) == 2 and not panel.worker.busy, timeout=10000)
    second = announced[1]

    assert running == ["Running", "Not answering"]
    assert panel.summary.text() == "The engine is running and keeping up with the work."
    assert stopped[0] == ["Stopped", "Not answering"] and stopped[2]
    assert stopped[1].startswith("No engine is running")
    assert isinstance(second, EngineRunner) and second is not first
    assert column(panel.engines, 0) == ["Running", "Stopped", "Not answering"]
    second.stop()
