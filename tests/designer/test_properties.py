"""The property forms, driven as a person would: click, choose, type, undo."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QComboBox, QWidget
from pytestqt.qtbot import QtBot

from designer.document import GraphDocument
from designer.properties import PropertiesPanel
from engine.graph.context import ValidationContext
from tests.designer.screens import save_screenshot


@pytest.fixture
def panel(
    qtbot: QtBot,
    delivered_email: GraphDocument,
    orders_context: ValidationContext,
    sample_order: dict[str, Any],
) -> PropertiesPanel:
    panel = PropertiesPanel(delivered_email)
    qtbot.addWidget(panel)
    panel.set_context(orders_context, sample_order)
    panel.resize(440, 1000)
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    return panel


def node_of(document: GraphDocument, type_id: str) -> str:
    return next(n.id for n in document.graph.nodes if n.type == type_id)


def params(panel: PropertiesPanel) -> dict[str, Any]:
    node = panel.document.graph.node(panel.node_id or "")
    assert node is not None
    return dict(node.params)


def show_new(panel: PropertiesPanel, type_id: str) -> None:
    panel.show_node(panel.document.add_node(type_id, (0.0, 0.0)))


def pick(qtbot: QtBot, combo: QComboBox, text: str) -> None:
    """Open the drop-down and click the entry showing ``text``."""
    index = combo.findText(text)
    assert index >= 0, (
        f"{text!r} is not offered: {[combo.itemText(i) for i in range(combo.count())]}"
    )
    combo.showPopup()
    view = combo.view()
    rect = view.visualRect(view.model().index(index, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: not view.isVisible())
    assert combo.currentText() == text


def click_box(qtbot: QtBot, box: QWidget) -> None:
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def retype(qtbot: QtBot, widget: QWidget, text: str) -> None:
    """Select everything in the box and type ``text`` over it."""
    widget.setFocus()
    qtbot.waitUntil(widget.hasFocus)
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    if text:
        qtbot.keyClicks(widget, text)
    else:
        qtbot.keyClick(widget, Qt.Key.Key_Backspace)


def test_without_a_selection_the_panel_says_what_to_do(panel: PropertiesPanel) -> None:
    panel.show_node(None)
    assert panel.hint.isVisible()
    assert panel.hint.text() == "Select a step to see its settings."
    assert not panel.scroll.isVisible()


def test_choosing_a_status_in_the_trigger_saves_its_code(
    qtbot: QtBot, panel: PropertiesPanel
) -> None:
    show_new(panel, "trigger.status_entered")
    assert panel.title.text() == "Status becomes"
    boxes = panel.rows["codes"].editor.boxes
    assert boxes["DEL"].text() == "DEL – Delivered"
    click_box(qtbot, boxes["DEL"])
    assert params(panel)["codes"] == ["DEL"]
    pick(qtbot, panel.rows["from_code"].editor.combo, "NEW – New")
    assert params(panel)["from_code"] == "NEW"


def test_a_typed_subject_is_saved_once_and_undo_brings_the_old_one_back(
    qtbot: QtBot, panel: PropertiesPanel
) -> None:
    document = panel.document
    panel.show_node(node_of(document, "action.send_email"))
    old = params(panel)["subject"]
    subject = panel.rows["subject"].editor.text
    commands = document.undo_stack.count()
    retype(qtbot, subject, "Your parcel has arrived")
    assert params(panel)["subject"] == old  # not saved while typing
    qtbot.keyClick(subject, Qt.Key.Key_Tab)  # leave the box: the edit is finished
    assert params(panel)["subject"] == "Your parcel has arrived"
    assert document.undo_stack.count() == commands + 1
    document.undo_stack.undo()
    assert params(panel)["subject"] == old
    assert subject.toPlainText() == old


def test_a_pause_in_typing_saves_the_text(qtbot: QtBot, panel: PropertiesPanel) -> None:
    panel.show_node(node_of(panel.document, "action.send_email"))
    retype(qtbot, panel.rows["subject"].editor.text, "Delivered")
    qtbot.waitUntil(lambda: params(panel)["subject"] == "Delivered", timeout=2000)


def test_clearing_a_required_field_says_so_in_red(qtbot: QtBot, panel: PropertiesPanel) -> None:
    panel.show_node(node_of(panel.document, "action.send_email"))
    row = panel.rows["subject"]
    assert not row.problem.isVisible()
    retype(qtbot, row.editor.text, "")
    assert row.problem.isVisible()
    assert row.problem.text() == "Subject is required. Fill it in."
    assert row.editor.text.property("invalid") is True
    qtbot.keyClicks(row.editor.text, "Hello")
    assert not row.problem.isVisible()
    assert row.editor.text.property("invalid") is False


def test_an_unknown_field_in_a_template_is_named(qtbot: QtBot, panel: PropertiesPanel) -> None:
    panel.show_node(node_of(panel.document, "action.send_email"))
    row = panel.rows["subject"]
    retype(qtbot, row.editor.text, "Hello {{ customer_nme }}")
    assert "customer_nme" in row.problem.text()
    assert "customer_name" in row.problem.text()  # the fields that can be used are listed
    assert "customer_nme" in panel.preview.problem.text()


def test_the_rule_builder_writes_a_complete_rule(qtbot: QtBot, panel: PropertiesPanel) -> None:
    show_new(panel, "condition.rules")
    editor = panel.rows["rules"].editor
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    row = editor.rows[0]
    pick(qtbot, row.field, "amount")
    pick(qtbot, row.operator, "is greater than")
    retype(qtbot, row.value, "500")
    qtbot.keyClick(row.value, Qt.Key.Key_Return)
    assert params(panel)["rules"] == {
        "match": "all",
        "rules": [{"field": "amount", "operator": "greater_than", "value": "500"}],
    }
    assert not panel.rows["rules"].problem.isVisible()


def test_a_comparison_without_a_value_hides_the_value_box(
    qtbot: QtBot, panel: PropertiesPanel
) -> None:
    show_new(panel, "condition.rules")
    editor = panel.rows["rules"].editor
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    pick(qtbot, editor.match, "Any one of these must hold")
    pick(qtbot, editor.rows[0].field, "email")
    pick(qtbot, editor.rows[0].operator, "is empty")
    assert not editor.rows[0].value.isVisible()
    assert params(panel)["rules"] == {
        "match": "any",
        "rules": [{"field": "email", "operator": "is_empty"}],
    }
    qtbot.mouseClick(editor.rows[0].remove, Qt.MouseButton.LeftButton)
    assert params(panel)["rules"] == {"match": "any", "rules": []}
    assert panel.rows["rules"].problem.text() == "Add at least one rule."


def test_the_duration_editor_writes_amount_and_unit(qtbot: QtBot, panel: PropertiesPanel) -> None:
    show_new(panel, "wait.duration")
    editor = panel.rows["duration"].editor
    retype(qtbot, editor.amount, "2")
    qtbot.keyClick(editor.amount, Qt.Key.Key_Return)
    pick(qtbot, editor.unit, "hours")
    assert params(panel)["duration"] == {"amount": 2, "unit": "hours"}
    retype(qtbot, editor.amount, "0")
    qtbot.keyClick(editor.amount, Qt.Key.Key_Return)
    assert panel.rows["duration"].problem.text() == "The amount must be more than zero."


def test_the_email_preview_shows_the_sample_customer(panel: PropertiesPanel) -> None:
    panel.show_node(node_of(panel.document, "action.send_email"))
    assert panel.preview is not None
    assert panel.preview.body.toPlainText().startswith("Dear Anna Berg,")
    assert panel.preview.subject.text() == "Your order 17 has been delivered"
    assert panel.preview.to.text() == "anna.berg@example.com"
    assert not panel.preview.problem.isVisible()


def test_insert_field_puts_the_placeholder_at_the_cursor(
    qtbot: QtBot, panel: PropertiesPanel
) -> None:
    panel.show_node(node_of(panel.document, "action.send_email"))
    editor = panel.rows["subject"].editor
    retype(qtbot, editor.text, "Hello  !")
    qtbot.keyClick(editor.text, Qt.Key.Key_Left)
    qtbot.keyClick(editor.text, Qt.Key.Key_Left)
    menu = editor.insert.menu()
    action = next(a for a in menu.actions() if a.data() == "customer_name")
    assert "record_key" in [a.data() for a in menu.actions()]  # built-ins are offered too
    action.trigger()
    assert editor.text.toPlainText() == "Hello {{ customer_name }} !"
    assert params(panel)["subject"] == "Hello {{ customer_name }} !"
    assert panel.preview.subject.text() == "Hello Anna Berg !"


def test_undo_elsewhere_keeps_the_cursor_in_the_box_being_edited(
    qtbot: QtBot, panel: PropertiesPanel
) -> None:
    document = panel.document
    node_id = node_of(document, "action.send_email")
    panel.show_node(node_id)
    body = panel.rows["body_text"].editor.text
    body.setFocus()
    cursor = body.textCursor()
    cursor.setPosition(5)
    body.setTextCursor(cursor)
    document.set_params(node_id, {**params(panel), "subject": "Changed elsewhere"})
    assert panel.rows["subject"].editor.text.toPlainText() == "Changed elsewhere"
    assert body.textCursor().position() == 5


def test_settings_appear_when_they_apply(qtbot: QtBot, panel: PropertiesPanel) -> None:
    panel.show_node(node_of(panel.document, "action.send_email"))
    safety = panel.sections["Safety"]
    assert not safety.body.isVisible()  # folded until opened
    qtbot.mouseClick(safety.toggle, Qt.MouseButton.LeftButton)
    assert not panel.rows["skip_field"].isVisible()
    pick(qtbot, panel.rows["skip_if_changed"].editor.combo, "a chosen field changed")
    assert panel.rows["skip_field"].isVisible()
    assert params(panel)["skip_if_changed"] == "field"


def test_a_schedule_is_read_back_in_plain_words(qtbot: QtBot, panel: PropertiesPanel) -> None:
    show_new(panel, "trigger.schedule")
    editor = panel.rows["cron"].editor
    assert editor.reading.text() == "Every weekday at 08:00"
    retype(qtbot, editor.line, "*/15 * * * *")
    assert editor.reading.text() == "Every 15 minutes"
    retype(qtbot, editor.line, "0 25 * * *")
    assert "hour must be a number from 0 to 23" in panel.rows["cron"].problem.text()


def test_screenshot_of_the_email_step(panel: PropertiesPanel) -> None:
    panel.show_node(node_of(panel.document, "action.send_email"))
    QApplication.processEvents()
    save_screenshot(panel, "properties_email")
    assert panel.title.text() == "Send email" and not panel.hint.isVisible()
    assert [name for name in ("to", "subject", "body_text") if panel.rows[name].isVisible()] == [
        "to",
        "subject",
        "body_text",
    ]
    assert panel.rows["subject"].editor.text.toPlainText() == params(panel)["subject"]
    assert not any(row.problem.isVisible() for row in panel.rows.values())
    preview = panel.preview
    assert preview is not None and preview.isVisible()
    assert preview.title.text() == "Preview: the email for record 17"
    assert preview.subject.text() == "Your order 17 has been delivered"
    assert preview.body.toPlainText().startswith("Dear Anna Berg,")
    bottom = preview.mapTo(panel, QPoint(0, preview.height())).y()
    assert 0 < bottom <= panel.height()  # the whole preview is inside the panel
