"""The designer window driven as an operations manager would use it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QAction, QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from designer.canvas import NODE_MIME
from designer.main_window import MainWindow, blank_graph
from designer.session import Session
from engine.clock import ManualClock
from engine.graphs import find_graph, load_draft
from engine.storage.database import Database
from tests.designer.screens import save_screenshot
from tests.designer.test_properties import click_box, retype
from tests.engine.runtime.support import shop

LADDER = "Salesperson not assigned → escalation ladder"


@pytest.fixture
def window(qtbot: QtBot, db: Database, tmp_path: Path) -> Iterator[MainWindow]:
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))
    shop(db, ManualClock())
    win = MainWindow(Session(db, "ana"))
    qtbot.addWidget(win)
    win.resize(1500, 900)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win)  # shortcuts need it
    yield win
    win.document.mark_saved()  # closing at teardown must not wait for an answer


def menu_item(window: MainWindow, menu: str, item: str) -> QAction:
    """The menu entry a person would choose."""
    for top in window.menuBar().actions():
        if top.text() == menu:
            for action in top.menu().actions():
                if action.text().startswith(item):
                    return action
    raise AssertionError(f"no {menu} → {item}")


only_sqlite = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def drop(window: MainWindow, type_id: str, at: QPoint) -> str:
    """Drag a step from the palette and let go over the canvas at ``at``."""
    item = next(
        window.palette.tree.topLevelItem(g).child(c)
        for g in range(window.palette.tree.topLevelItemCount())
        for c in range(window.palette.tree.topLevelItem(g).childCount())
        if window.palette.tree.topLevelItem(g).child(c).data(0, Qt.ItemDataRole.UserRole) == type_id
    )
    mime: QMimeData = window.palette.tree.mimeData([item])
    assert bytes(mime.data(NODE_MIME)).decode() == type_id
    before = {n.id for n in window.document.graph.nodes}
    viewport = window.canvas.graph.viewer().viewport()
    how = (
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    for event in (
        QDragEnterEvent(at, *how),
        QDragMoveEvent(at, *how),
        QDropEvent(QPointF(at), *how),
    ):
        assert QApplication.sendEvent(viewport, event)
    [added] = {n.id for n in window.document.graph.nodes} - before
    return added


@only_sqlite
def test_build_save_close_and_reopen_the_delivered_email(
    qtbot: QtBot, window: MainWindow, db: Database, message_boxes
) -> None:
    window.document.load(blank_graph("orders"))  # File → New, on the orders
    trigger = drop(window, "trigger.status_entered", QPoint(200, 300))
    email = drop(window, "action.send_email", QPoint(600, 300))
    out = window.canvas.view_of(trigger).get_output("out")
    out.connect_to(window.canvas.view_of(email).get_input("in"))  # the pipe a person draws
    assert len(window.document.graph.edges) == 1

    window.canvas.select([trigger])
    click_box(qtbot, window.properties.rows["codes"].editor.boxes["DEL"])
    window.canvas.select([email])
    subject = window.properties.rows["subject"].editor.text
    retype(qtbot, subject, "Your order {{ record_key }} has been delivered")
    qtbot.keyClick(subject, Qt.Key.Key_Tab)
    retype(qtbot, window.properties.rows["body_text"].editor.text, "Dear {{ customer_name }}")
    qtbot.keyClick(window.properties.rows["body_text"].editor.text, Qt.Key.Key_Tab)
    qtbot.waitUntil(lambda: window.validation.problems == [], timeout=3000)
    assert window.canvas.view_of(trigger).name() == "Status becomes DEL – Delivered"

    menu_item(window, "&File", "&Save draft").trigger()
    assert message_boxes == []
    assert not window.document.dirty
    saved = window.document.graph
    window.close()

    with db.read() as conn:
        reopened = load_draft(conn, find_graph(conn, saved.name).id)
    assert reopened == saved  # the same graph: nodes, ids, params, edges and layout


@only_sqlite
def test_a_connection_that_makes_no_sense_is_refused_with_a_message(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.open_named("Delivered → confirmation email")
    before = window.document.graph.edges
    note = window.document.add_node("action.add_note", (600.0, 0.0), {"note": "x"})
    note_out = window.canvas.view_of(note).get_output("out")
    note_out.connect_to(window.canvas.view_of(note).get_input("in"))  # into itself
    assert window.document.graph.edges == before
    assert window.statusBar().currentMessage() == (
        "Not connected: A step cannot lead back into itself."
    )
    assert window.canvas.view_of(note).get_input("in").connected_ports() == []


@only_sqlite
def test_undo_brings_back_a_deleted_step(qtbot: QtBot, window: MainWindow) -> None:
    window.open_named(LADDER)
    sms = next(n for n in window.document.graph.nodes if n.type == "action.send_sms")
    window.canvas.select([sms.id])
    menu_item(window, "&Edit", "&Delete").trigger()
    assert window.document.graph.node(sms.id) is None
    assert window.canvas.view_of(sms.id) is None
    menu_item(window, "&Edit", "&Undo").trigger()
    assert window.document.graph.node(sms.id) == sms
    assert window.canvas.view_of(sms.id) is not None
    assert len(window.document.graph.edges) == 6


@only_sqlite
def test_clearing_a_required_field_marks_the_node_and_lists_the_problem(
    qtbot: QtBot, window: MainWindow
) -> None:
    window.open_named("Delivered → confirmation email")
    email = next(n for n in window.document.graph.nodes if n.type == "action.send_email")
    window.canvas.select([email.id])
    subject = window.properties.rows["subject"].editor.text
    retype(qtbot, subject, "")
    qtbot.keyClick(subject, Qt.Key.Key_Tab)
    qtbot.waitUntil(
        lambda: [p.node_id for p in window.validation.problems] == [email.id], timeout=3000
    )
    [problem] = window.validation.problems
    assert problem.node_id == email.id and problem.field == "subject"
    assert window.problems.list.count() == 1
    assert "Subject is required" in window.problems.list.item(0).text()
    view = window.canvas.view_of(email.id)
    assert "Subject" in view.view.toolTip()
    assert tuple(view.model.border_color[:3]) == (229, 57, 53)


@only_sqlite
def test_closing_with_unsaved_changes_asks_first(
    qtbot: QtBot, window: MainWindow, monkeypatch
) -> None:
    window.open_named("Delivered → confirmation email")
    window.document.add_node("action.add_note", (0.0, 400.0), {"note": "x"})
    asked = []
    monkeypatch.setattr(
        QMessageBox, "question",
        lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Cancel,
    )  # fmt: skip
    window.close()
    assert window.isVisible() and "not saved" in asked[0]
    window.document.mark_saved()


@only_sqlite
def test_screenshot_of_the_escalation_ladder(qtbot: QtBot, window: MainWindow) -> None:
    window.open_named(LADDER)
    email = next(n for n in window.document.graph.nodes if n.type == "action.send_email")
    window.canvas.fit()
    window.canvas.select([email.id])
    qtbot.wait(300)
    save_screenshot(window, "main_window_ladder")
    assert window.windowTitle().startswith(LADDER)
    assert window.canvas.selected_ids() == [email.id]
    assert window.properties.title.text() == "Send email"
    assert window.validation.problems == [] and window.problems.empty.isVisible()
    viewer = window.canvas.graph.viewer()
    shown = viewer.mapToScene(viewer.viewport().rect()).boundingRect()
    cut_off = [
        node.id
        for node in window.document.graph.nodes
        if not shown.contains(window.canvas.view_of(node.id).view.sceneBoundingRect())
    ]
    assert len(window.document.graph.nodes) == 7 and cut_off == []  # fit shows every step


@only_sqlite
def test_rename_names_the_automation_and_undo_takes_it_back(
    qtbot: QtBot, window: MainWindow, monkeypatch
) -> None:
    from PySide6.QtWidgets import QInputDialog

    window.open_named("Delivered → confirmation email")
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Thank the client", True))
    monkeypatch.setattr(
        QInputDialog, "getMultiLineText", lambda *a, **k: ("Emails on delivery.", True)
    )
    menu_item(window, "&File", "&Rename").trigger()
    assert window.document.graph.name == "Thank the client"
    assert window.windowTitle().startswith("Thank the client •")
    menu_item(window, "&Edit", "&Undo").trigger()
    assert window.document.graph.name == "Delivered → confirmation email"


def test_two_alike_steps_read_alike_on_the_canvas(window: MainWindow) -> None:
    window.document.load(blank_graph("orders"))
    first = drop(window, "wait.duration", QPoint(200, 300))
    second = drop(window, "wait.duration", QPoint(500, 300))
    titles = [window.canvas.view_of(node).name() for node in (first, second)]
    assert titles[0] == titles[1]  # a title is a summary, not a name to keep unique
    assert titles[0].startswith("Wait ") and not titles[0][-1].isdigit()


def test_the_window_reopens_the_automation_worked_on_last(qtbot: QtBot, db: Database) -> None:
    shop(db, ManualClock())
    first = MainWindow(Session(db, "ana"))
    qtbot.addWidget(first)
    first.reopen_last()  # nothing remembered yet: the one changed last
    assert first.document.graph_id_in_db is not None  # not a blank, erroring graph
    first.open_named(LADDER)
    first.close()

    second = MainWindow(Session(db, "ana"))
    qtbot.addWidget(second)
    second.reopen_last()
    assert second.document.graph.name == LADDER
    assert not second.document.dirty


def test_a_closed_window_stops_reading_tasks(window: MainWindow) -> None:
    assert window.inbox.refresh_timer.isActive()
    window.close()
    assert not window.inbox.refresh_timer.isActive()
