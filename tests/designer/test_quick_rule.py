"""The quick-rule form: one sentence becomes a stored, valid automation, or says what is wrong."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QComboBox, QDialog, QWidget
from pytestqt.qtbot import QtBot

from designer.quick_rule import PROBLEM_STYLE, QuickRuleDialog
from designer.session import Session
from engine import demo, graphs
from engine.clock import ManualClock
from engine.storage.database import Database
from tests.designer.screens import save_screenshot

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def session(db: Database) -> Session:
    demo.install(db, actor="ana", clock=ManualClock())
    return Session(db, "ana")


@pytest.fixture
def dialog(qtbot: QtBot, session: Session) -> QuickRuleDialog:
    form = QuickRuleDialog(session)
    qtbot.addWidget(form)
    form.show()
    return form


def pick(combo: QComboBox, text: str) -> None:
    """Choose an entry the way a person does: by what it says."""
    index = combo.findText(text)
    assert index >= 0, (
        f"{text!r} is not offered: {[combo.itemText(i) for i in range(combo.count())]}"
    )
    combo.setCurrentIndex(index)


def type_text(widget: QWidget, text: str) -> None:
    """Type like a keyboard does (QTest.keyClicks only handles Latin-1, not '→')."""
    for char in text:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(widget, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, char))


def fill_email(qtbot: QtBot, dialog: QuickRuleDialog, subject: str) -> None:
    pick(dialog.source, "orders")
    pick(dialog.code, "DEL – Delivered")
    pick(dialog.action, "send an email")
    editors = dialog.form().editors
    qtbot.keyClicks(editors["subject"], subject)
    qtbot.keyClicks(editors["body_text"], "Thank you for order {{ record_key }}.")


def test_email_rule_is_created_and_valid(
    qtbot: QtBot, dialog: QuickRuleDialog, session: Session
) -> None:
    fill_email(qtbot, dialog, "Thanks")
    assert dialog.name.text() == "Delivered → send an email"

    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)

    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.created_name() == "Delivered → send an email"
    graph = session.open_graph("Delivered → send an email")
    _, problems = graphs.check_document(session.db, graph.to_document())
    assert [p.message for p in problems if p.severity == "error"] == []
    trigger, email = graph.nodes
    assert (graph.source, trigger.params["codes"]) == ("orders", ["DEL"])
    assert (email.params["to"], email.params["subject"]) == ("{{ email }}", "Thanks")


def test_empty_subject_shows_the_problem_and_creates_nothing(
    qtbot: QtBot, dialog: QuickRuleDialog, session: Session
) -> None:
    before = [g.name for g in session.list_graphs()]
    fill_email(qtbot, dialog, "")

    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)

    assert dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.problems.isVisible()
    assert dialog.problems.text() == "• Subject is required. Fill it in."
    assert dialog.form().labels["subject"].styleSheet() == PROBLEM_STYLE
    assert [g.name for g in session.list_graphs()] == before
    save_screenshot(dialog, "quick_rule")


def test_a_name_already_used_is_refused(
    qtbot: QtBot, dialog: QuickRuleDialog, session: Session
) -> None:
    fill_email(qtbot, dialog, "Thanks")
    dialog.name.clear()
    type_text(dialog.name, "Delivered → confirmation email")

    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)

    assert dialog.problems.text() == (
        "• An automation named 'Delivered → confirmation email' already exists; "
        "choose another name."
    )
    assert dialog.name_label.styleSheet() == PROBLEM_STYLE
    assert dialog.created_name() is None


def test_set_status_rule_offers_the_sources_codes(
    qtbot: QtBot, dialog: QuickRuleDialog, session: Session
) -> None:
    pick(dialog.source, "orders")
    pick(dialog.code, "SHP – Shipped")
    pick(dialog.action, "set the status")
    pick(dialog.form().editors["code"], "DEL – Delivered")

    qtbot.mouseClick(dialog.create_button, Qt.MouseButton.LeftButton)

    graph = session.open_graph(dialog.created_name() or "")
    assert graph.name == "Shipped → set the status"
    assert graph.nodes[1].params["code"] == "DEL"


def test_codes_follow_the_chosen_records(dialog: QuickRuleDialog) -> None:
    pick(dialog.source, "customers")
    offered = [dialog.code.itemText(i) for i in range(dialog.code.count())]
    assert offered == ["NEW – New customer", "ACT – Active", "INA – Inactive"]
