"""The canvas driven as a person works it: presses, drags, keys and right-clicks.

Every gesture is a real event sent to the NodeGraphQt view's viewport with pytest-qt
(``qtbot.mousePress/mouseMove/mouseRelease/mouseClick``, ``keyClick``), at a point
computed from the items' scene geometry with ``viewer.mapFromScene``. So it takes the
path a person's does: ``NodeViewer.mousePressEvent`` → ``NodeScene.mousePressEvent`` →
``NodeViewer.sceneMousePressEvent`` (which starts the ``LivePipeItem`` on a port),
``sceneMouseMoveEvent`` (which draws it), and on release ``apply_live_connection``
(which connects to the port under the cursor) or ``moved_nodes``; from there the
designer's ``Canvas`` asks the ``GraphDocument``, the graph the window saves, to change.

What it took, and why:

* Plain pytest-qt mouse events are enough. Qt 6's ``QTest`` remembers the pressed
  button, so a ``qtbot.mouseMove`` between press and release carries ``LeftButton`` in
  ``buttons()``, as a held mouse does; no hand-made ``QMouseEvent`` is needed. Drags
  still move in several steps, so the live pipe and the moving step see the moves.
* Keys go where a person's go, the focused widget: a click on the canvas focuses the
  view, and ``key`` checks that before pressing. Delete and Ctrl+Z are the window's
  Edit actions; shortcuts fire only in the active window, so the fixture waits for it.
* A right-click from ``QTest`` is only a press and a release: the ``ContextMenu`` event
  a window system adds is sent by hand, between the two. The menu's ``exec()`` blocks,
  so a ``QTimer`` started before the click reads the open menu and closes it with Escape.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from NodeGraphQt.qgraphics.pipe import LivePipeItem, PipeItem
from PySide6.QtCore import QPoint, QPointF, QRect, QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QGraphicsView, QMenu
from pytestqt.qtbot import QtBot

from designer.main_window import MainWindow, blank_graph
from designer.session import Session
from engine.clock import ManualClock
from engine.graph.model import PortRef
from engine.storage.database import Database
from tests.designer.screens import save_screenshot
from tests.engine.runtime.support import shop

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # no SQL here

LEFT, RIGHT = Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton
CTRL = Qt.KeyboardModifier.ControlModifier
# the document's history, named for what it would undo (adding the two steps)
CANVAS_MENU = ["&Undo Add Send email", "&Redo"]


@pytest.fixture
def window(qtbot: QtBot, db: Database, tmp_path: Path) -> Iterator[MainWindow]:
    """The designer on the demo shop, active (shortcuts need it), on a blank graph."""
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))
    shop(db, ManualClock())
    win = MainWindow(Session(db, "ana"))
    qtbot.addWidget(win)
    win.resize(1400, 850)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win)
    win.document.load(blank_graph("orders"))
    QApplication.processEvents()  # the window fits the view once after a load; let it
    yield win
    win.document.mark_saved()  # closing at teardown must not wait for an answer


# -- where things are on screen ---------------------------------------------------------


def viewer(window: MainWindow) -> QGraphicsView:
    return window.canvas.graph.viewer()


def on_screen(window: MainWindow, scene_point: QPointF) -> QPoint:
    """Where a scene point is in the viewport; it must be visible to be pointed at."""
    view = viewer(window)
    point = view.mapFromScene(scene_point)
    assert view.viewport().rect().contains(point), f"{scene_point} is off screen"
    return point


def node_point(window: MainWindow, node_id: str) -> QPoint:
    """The middle of a step's title bar, where a person grabs it."""
    rect = window.canvas.view_of(node_id).view.sceneBoundingRect()
    return on_screen(window, QPointF(rect.center().x(), rect.top() + 12))


def port_point(window: MainWindow, node_id: str, port: str, *, output: bool) -> QPoint:
    """The middle of a port's dot (``port`` as the canvas names it)."""
    view = window.canvas.view_of(node_id)
    found = view.get_output(port) if output else view.get_input(port)
    return on_screen(window, found.view.sceneBoundingRect().center())


def empty_point(window: MainWindow) -> QPoint:
    """A point of bare canvas, nothing within 30 pixels."""
    view = viewer(window)
    point = QPoint(40, view.viewport().height() - 40)
    assert view.items(QRect(point - QPoint(30, 30), QSize(60, 60))) == []
    return point


def pipes(window: MainWindow) -> list[tuple[str, str, str, str]]:
    """The pipes drawn on the canvas: (step title, output, step title, input)."""
    drawn = [
        item
        for item in viewer(window).scene().items()
        if isinstance(item, PipeItem) and not isinstance(item, LivePipeItem) and item.isVisible()
    ]
    return [
        (p.output_port.node.name, p.output_port.name, p.input_port.node.name, p.input_port.name)
        for p in drawn
        if p.output_port and p.input_port
    ]


# -- gestures ---------------------------------------------------------------------------


def drag(qtbot: QtBot, window: MainWindow, start: QPoint, end: QPoint, steps: int = 8) -> None:
    """Press, move there in several steps with the button held, let go."""
    viewport = viewer(window).viewport()
    qtbot.mousePress(viewport, LEFT, pos=start)
    for step in range(1, steps + 1):
        qtbot.mouseMove(viewport, start + (end - start) * step / steps)
    qtbot.mouseRelease(viewport, LEFT, pos=end)


def click(qtbot: QtBot, window: MainWindow, at: QPoint) -> None:
    qtbot.mouseClick(viewer(window).viewport(), LEFT, pos=at)


def key(
    qtbot: QtBot,
    window: MainWindow,
    pressed: Qt.Key,
    modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> None:
    """A key pressed where the keyboard is: the canvas, which the last click focused."""
    focused = QApplication.focusWidget()
    assert focused is viewer(window), f"the keyboard is on {focused}, not on the canvas"
    qtbot.keyClick(focused, pressed, modifier)


def right_click_menu(qtbot: QtBot, window: MainWindow, at: QPoint) -> list[tuple[str, bool]]:
    """Right-click at ``at``: the menu that opens, as (text, enabled); Escape closes it."""
    seen: list[list[tuple[str, bool]]] = []
    tries = iter(range(200))  # 2 s, then stop looking: no stray timer outlives the test

    def read_and_close() -> None:
        menu = QApplication.activePopupWidget()
        if not isinstance(menu, QMenu):
            if next(tries, None) is not None:
                QTimer.singleShot(10, read_and_close)  # not open yet
            return
        seen.append([(a.text(), a.isEnabled()) for a in menu.actions() if not a.isSeparator()])
        qtbot.keyClick(menu, Qt.Key.Key_Escape)

    viewport = viewer(window).viewport()
    QTimer.singleShot(0, read_and_close)  # runs inside the menu's exec()
    qtbot.mousePress(viewport, RIGHT, pos=at)
    QApplication.sendEvent(
        viewport,
        QContextMenuEvent(
            QContextMenuEvent.Reason.Mouse, at, viewport.mapToGlobal(at), Qt.KeyboardModifier(0)
        ),
    )
    qtbot.mouseRelease(viewport, RIGHT, pos=at)
    qtbot.waitUntil(lambda: bool(seen), timeout=2000)
    assert QApplication.activePopupWidget() is None  # Escape closed it
    return seen[0]


def two_steps(window: MainWindow, first: str = "trigger.status_entered") -> tuple[str, str]:
    """A step on the left and an email on the right, both in view, nothing selected."""
    left = window.document.add_node(first, (0.0, 0.0))
    email = window.document.add_node("action.send_email", (420.0, 60.0))
    window.canvas.fit()
    window.canvas.select([])
    return left, email


# -- 1. connect -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "canvas_port", "saved_port"),
    [
        ("trigger.status_entered", "out", "out"),
        ("condition.rules", "No", "false"),  # a branch is shown by label, saved by name
    ],
)
def test_dragging_from_an_output_to_an_input_connects_the_steps(
    qtbot: QtBot, window: MainWindow, first: str, canvas_port: str, saved_port: str
) -> None:
    """The pipe a person draws is an edge in the saved graph and a pipe on the canvas;
    Ctrl+Z takes both away."""
    left, email = two_steps(window, first)
    start = port_point(window, left, canvas_port, output=True)
    end = port_point(window, email, "in", output=False)

    drag(qtbot, window, start, end)

    [edge] = window.document.graph.edges
    assert (edge.source, edge.target) == (PortRef(left, saved_port), PortRef(email, "in"))
    titles = [window.canvas.view_of(n).name() for n in (left, email)]
    assert pipes(window) == [(titles[0], canvas_port, titles[1], "in")]
    assert not viewer(window)._LIVE_PIPE.isVisible()  # the drag is over
    assert window.windowTitle().startswith("Untitled automation •")  # unsaved change
    with qtbot.waitSignal(window.validation.problems_changed, timeout=3000):
        window.validation.refresh()  # the screenshot shows problems of this graph
    save_screenshot(window, f"canvas_connect_by_drag_{saved_port}")

    key(qtbot, window, Qt.Key.Key_Z, CTRL)

    assert window.document.graph.edges == ()
    assert pipes(window) == []


# -- 2. select --------------------------------------------------------------------------


def test_clicking_a_step_selects_only_it_and_shows_its_settings(
    qtbot: QtBot, window: MainWindow
) -> None:
    """The click replaces the earlier selection, and the properties panel follows it."""
    trigger, email = two_steps(window)
    window.canvas.select([trigger])
    assert window.properties.title.text() == "Status becomes"

    click(qtbot, window, node_point(window, email))

    assert window.canvas.selected_ids() == [email]
    assert window.canvas.view_of(email).view.isSelected()
    assert not window.canvas.view_of(trigger).view.isSelected()
    assert window.properties.node_id == email
    assert window.properties.title.text() == "Send email"
    assert "subject" in window.properties.rows  # the email's own form


# -- 3. move ----------------------------------------------------------------------------


def test_dragging_a_step_moves_it_and_ctrl_z_puts_it_back(qtbot: QtBot, window: MainWindow) -> None:
    """The saved layout follows the mouse, and the whole drag is one undoable step."""
    trigger, email = two_steps(window)
    before = window.document.graph.layout[email]
    history = window.document.undo_stack.count()
    start = node_point(window, email)
    end = start + QPoint(-90, 70)
    delta = viewer(window).mapToScene(end) - viewer(window).mapToScene(start)

    drag(qtbot, window, start, end)

    x, y = window.document.graph.layout[email]
    assert (x, y) == pytest.approx((before[0] + delta.x(), before[1] + delta.y()), abs=1.0)
    assert window.canvas.view_of(email).pos() == pytest.approx([x, y])
    assert window.document.graph.layout[trigger] == (0.0, 0.0)  # only the one grabbed
    assert window.document.undo_stack.count() == history + 1

    key(qtbot, window, Qt.Key.Key_Z, CTRL)

    assert window.document.graph.layout[email] == before
    assert window.canvas.view_of(email).pos() == pytest.approx(list(before))


# -- 4. delete --------------------------------------------------------------------------


def test_delete_key_removes_the_selected_step_and_ctrl_z_brings_it_back(
    qtbot: QtBot, window: MainWindow
) -> None:
    """Delete takes the step and its pipes out of the graph; Ctrl+Z restores both."""
    trigger, email = two_steps(window)
    window.document.connect_ports(PortRef(trigger, "out"), PortRef(email, "in"))
    before = window.document.graph
    assert len(pipes(window)) == 1
    click(qtbot, window, node_point(window, email))

    key(qtbot, window, Qt.Key.Key_Delete)

    assert window.document.graph.node(email) is None
    assert window.document.graph.edges == ()
    assert window.canvas.view_of(email) is None
    assert pipes(window) == []
    assert window.document.graph.node(trigger) is not None  # only the selected one

    key(qtbot, window, Qt.Key.Key_Z, CTRL)

    assert window.document.graph == before
    assert window.canvas.view_of(email) is not None
    assert len(pipes(window)) == 1


# -- 5. context menus -------------------------------------------------------------------


def test_right_click_on_the_canvas_or_on_a_step_opens_the_canvas_menu(
    qtbot: QtBot, window: MainWindow
) -> None:
    """What a right-click offers today (NodeGraphQt's menu), on bare canvas and on a step;
    Escape closes it without changing the graph."""
    _trigger, email = two_steps(window)
    before = window.document.graph

    on_canvas = right_click_menu(qtbot, window, empty_point(window))
    on_step = right_click_menu(qtbot, window, node_point(window, email))

    assert [text for text, _ in on_canvas] == CANVAS_MENU
    assert [text for text, _ in on_step] == CANVAS_MENU
    assert window.document.graph == before


def test_the_canvas_menu_offers_undo_after_an_edit(qtbot: QtBot, window: MainWindow) -> None:
    """After a move, the right-click menu's Undo should be available, as Edit → Undo is."""
    _trigger, email = two_steps(window)
    start = node_point(window, email)
    drag(qtbot, window, start, start + QPoint(60, 40))
    assert window.document.undo_stack.canUndo()

    menu = right_click_menu(qtbot, window, empty_point(window))

    assert menu[0][0].startswith("&Undo") and menu[0][1], menu
