"""The test-run dialog, driven the way an operations manager uses it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidgetItem
from pytestqt.qtbot import QtBot

from designer.canvas import Canvas
from designer.document import GraphDocument
from designer.node_classes import PATH_COLOUR
from designer.test_run_dialog import TestRunDialog as Dialog
from engine import graphs
from engine.clock import ManualClock
from engine.storage.database import Database
from tests.designer.screens import save_screenshot
from tests.engine.runtime.support import shop

LADDER = "Salesperson not assigned → escalation ladder"

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def shop_db(db: Database) -> Database:
    shop(db, ManualClock())
    return db


@pytest.fixture
def canvas(shop_db: Database, qtbot: QtBot) -> Iterator[Canvas]:
    """The ladder's draft on a canvas, as the designer shows it."""
    with shop_db.read() as conn:
        graph = graphs.load_draft(conn, graphs.find_graph(conn, LADDER).id)
    canvas = Canvas(GraphDocument(graph))
    qtbot.addWidget(canvas.widget)
    canvas.widget.resize(1400, 500)
    canvas.widget.show()
    yield canvas


def open_dialog(qtbot: QtBot, db: Database, canvas: Canvas | None) -> Dialog:
    dialog = Dialog(db, "ana", LADDER, canvas)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.records.count() > 0)
    return dialog


def click_record(qtbot: QtBot, dialog: Dialog, starting: str) -> QListWidgetItem:
    item = next(
        dialog.records.item(i)
        for i in range(dialog.records.count())
        if dialog.records.item(i).text().startswith(starting)
    )
    dialog.records.scrollToItem(item)
    rect = dialog.records.visualItemRect(item)
    qtbot.mouseClick(dialog.records.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    return item


def paste(qtbot: QtBot, dialog: Dialog, text: str) -> None:
    tabs = dialog.record_tabs.tabBar()
    qtbot.mouseClick(tabs, Qt.MouseButton.LeftButton, pos=tabs.tabRect(1).center())
    qtbot.keyClicks(dialog.pasted, text)


def run(qtbot: QtBot, dialog: Dialog) -> None:
    qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.worker.busy, timeout=20_000)


def timeline(dialog: Dialog) -> list[tuple[str, str]]:
    table = dialog.result.timeline
    return [(table.item(r, 0).text(), table.item(r, 1).text()) for r in range(table.rowCount())]


def highlighted_titles(canvas: Canvas) -> list[str]:
    views = [canvas.view_of(node.id) for node in canvas.document.graph.nodes]
    return [v.name() for v in views if v is not None and tuple(v.color()[:3]) == PATH_COLOUR]


def test_records_show_their_display_columns_and_can_be_searched(
    qtbot: QtBot, shop_db: Database
) -> None:
    dialog = open_dialog(qtbot, shop_db, None)
    first = dialog.records.item(0).text()
    assert first.startswith("1 – ") and "@example.com" in first
    qtbot.keyClicks(dialog.search, "finn.fischer")
    shown = [
        dialog.records.item(i).text()
        for i in range(dialog.records.count())
        if not dialog.records.item(i).isHidden()
    ]
    assert shown and all("finn.fischer@example.com" in text for text in shown)
    assert any(text.startswith("3 – Finn Fischer") for text in shown)


def test_a_status_change_at_one_hour_cancels_the_ladder_and_lights_its_path(
    qtbot: QtBot, shop_db: Database, canvas: Canvas
) -> None:
    dialog = open_dialog(qtbot, shop_db, canvas)
    click_record(qtbot, dialog, "3 – ")
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    row = dialog.changes.rows[0]
    row.amount.selectAll()
    qtbot.keyClicks(row.amount, "1")
    qtbot.keyClicks(row.unit, "hours")
    qtbot.keyClicks(row.field, "status")
    qtbot.keyClicks(row.value, "ASN")
    assert row.value.currentText() == "ASN – Salesperson assigned"

    run(qtbot, dialog)

    assert not dialog.result.error.isVisible()
    assert dialog.result.verdict.text() == "Cancelled"
    assert "Status changed from SNA to ASN" in dialog.result.reason.text()
    lines = timeline(dialog)
    assert [what for _, what in lines if what.startswith("Would email")] == [
        "Would email sales-team@example.com: 'Order 3 has no salesperson'."
    ]
    assert lines[0][0] == "At the start" and lines[-1][0] == "+1 h"
    assert dialog.result.note.isVisible() and dialog.result.note.text() == (
        "Nothing was sent and no record was changed."
    )
    lit = highlighted_titles(canvas)
    assert len(lit) == 4 and not any("SMS" in title or "text" in title for title in lit)
    stopped = canvas.view_of(canvas.document.graph.nodes[3].id)
    assert "Cancelled" in stopped.view.toolTip()

    canvas.fit()
    save_screenshot(dialog, "test_run")
    save_screenshot(canvas.widget, "test_run_path")

    qtbot.mouseClick(dialog.result.clear_button, Qt.MouseButton.LeftButton)
    assert highlighted_titles(canvas) == []


def test_a_pasted_record_with_a_syntax_error_says_where(qtbot: QtBot, shop_db: Database) -> None:
    dialog = open_dialog(qtbot, shop_db, None)
    paste(qtbot, dialog, '{"id": 999 "status": "SNA"}')
    qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    assert dialog.result.error.isVisible()
    assert dialog.result.error.text().startswith("The pasted record is not valid JSON")
    assert "line 1, column 12" in dialog.result.error.text()
    assert timeline(dialog) == []


def test_a_pasted_record_without_its_key_is_refused(qtbot: QtBot, shop_db: Database) -> None:
    dialog = open_dialog(qtbot, shop_db, None)
    paste(qtbot, dialog, '{"customer_name": "Test Person", "status": "SNA"}')
    run(qtbot, dialog)
    assert dialog.result.error.text() == "The record needs its key field 'id'."
    assert timeline(dialog) == []


def test_remove_takes_away_the_change_being_edited(qtbot: QtBot, shop_db: Database) -> None:
    dialog = open_dialog(qtbot, shop_db, None)
    for _ in range(3):
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    middle = dialog.changes.rows[1]
    qtbot.keyClicks(middle.field, "amount")
    middle.value.setFocus()
    qtbot.keyClicks(middle.value, "900")
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    assert middle not in dialog.changes.rows and dialog.changes.rowCount() == 2
    assert [change.field for change in dialog.changes.changes()] == ["status", "status"]
