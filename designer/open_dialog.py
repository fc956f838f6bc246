"""The Open dialog: every saved automation in a table a person can search by typing.

A team's database soon holds dozens of automations; a bare list of names does not
say which are live. So each row also says which records it watches, whether it is
published, disabled or only a draft, and who touched it last. Typing filters on any
of those words; Enter, double-click or "Open" returns the chosen name.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QKeyEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from designer.times import when
from engine.graphs import GraphSummary

COLUMNS = ("Automation", "Records", "Status", "Last edited by", "Last edited")
NAME_ROLE = Qt.ItemDataRole.UserRole
NO_GRAPHS = (
    "There are no saved automations yet.\n\n"
    "Close this window and choose File → New automation to draw your first one, "
    "or start from a ready-made template."
)


def status_words(summary: GraphSummary) -> str:
    """What runs: "Draft only", "Published V1.2" or "Disabled (V1.2 is published)"."""
    if summary.current_version is None:
        return "Draft only"
    if not summary.enabled:
        return f"Disabled ({summary.current_version} is published)"
    return f"Published {summary.current_version}"


def _row(summary: GraphSummary) -> list[QStandardItem]:
    texts = (
        summary.name,
        summary.source or "(no records chosen)",
        status_words(summary),
        summary.updated_by or "",
        when(summary.updated_at),
    )
    items = [QStandardItem(text) for text in texts]
    items[0].setToolTip(summary.description or summary.name)
    for item in items:
        item.setData(summary.name, NAME_ROLE)
        item.setEditable(False)
    return items


class _Search(QLineEdit):
    """The search box; the arrow keys move through the table below while typing."""

    def __init__(self, table: QTableView) -> None:
        super().__init__(placeholderText="Type to find an automation…", clearButtonEnabled=True)
        self.table = table

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            self.table.keyPressEvent(event)
        else:
            super().keyPressEvent(event)


class OpenDialog(QDialog):
    """Choose a saved automation; ``chosen_name()`` after ``exec()`` returns Accepted."""

    def __init__(self, summaries: Sequence[GraphSummary], parent: QWidget | None = None) -> None:
        super().__init__(parent, windowTitle="Open automation")
        self._chosen: str | None = None
        self._total = len(summaries)
        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        for summary in summaries:
            self.model.appendRow(_row(summary))
        self.proxy = QSortFilterProxyModel(self, filterKeyColumn=-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setSourceModel(self.model)
        self.table = self._table()
        self.search = _Search(self.table)
        self.search.setAccessibleName("Find an automation")
        self.empty = QLabel(wordWrap=True, alignment=Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet("color: #555; font-size: 11pt; padding: 24px;")
        self.pages = QStackedWidget()
        self.pages.addWidget(self.table)
        self.pages.addWidget(self.empty)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.pages)
        layout.addWidget(self.buttons)
        self._wire()
        self._refresh()
        self.resize(820, 420)

    def _table(self) -> QTableView:
        table = QTableView(self, sortingEnabled=True, alternatingRowColors=True)
        table.setModel(self.proxy)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.verticalHeader().hide()
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):
            table.horizontalHeader().setSectionResizeMode(
                column, QHeaderView.ResizeMode.ResizeToContents
            )
        table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        table.setAccessibleName("Saved automations")
        return table

    def _wire(self) -> None:
        self.search.textChanged.connect(self._filter)
        self.search.returnPressed.connect(self._open_current)
        self.table.doubleClicked.connect(self._open)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._enable_open())
        self.buttons.accepted.connect(self._open_current)
        self.buttons.rejected.connect(self.reject)

    # -- reacting to the person ---------------------------------------------------------

    def _filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        self._refresh()

    def _refresh(self) -> None:
        """Show the table with its first row chosen, or say why it is empty."""
        if self.proxy.rowCount():
            self.pages.setCurrentWidget(self.table)
            if not self.table.selectionModel().hasSelection():
                self.table.selectRow(0)
        else:
            wanted = self.search.text().strip()
            self.empty.setText(
                NO_GRAPHS if not self._total else f"No automation matches '{wanted}'."
            )
            self.pages.setCurrentWidget(self.empty)
        self._enable_open()

    def _enable_open(self) -> None:
        has_row = bool(self.proxy.rowCount()) and self.table.selectionModel().hasSelection()
        self.buttons.button(QDialogButtonBox.StandardButton.Open).setEnabled(has_row)

    def _open_current(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows and self.proxy.rowCount():
            self._open(rows[0])

    def _open(self, index: QModelIndex) -> None:
        self._chosen = index.data(NAME_ROLE)
        self.accept()

    # -- the answer ---------------------------------------------------------------------

    def visible_names(self) -> list[str]:
        """The names the table shows now, top to bottom."""
        return [self.proxy.index(row, 0).data(NAME_ROLE) for row in range(self.proxy.rowCount())]

    def chosen_name(self) -> str | None:
        return self._chosen
