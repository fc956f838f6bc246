"""Writing templates: a text box with an "Insert field" menu, and the email preview.

People rarely remember field names or the ``{{ }}`` braces, so every template box
offers the record source's fields and the built-in names in a menu. The email step
also shows the message filled in from a sample record, rendered by the same sandboxed
renderer the engine sends with, so what the preview shows is what the client gets.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QToolButton,
    QVBoxLayout,
)

from designer.properties.editors import PlainEditor
from engine.graph.context import ValidationContext
from engine.graph.templates import BUILTIN_NAMES, TemplateError, render
from engine.nodes.spec import Param

EMAIL_TYPE = "action.send_email"
_PREVIEWED = (("to", "To"), ("subject", "Subject"), ("body_text", "Message"))


def placeholder(name: str) -> str:
    return f"{{{{ {name} }}}}"


class TemplateEditor(PlainEditor):
    """A template text box with an "Insert field ▾" menu under it."""

    def __init__(self, param: Param, context: ValidationContext, monospace: bool = False) -> None:
        super().__init__(param, min_lines=4 if monospace else 1)
        if monospace:
            self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.insert = QToolButton(text="Insert field ▾", objectName="insert")
        self.insert.setToolTip("Put a value from the record into the text, where the cursor is.")
        self.insert.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.insert.setMenu(self._menu(context))
        self.box.addWidget(self.insert)

    def _menu(self, context: ValidationContext) -> QMenu:
        menu = QMenu(self.insert)
        menu.setToolTipsVisible(True)
        records = f"Fields of {context.source} records" if context.source else "Record fields"
        menu.addSection(records)
        for name, kind in context.fields.items():
            self._add(menu, name, f"{name}   ({kind})", f"The record's {name} ({kind}).")
        if not context.fields:
            menu.addAction("No fields known yet: choose the record source first").setEnabled(False)
        menu.addSection("Always available")
        for name, description in BUILTIN_NAMES.items():
            self._add(menu, name, f"{name}   – {description}", description)
        return menu

    def _add(self, menu: QMenu, name: str, text: str, tip: str) -> None:
        action = menu.addAction(text)
        action.setToolTip(tip)
        action.setData(name)
        action.triggered.connect(lambda: self.insert_field(name))

    def insert_field(self, name: str) -> None:
        """Put ``{{ name }}`` where the cursor is, and save the edit."""
        self.text.insertPlainText(placeholder(name))
        self.text.setFocus()
        self._finished()


def preview_values(
    record: Mapping[str, Any], context: ValidationContext, graph_name: str
) -> dict[str, Any]:
    """The sample record's fields plus the built-in names, as a run would fill them."""
    values = {key: value for key, value in record.items() if not key.startswith("_")}
    status = record.get("status")
    now = datetime.now(UTC)
    values.update(
        record_key=record.get("_key", record.get("id", "")),
        status=status,
        status_description=context.status_codes.get(str(status), ""),
        previous_status=record.get("_previous_status", ""),
        graph_name=graph_name,
        run_id="(run id)",
        now=now,
        today=now.date(),
    )
    return values


class EmailPreview(QFrame):
    """The email filled in from the sample record, or why it cannot be filled in."""

    def __init__(self) -> None:
        super().__init__(objectName="preview", maximumHeight=360)
        self.title = QLabel(objectName="previewTitle", wordWrap=True)
        self.to = QLabel(wordWrap=True, textFormat=Qt.TextFormat.PlainText)
        self.subject = QLabel(wordWrap=True, textFormat=Qt.TextFormat.PlainText)
        self.subject.setFont(_bold(self.subject.font()))
        self.body = QPlainTextEdit(readOnly=True, objectName="previewText", maximumHeight=220)
        self.problem = QLabel(objectName="problem", wordWrap=True)
        form = QFormLayout()
        form.addRow("To:", self.to)
        form.addRow("Subject:", self.subject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.problem)

    def show_email(self, params: Mapping[str, Any], values: dict[str, Any] | None) -> None:
        """Render the to, subject and text of ``params`` with ``values``."""
        if values is None:
            self.title.setText("Preview")
            self._show({}, ["There is no sample record to fill the email with yet."])
            return
        self.title.setText(f"Preview: the email for record {values['record_key']}")
        shown, problems = {}, []
        for key, label in _PREVIEWED:
            try:
                shown[key] = render(str(params.get(key) or ""), values)
            except TemplateError as exc:
                problems.append(f"{label}: {exc}")
        self._show(shown, problems)

    def _show(self, shown: dict[str, str], problems: list[str]) -> None:
        self.to.setText(shown.get("to", "—"))
        self.subject.setText(shown.get("subject", "—"))
        self.body.setPlainText(shown.get("body_text", "—"))
        self.problem.setText("\n".join(problems))
        self.problem.setVisible(bool(problems))


def _bold(font: QFont) -> QFont:
    font.setBold(True)
    return font
