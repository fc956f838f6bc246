"""The table of a graph's versions: newest on top, the published one in bold.

Each row carries its :class:`~engine.governance.review_state.VersionRow`, so what a
person selects is read back from the table itself.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from designer.times import when
from engine.services.review import VersionRow

STATE_WORDS = {
    "in_review": "In review",
    "approved": "Approved",
    "published": "Published (current)",
    "superseded": "Superseded",
    "rejected": "Rejected",
}
COLUMNS = ("Version", "State", "Submitted", "Review", "Published", "Last test", "Change note")


class VersionTable(QTableWidget):
    """Versions with their review; several may be chosen (two, to compare them)."""

    def __init__(self) -> None:
        super().__init__(0, len(COLUMNS))
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setWordWrap(True)
        self.verticalHeader().hide()
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.setAccessibleName("Versions of this automation")

    def show_rows(self, rows: tuple[VersionRow, ...]) -> None:
        """Show the versions (given oldest first) newest on top."""
        self.setRowCount(0)
        for row in reversed(rows):
            self._add_row(row)

    def _add_row(self, row: VersionRow) -> None:
        index = self.rowCount()
        self.insertRow(index)
        for column, text in enumerate(_cells(row)):
            item = QTableWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, row)
            if row.info.state == "published":
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            self.setItem(index, column, item)

    def selected(self) -> list[VersionRow]:
        """The chosen versions, oldest first."""
        indexes = sorted({index.row() for index in self.selectedIndexes()}, reverse=True)
        return [self.item(i, 0).data(Qt.ItemDataRole.UserRole) for i in indexes]


def _cells(row: VersionRow) -> tuple[str, ...]:
    info = row.info
    review = f"{info.reviewer}: {row.comment}" if info.reviewer and row.comment else info.reviewer
    return (
        info.label,
        STATE_WORDS.get(info.state, info.state),
        f"{info.author}, {when(info.submitted_at)}",
        review or "",
        ", ".join(filter(None, (info.published_by, when(info.published_at)))),
        row.verdict or "Not tested",
        row.note,
    )
