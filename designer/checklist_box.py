"""The documents an approver checks, one tick box each, with who ticked it and when.

The box only shows and reports clicks; the inbox saves each tick through
``engine.runtime.tasks.tick_document``, so a tick survives a refresh and every inbox sees it.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QGridLayout, QGroupBox, QLabel, QWidget

from designer.times import when
from engine.services.inbox import Tick

TITLE = "Documents to check (ticks are saved for everyone working this task)"


def tick_words(tick: Tick | None) -> str:
    return f"ticked by {tick.by}, {when(tick.at)}" if tick else ""


class ChecklistBox(QGroupBox):
    """A task's checklist; ``tick_clicked(document, ticked)`` when a person clicks a box."""

    tick_clicked = Signal(str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(TITLE, parent)
        self.grid = QGridLayout(self)
        self.grid.setColumnStretch(1, 1)
        self.boxes: dict[str, QCheckBox] = {}
        self.who: dict[str, QLabel] = {}

    def show_checklist(self, checklist: list[str], ticks: dict[str, Tick]) -> None:
        """Show these documents, ticked as saved (hidden when there are none)."""
        while self.grid.count():
            widget = self.grid.takeAt(0).widget()
            widget.setParent(None)  # gone from findChildren now, not only once deleted
            widget.deleteLater()
        self.boxes, self.who = {}, {}
        for row, document in enumerate(checklist):
            box = QCheckBox(document)
            box.setChecked(document in ticks)
            box.clicked.connect(lambda checked, d=document: self.tick_clicked.emit(d, checked))
            who = QLabel(tick_words(ticks.get(document)))
            who.setEnabled(False)  # greyed: a note beside the box, not something to click
            self.grid.addWidget(box, row, 0)
            self.grid.addWidget(who, row, 1)
            self.boxes[document], self.who[document] = box, who
        self.setVisible(bool(checklist))

    def unticked(self) -> list[str]:
        """The documents whose boxes are not ticked on screen, in checklist order."""
        return [document for document, box in self.boxes.items() if not box.isChecked()]
