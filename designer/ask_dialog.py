"""A short question before an action: an optional text (a note, a reason) and a tick box.

Reviewing asks for a comment, rejecting for what needs to change, publishing past a
loop for a reason kept in the audit log; one dialog asks them all, and OK waits for the
text when the action needs it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)


class AskDialog(QDialog):
    """A question with an optional text (OK waits for it when it is required) and tick box."""

    def __init__(
        self,
        parent: QWidget | None,
        title: str,
        question: str,
        *,
        text: str | None = None,
        required: bool = False,
        tick: str | None = None,
        ok: str = "OK",
    ) -> None:
        super().__init__(parent, windowTitle=title)
        self.edit = QPlainTextEdit(placeholderText=text or "", visible=text is not None)
        self.edit.setTabChangesFocus(True)
        self.tick = QCheckBox(tick or "", visible=tick is not None)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.addButton(ok, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(question, wordWrap=True))
        for widget in (self.edit, self.tick, self.buttons):
            layout.addWidget(widget)
        if required:
            self.edit.textChanged.connect(self._require_text)
            self._require_text()
        self.resize(440, 240 if text is not None else 140)

    def _require_text(self) -> None:
        self.ok.setEnabled(bool(self.edit.toPlainText().strip()))

    def answer(self) -> tuple[str, bool]:
        return self.edit.toPlainText().strip(), self.tick.isChecked()


def ask(parent: QWidget, title: str, question: str, **options: Any) -> tuple[str, bool] | None:
    """The person's text and tick, or None when they cancelled."""
    dialog = AskDialog(parent, title, question, **options)
    try:
        return dialog.answer() if dialog.exec() == QDialog.DialogCode.Accepted else None
    finally:
        dialog.deleteLater()
