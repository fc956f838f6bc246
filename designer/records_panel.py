"""Records: the watched business records, and changing one as the host application would.

In the embedded demo there is no host application, so this panel plays it: it writes
the business table directly (no run id), the database trigger records the change, and
the engine reacts like it would to the real host. The list is read by
:func:`engine.sources.record_list.load_records`; changes go through
:mod:`engine.services.record_edits`, which checks the person may change records and
audits each change. The widget only calls them through the :class:`Worker` and shows
what came back; someone who may not change records sees the list read-only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.problems import ERROR_COLOUR, OK_COLOUR
from designer.worker import Worker
from engine.errors import StatusFlowError
from engine.services import record_edits
from engine.services.database import Database
from engine.sources import registry
from engine.sources.record_list import SHOWN, RecordList, load_records

REFRESH_MS = 5000  # the engine may change records too: show it without a click
KEY_ROLE = Qt.ItemDataRole.UserRole
READ_ONLY = (
    "Only an administrator may change records here; your automations still react to "
    "changes made in your own system."
)
log = logging.getLogger(__name__)

Write = Callable[[str, str], str]  # (source, key) → the sentence saying what happened


class RecordsPanel(QWidget):
    """Choose a source, find a record, change its status or label; ``record_chosen``."""

    record_chosen = Signal(str, str)  # source name, record key

    def __init__(self, db: Database, actor: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db, self.actor = db, actor
        self.worker = Worker(self)
        self.records: RecordList | None = None
        self._chosen: tuple[str, str] | None = None  # last announced by record_chosen
        self.may_edit = False  # until the database says otherwise
        self._build()
        self._search_delay = QTimer(self, singleShot=True, interval=250)
        self._search_delay.timeout.connect(self.reload)
        self.search.textChanged.connect(self._search_delay.start)
        self._refresh = QTimer(self, interval=REFRESH_MS)
        self._refresh.timeout.connect(self._refresh_quietly)
        self._refresh.start()
        self.worker.run(
            lambda: (
                [s.name for s in registry.list_sources(db)],
                record_edits.may_edit(db, actor),
            ),
            self._opened,
            self._fail,
        )

    def _build(self) -> None:
        self.source = QComboBox(accessibleName="Record source")
        self.search = QLineEdit(placeholderText="Search by key, name, email, status…")
        self.search.setClearButtonEnabled(True)
        top = QHBoxLayout()
        top.addWidget(QLabel("Records of"))
        top.addWidget(self.source)
        top.addWidget(self.search, 1)
        self.table = QTableWidget(0, 0, self)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setAlternatingRowColors(True)
        self.note = QLabel(wordWrap=True)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        self.read_only = QLabel(READ_ONLY, wordWrap=True)
        self.read_only.hide()
        layout.addWidget(self.read_only)
        self.change_form = self._change_form()
        layout.addWidget(self.change_form)
        self.outcome = QLabel(wordWrap=True)
        layout.addWidget(self.outcome)
        self.source.currentTextChanged.connect(lambda _name: self.reload())
        self.table.itemSelectionChanged.connect(self._selected)

    def _change_form(self) -> QWidget:
        """The status and label controls; hidden for someone who may not change records."""
        self.chosen = QLabel("Choose a record in the list to change it.")
        self.status_choice = QComboBox(accessibleName="New status")
        self.apply_status = QPushButton("Apply status")
        self.label_choice = QComboBox(editable=True, accessibleName="Label to apply")
        self.label_choice.lineEdit().setPlaceholderText("Choose or type a label")
        self.apply_label_button = QPushButton("Apply label")
        box = QWidget()
        form = QGridLayout(box)
        form.setContentsMargins(0, 0, 0, 0)
        form.addWidget(self.chosen, 0, 0, 1, 3)
        form.addWidget(QLabel("Change status to"), 1, 0)
        form.addWidget(self.status_choice, 1, 1)
        form.addWidget(self.apply_status, 1, 2)
        form.addWidget(QLabel("Apply label"), 2, 0)
        form.addWidget(self.label_choice, 2, 1)
        form.addWidget(self.apply_label_button, 2, 2)
        form.setColumnStretch(1, 1)
        self.apply_status.clicked.connect(self._apply_status)
        self.apply_label_button.clicked.connect(self._apply_label)
        self._enable_changes()
        return box

    # -- reading ----------------------------------------------------------------------

    def _opened(self, found: tuple[list[str], bool]) -> None:
        names, self.may_edit = found
        self.change_form.setVisible(self.may_edit)
        self.read_only.setVisible(not self.may_edit)
        self._enable_changes()
        self.source.addItems(names)
        if not names:
            self.note.setText(
                "No record sources are registered yet. An administrator adds one with "
                "'statusflow source add', or 'statusflow demo' installs the demo shop."
            )

    def reload(self) -> None:
        """Read the chosen source's records again (off the GUI thread)."""
        name, search = self.source.currentText(), self.search.text()
        if name:
            self.worker.run(lambda: load_records(self.db, name, search), self._show, self._fail)

    def _refresh_quietly(self) -> None:
        if self.isVisible() and not self.worker.busy:
            self.reload()

    def _show(self, records: RecordList) -> None:
        if records.source != self.source.currentText():
            return  # an answer for a source the person has left already
        keep = self.selected_key()
        self.records = records
        self._fill_table(records)
        self._fill_choices(records)
        self.note.setText(
            f"Showing the first {SHOWN} records; type in the search box to find others."
            if records.more
            else ("" if records.rows else "No record matches the search.")
        )
        if keep is not None:
            self.select_key(keep)
        self._selected()

    def _fill_table(self, records: RecordList) -> None:
        self.table.blockSignals(True)
        self.table.clear()
        self.table.setColumnCount(len(records.headers) + 2)
        self.table.setHorizontalHeaderLabels([*records.headers, "Status", "Labels"])
        self.table.setRowCount(len(records.rows))
        for r, row in enumerate(records.rows):
            for c, value in enumerate((*row.values, row.status, ", ".join(row.labels))):
                item = QTableWidgetItem(value)
                item.setData(KEY_ROLE, row.key)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.blockSignals(False)

    def _fill_choices(self, records: RecordList) -> None:
        current_status, current_label = (
            self.status_choice.currentData(),
            self.label_choice.currentText(),
        )
        self.status_choice.clear()
        for code, text in records.codes:
            self.status_choice.addItem(text, code)
        if current_status is not None:
            self.status_choice.setCurrentIndex(max(0, self.status_choice.findData(current_status)))
        self.label_choice.clear()
        self.label_choice.addItems(list(records.labels or ()))
        self.label_choice.setEditText(current_label)

    # -- choosing and changing --------------------------------------------------------

    def selected_key(self) -> str | None:
        items = self.table.selectedItems()
        return str(items[0].data(KEY_ROLE)) if items else None

    def select_key(self, key: str) -> None:
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).data(KEY_ROLE) == key:
                self.table.selectRow(row)
                return

    def _selected(self) -> None:
        """A new choice clears the last outcome; re-reading the list keeps both."""
        key, name = self.selected_key(), self.source.currentText()
        self._enable_changes()
        if key is not None and (name, key) != self._chosen:
            self.outcome.clear()
            self.record_chosen.emit(name, key)
        self._chosen = None if key is None else (name, key)

    def _enable_changes(self) -> None:
        key = self.selected_key()
        labelled = self.records is not None and self.records.labels is not None
        self.chosen.setText(
            f"Record {key} of {self.source.currentText()}:"
            if key
            else "Choose a record in the list to change it."
        )
        chosen = key is not None and self.may_edit
        for widget in (self.status_choice, self.apply_status):
            widget.setEnabled(chosen)
        for widget in (self.label_choice, self.apply_label_button):
            widget.setEnabled(chosen and labelled)
            widget.setToolTip("" if labelled else "This record source has no labels.")

    def _apply_status(self) -> None:
        db, actor, code = self.db, self.actor, self.status_choice.currentData() or ""
        self._change(lambda name, key: record_edits.change_status(db, name, key, code, actor=actor))

    def _apply_label(self) -> None:
        db, actor, label = self.db, self.actor, self.label_choice.currentText()
        self._change(lambda name, key: record_edits.apply_label(db, name, key, label, actor=actor))

    def _change(self, write: Write) -> None:
        key, name = self.selected_key(), self.source.currentText()
        if key is None:
            return
        self.outcome.clear()
        self.worker.run(lambda: write(name, key), self._changed, self._fail)

    def _changed(self, sentence: str) -> None:
        self._say(sentence, OK_COLOUR)
        self.reload()

    def _fail(self, exc: Exception) -> None:
        if isinstance(exc, StatusFlowError):
            self._say(str(exc), ERROR_COLOUR)
        else:
            log.error("The records panel failed", exc_info=exc)
            self._say(
                "StatusFlow could not read or change the records. Check that the database "
                "is reachable and try again; if it keeps happening, tell your IT team.",
                ERROR_COLOUR,
            )

    def _say(self, sentence: str, colour: tuple[int, int, int]) -> None:
        self.outcome.setStyleSheet("color: rgb({}, {}, {});".format(*colour))
        self.outcome.setText(sentence)
