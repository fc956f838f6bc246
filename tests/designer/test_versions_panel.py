"""The versions panel, driven by a designer (ana), a publisher (ben) and an admin (root)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QSplitter
from pytestqt.qtbot import QtBot

from designer.ask_dialog import AskDialog
from designer.canvas import Canvas
from designer.diff_view import ADDED_COLOUR, CHANGED_COLOUR
from designer.document import GraphDocument
from designer.node_classes import COLOURS
from designer.versions_panel import VersionsPanel
from engine import demo, graphs, permissions
from engine.governance import users, versions
from engine.governance.test_run import simulate
from engine.graph.model import PortRef, new_edge, new_node
from engine.nodes.spec import Category
from engine.storage.database import Database
from tests.designer.screens import save_screenshot
from tests.engine.runtime.graphs import Builder

DELIVERED = "Delivered → confirmation email"
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
pytestmark = SQLITE_ONLY


@pytest.fixture
def shop(db: Database) -> str:
    """The demo shop with an admin, a designer and a publisher; returns the graph's id."""
    users.add_user(db, "root", display_name="Admin", roles=["admin"], actor="root")
    users.add_user(db, "ana", display_name="Ana", roles=["designer"], actor="root")
    users.add_user(db, "ben", display_name="Ben", roles=["publisher"], actor="root")
    demo.install(db, actor="root")
    with db.read() as conn:
        return graphs.find_graph(conn, DELIVERED).id


@pytest.fixture
def boxes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Message boxes shown, as (title, text); questions are answered Yes."""
    shown: list[tuple[str, str]] = []

    def record(answer: QMessageBox.StandardButton) -> Callable[..., QMessageBox.StandardButton]:
        def box(_parent: Any, title: str, text: str, *_args: Any) -> QMessageBox.StandardButton:
            shown.append((title, text))
            return answer

        return box

    for name in ("warning", "information", "critical"):
        monkeypatch.setattr(QMessageBox, name, record(QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "question", record(QMessageBox.StandardButton.Yes))
    return shown


def open_panel(qtbot: QtBot, db: Database, actor: str, graph_id: str) -> VersionsPanel:
    panel = VersionsPanel(db, actor)
    qtbot.addWidget(panel)
    panel.resize(1000, 520)
    panel.show()
    panel.show_graph(graph_id)
    idle(qtbot, panel)
    return panel


def idle(qtbot: QtBot, panel: VersionsPanel) -> None:
    qtbot.waitUntil(lambda: not panel.worker.busy, timeout=10_000)


def answer_next_dialog(qtbot: QtBot, text: str = "", tick: bool = False) -> list[AskDialog]:
    """When the next dialog opens: type ``text``, tick its box if asked, press OK."""
    seen: list[AskDialog] = []
    timer = QTimer(interval=20)

    def fill() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, AskDialog) or seen:
            return
        timer.stop()
        seen.append(dialog)
        qtbot.keyClicks(dialog.edit, text)
        if tick:
            dialog.tick.setChecked(True)
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)

    timer.timeout.connect(fill)
    timer.start()
    seen_timer.append(timer)  # kept alive until the test ends
    return seen


seen_timer: list[QTimer] = []


def column(panel: VersionsPanel, name: str) -> list[str]:
    headers = panel.table.columnCount()
    index = [panel.table.horizontalHeaderItem(i).text() for i in range(headers)].index(name)
    return [panel.table.item(row, index).text() for row in range(panel.table.rowCount())]


def pick(qtbot: QtBot, panel: VersionsPanel, *labels: str) -> None:
    """Click the first version's row, Ctrl-click the others."""
    for n, label in enumerate(labels):
        row = column(panel, "Version").index(label)
        rect = panel.table.visualItemRect(panel.table.item(row, 0))
        modifier = Qt.KeyboardModifier.ControlModifier if n else Qt.KeyboardModifier.NoModifier
        qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def click(qtbot: QtBot, panel: VersionsPanel, button: Any) -> None:
    with qtbot.waitSignal(panel.changed, timeout=10_000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    idle(qtbot, panel)


def set_subject(db: Database, graph_id: str, subject: str) -> str:
    """Save the draft with the email's subject changed; returns the email step's id."""
    with db.read() as conn:
        graph = graphs.load_draft(conn, graph_id)
    email = next(node for node in graph.nodes if node.type == "action.send_email")
    changed = graph.with_params(email.id, {**email.params, "subject": subject})
    graphs.save_draft(db, graph_id, changed.to_document(), actor="ana")
    return email.id


def submit_and_publish(db: Database, graph_id: str) -> None:
    version = versions.submit(db, graph_id, actor="ana")
    versions.approve(db, version.id, actor="ben")
    versions.publish(db, version.id, actor="ben")


def test_a_designer_may_submit_but_not_publish(qtbot: QtBot, db: Database, shop: str) -> None:
    panel = open_panel(qtbot, db, "ana", shop)
    assert panel.submit_button.isVisible() and panel.submit_button.isEnabled()
    for hidden in (panel.approve_button, panel.reject_button, panel.publish_button):
        assert hidden.isHidden()
    assert panel.rollback_button.isHidden() and panel.enable_button.isHidden()

    answer_next_dialog(qtbot, "First version of the delivery email")
    click(qtbot, panel, panel.submit_button)

    assert column(panel, "Version") == ["V1.0"]
    assert column(panel, "State") == ["In review"]
    assert column(panel, "Change note") == ["First version of the delivery email"]
    assert column(panel, "Submitted")[0].startswith("ana, ")
    assert panel.message.text() == "Submitted V1.0 for review."


def test_a_publisher_approves_and_publishes_with_the_buttons(
    qtbot: QtBot, db: Database, shop: str
) -> None:
    versions.submit(db, shop, actor="ana", note="first")
    panel = open_panel(qtbot, db, "ben", shop)
    assert panel.submit_button.isHidden()  # a publisher does not author
    assert not panel.publish_button.isEnabled()  # nothing chosen yet
    pick(qtbot, panel, "V1.0")
    assert panel.approve_button.isVisible() and panel.approve_button.isEnabled()
    assert not panel.publish_button.isEnabled()  # not approved yet

    answer_next_dialog(qtbot, "Looks right")
    click(qtbot, panel, panel.approve_button)
    assert column(panel, "State") == ["Approved"]
    assert column(panel, "Review") == ["ben: Looks right"]

    pick(qtbot, panel, "V1.0")
    click(qtbot, panel, panel.publish_button)
    assert column(panel, "State") == ["Published (current)"]
    assert column(panel, "Published")[0].startswith("ben, ")  # who published, and when
    assert "published version: V1.0;" in panel.heading.text()


def test_approving_your_own_version_is_not_offered_and_is_refused(
    qtbot: QtBot, db: Database, shop: str, boxes: list[tuple[str, str]]
) -> None:
    versions.submit(db, shop, actor="root")
    panel = open_panel(qtbot, db, "root", shop)
    pick(qtbot, panel, "V1.0")
    four_eyes = "You wrote V1.0, so someone else must approve it (four-eyes rule)."
    # an admin may approve, but not their own work: the button says why it is off
    assert panel.approve_button.isVisible() and not panel.approve_button.isEnabled()
    assert panel.approve_button.toolTip() == four_eyes
    assert panel.why_not.isVisible() and panel.why_not.text() == four_eyes
    assert panel.reject_button.isEnabled()

    answer_next_dialog(qtbot)
    panel.approve()  # forced past the disabled button: the service has the last word
    qtbot.waitUntil(lambda: bool(boxes), timeout=10_000)
    assert boxes == [("Not approved", four_eyes)]
    assert column(panel, "State") == ["In review"]


def test_a_designer_forcing_approve_sees_which_role_is_needed(
    qtbot: QtBot, db: Database, shop: str, boxes: list[tuple[str, str]]
) -> None:
    versions.submit(db, shop, actor="root")
    panel = open_panel(qtbot, db, "ana", shop)
    pick(qtbot, panel, "V1.0")
    assert panel.approve_button.isHidden()
    answer_next_dialog(qtbot)
    panel.approve()  # forced past the hidden button
    qtbot.waitUntil(lambda: bool(boxes), timeout=10_000)
    title, text = boxes[0]
    assert title == "Not approved"
    assert "approving a version needs the publisher role" in text


def test_rejecting_needs_a_comment(qtbot: QtBot, db: Database, shop: str) -> None:
    versions.submit(db, shop, actor="ana")
    panel = open_panel(qtbot, db, "ben", shop)
    pick(qtbot, panel, "V1.0")
    seen = answer_next_dialog(qtbot, "Say which order number")
    disabled_before_typing: list[bool] = []
    QTimer.singleShot(0, lambda: disabled_before_typing.append(not _modal_ok_enabled()))
    click(qtbot, panel, panel.reject_button)
    assert disabled_before_typing == [True]
    assert seen and column(panel, "State") == ["Rejected"]
    assert column(panel, "Review") == ["ben: Say which order number"]


def _modal_ok_enabled() -> bool:
    dialog = QApplication.activeModalWidget()
    return isinstance(dialog, AskDialog) and dialog.ok.isEnabled()


def test_rollback_says_which_runs_keep_going(
    qtbot: QtBot, db: Database, shop: str, boxes: list[tuple[str, str]]
) -> None:
    submit_and_publish(db, shop)
    set_subject(db, shop, "Delivered!")
    simulate(db, shop, actor="ana", record_key="1")  # its verdict goes with the version
    submit_and_publish(db, shop)
    set_subject(db, shop, "Delivered!!!")
    rejected = versions.submit(db, shop, actor="ana", note="More excitement")
    versions.reject(db, rejected.id, actor="ben", comment="Too loud")
    panel = open_panel(qtbot, db, "ben", shop)
    assert column(panel, "State") == ["Rejected", "Published (current)", "Superseded"]
    assert column(panel, "Last test") == ["Not tested", "Succeeded", "Not tested"]
    assert column(panel, "Review")[0] == "ben: Too loud"
    pick(qtbot, panel, "V1.1")
    assert not panel.rollback_button.isEnabled()  # already current
    pick(qtbot, panel, "V1.0")
    click(qtbot, panel, panel.rollback_button)
    assert boxes[0][0] == "Roll back"  # asked first
    assert boxes[1] == (
        "Rolled back",
        f"'{DELIVERED}' now runs V1.0 (it was V1.1). No runs are going right now.",
    )
    assert column(panel, "State") == ["Rejected", "Superseded", "Published (current)"]
    save_screenshot(panel, "versions")


def test_disable_and_enable_the_graph(qtbot: QtBot, db: Database, shop: str) -> None:
    panel = open_panel(qtbot, db, "ben", shop)
    assert panel.enable_button.text() == "Disable graph…"
    answer_next_dialog(qtbot, tick=True)
    click(qtbot, panel, panel.enable_button)
    assert "disabled, so no new runs start" in panel.heading.text()
    assert panel.enable_button.text() == "Enable graph"
    click(qtbot, panel, panel.enable_button)
    assert panel.heading.text().endswith("; switched on.")


def approved_loop(db: Database) -> str:
    """Graph A (PRC → set SHP) published; Graph B (SHP → set PRC) approved: its id."""
    for name, when, then in (("Graph A", "PRC", "SHP"), ("Graph B", "SHP", "PRC")):
        g = Builder(name)
        g.line(
            g.node("trigger.status_entered", codes=[when]), g.node("action.set_status", code=then)
        )
        graphs.create_graph(db, g.document(), actor="ana")
        version = versions.submit(db, name, actor="ana")
        versions.approve(db, version.id, actor="ben")
        if name == "Graph A":
            versions.publish(db, version.id, actor="ben")
    return version.graph_id


def test_an_admin_may_publish_past_a_loop_with_a_reason(
    qtbot: QtBot, db: Database, shop: str, boxes: list[tuple[str, str]]
) -> None:
    panel = open_panel(qtbot, db, "root", approved_loop(db))
    pick(qtbot, panel, "V1.0")
    answer_next_dialog(qtbot, "The loop guard stops it after one round")
    click(qtbot, panel, panel.publish_button)
    _title, text = boxes[0]  # the question: the service's sentence, then the offer
    assert text.startswith("Publishing V1.0 would make graphs trigger each other in a loop")
    assert "publish anyway" in text
    assert column(panel, "State") == ["Published (current)"]


def test_a_publisher_only_hears_why_a_loop_is_refused(
    qtbot: QtBot, db: Database, shop: str, boxes: list[tuple[str, str]]
) -> None:
    panel = open_panel(qtbot, db, "ben", approved_loop(db))
    pick(qtbot, panel, "V1.0")
    qtbot.mouseClick(panel.publish_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(boxes), timeout=10_000)
    idle(qtbot, panel)
    assert len(boxes) == 1 and boxes[0][0] == "Not published"
    assert boxes[0][1].startswith("Publishing V1.0 would make graphs trigger each other")
    assert column(panel, "State") == ["Approved"]


def test_compare_lists_the_change_and_marks_it_on_the_canvas(
    qtbot: QtBot, db: Database, shop: str
) -> None:
    email_id = set_subject(db, shop, "A")
    submit_and_publish(db, shop)
    set_subject(db, shop, "B")
    versions.submit(db, shop, actor="ana", note="Friendlier subject")
    with db.read() as conn:
        draft = graphs.load_draft(conn, shop)
    document = GraphDocument(draft)
    document.graph_id_in_db = shop
    canvas = Canvas(document)
    panel = VersionsPanel(db, "ben")
    panel.attach_canvas(canvas)
    window = QSplitter()
    window.addWidget(canvas.widget)
    window.addWidget(panel)
    qtbot.addWidget(window)
    window.resize(1500, 640)
    window.show()
    panel.show_graph(shop)
    idle(qtbot, panel)

    pick(qtbot, panel, "V1.0")
    assert not panel.compare_button.isEnabled()
    pick(qtbot, panel, "V1.0", "V1.1")
    assert panel.compare_button.isEnabled()
    qtbot.mouseClick(panel.compare_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(panel.compare_pane.isVisible, timeout=10_000)

    lines = panel.compare_pane.line_texts()
    assert any("Subject: 'A' → 'B'" in line for line in lines), lines
    assert panel.compare_pane.title.text() == "What changed from V1.0 to V1.1"
    assert canvas.view_of(email_id).color() == CHANGED_COLOUR
    trigger = next(n.id for n in draft.nodes if n.id != email_id)
    assert canvas.view_of(trigger).color() == COLOURS[Category.TRIGGER]
    canvas.fit()
    save_screenshot(window, "version_diff")

    shown: list[str] = []
    panel.compare_pane.viewing_version.connect(shown.append)
    qtbot.mouseClick(panel.compare_pane.show_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shown == ["V1.1"], timeout=10_000)
    assert document.graph_id_in_db is None  # not the draft: saving it is not offered
    assert panel.compare_pane.banner.text() == "Viewing V1.1 (read-only)"
    assert canvas.view_of(email_id).color() == CHANGED_COLOUR  # marks survive the reload

    with qtbot.waitSignal(panel.compare_pane.back_to_draft_requested) as back:
        qtbot.mouseClick(panel.compare_pane.back_button, Qt.MouseButton.LeftButton)
    assert back.args == [shop]
    assert panel.compare_pane.banner.isHidden()
    qtbot.mouseClick(panel.compare_pane.clear_button, Qt.MouseButton.LeftButton)
    assert canvas.view_of(email_id).color() == COLOURS[Category.ACTION]


def test_an_added_step_is_green_and_unsaved_edits_are_not_thrown_away(
    qtbot: QtBot, db: Database, shop: str, boxes: list[tuple[str, str]]
) -> None:
    submit_and_publish(db, shop)
    with db.read() as conn:
        draft = graphs.load_draft(conn, shop)
    email = next(n for n in draft.nodes if n.type == "action.send_email")
    note = new_node("action.add_note", {"note": "Confirmation sent"})
    longer = draft.with_node(note, (580.0, 0.0)).with_edge(
        new_edge(PortRef(email.id, "out"), PortRef(note.id, "in"))
    )
    graphs.save_draft(db, shop, longer.to_document(), actor="ana")
    versions.submit(db, shop, actor="ana")
    document = GraphDocument(longer)
    canvas = Canvas(document)
    panel = open_panel(qtbot, db, "ben", shop)
    panel.attach_canvas(canvas)
    pick(qtbot, panel, "V1.0", "V1.1")
    qtbot.mouseClick(panel.compare_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(panel.compare_pane.isVisible, timeout=10_000)
    assert canvas.view_of(note.id).color() == ADDED_COLOUR
    assert canvas.view_of(email.id).color() == COLOURS[Category.ACTION]
    assert "added 'Note: Confirmation sent'" in panel.compare_pane.line_texts()

    document.set_params(note.id, {"note": "Edited, not saved"})
    edited = document.graph
    qtbot.mouseClick(panel.compare_pane.show_button, Qt.MouseButton.LeftButton)
    assert boxes and boxes[0][0] == "Save the draft first"
    assert document.graph == edited


def test_the_buttons_follow_the_permission_matrix_not_a_rule_of_their_own(
    qtbot: QtBot, db: Database, shop: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Changing who may approve in the engine's matrix changes what the panel offers: the
    panel draws its buttons from the review service's answer and restates nothing."""
    versions.submit(db, shop, actor="root")
    before = open_panel(qtbot, db, "ana", shop)
    pick(qtbot, before, "V1.0")
    assert before.approve_button.isHidden()

    monkeypatch.setitem(permissions.PERMISSIONS, "graph.approve", ("designer", "publisher"))
    after = open_panel(qtbot, db, "ana", shop)
    pick(qtbot, after, "V1.0")

    assert after.approve_button.isVisible() and after.approve_button.isEnabled()
    assert after.reject_button.isHidden()  # rejecting still needs the publisher role
