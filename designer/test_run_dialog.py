"""The test-run dialog: play a graph against one record and see what it would have done.

A person picks a record (or pastes one), scripts what happens to it meanwhile ("after
1 hour the status becomes ASN"), and runs the engine's ``simulate`` service. The run
plays on a simulated clock in a scratch database, so it is safe to try anything;
it still takes a moment, so it runs off the GUI thread while a busy bar shows. The
verdict, the timeline and the path taken (yellow on the canvas) come back together.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from designer.canvas import Canvas
from designer.problems import ERROR_COLOUR, OK_COLOUR, WARNING_COLOUR
from designer.worker import Worker
from engine.errors import StatusFlowError
from engine.governance.test_run import ScriptedChange, TestRunResult, simulate
from engine.graphs import find_graph
from engine.runtime.records import RecordStore
from engine.sources import registry, status_codes
from engine.sources.registry import SourceInfo
from engine.sources.status_codes import StatusCode
from engine.storage.database import Database

log = logging.getLogger(__name__)

RECORD_LIMIT = 200
KEY_ROLE = Qt.ItemDataRole.UserRole
UNITS = ("minutes", "hours", "days")
BUSY_TEXT = "Playing the automation on a simulated clock…"
NOTHING_SENT = "Nothing was sent and no record was changed."
INTERNAL_ERROR = (
    "StatusFlow could not finish this because of an internal error. "
    "Tell your IT team so they can look at the log."
)
UNIT_WORDS = ("day", "h", "min", "s")  # for times on the timeline
WAITING_TEXT = "Pick a record and click Run test."
HINT_COLOUR = (117, 117, 117)
PASTE_HINT = (
    '{"id": 999, "customer_name": "Test Person", "email": "t@example.com", "status": "NEW"}'
)


# -- reading what the dialog offers ---------------------------------------------------


@dataclass(frozen=True)
class RecordChoices:
    """What a test run of one graph can use: its source, status codes and records."""

    source: SourceInfo
    codes: list[StatusCode]
    records: list[tuple[str, str]]  # (key, "7 – Anna Costa – anna.costa@example.com")


def record_label(source: SourceInfo, record: dict[str, Any]) -> str:
    """A record as a person recognises it: its display columns, joined by dashes."""
    columns = source.display_columns or (source.key_column,)
    parts = [str(record[c]) for c in columns if record.get(c) not in (None, "")]
    return " – ".join(parts)


def record_choices(db: Database, graph_name: str, limit: int = RECORD_LIMIT) -> RecordChoices:
    """The first ``limit`` records of the graph's source, labelled, with its status codes."""
    store = RecordStore()
    with db.read() as conn:
        summary = find_graph(conn, graph_name)
        if summary.source is None:
            raise StatusFlowError(
                f"'{summary.name}' does not watch any records yet. Choose a record type "
                "in its trigger, save, then test it."
            )
        source = registry.get_source(conn, summary.source)
        records = [
            (key, record_label(source, store.read(conn, source, key) or {}))
            for key in store.first_keys(conn, source, limit)
        ]
        return RecordChoices(source, status_codes.list_codes(conn, source.name), records)


def parse_record(text: str) -> dict[str, Any]:
    """A pasted record, or an error saying what to fix in it."""
    if not text.strip():
        raise StatusFlowError(f"Paste a record as JSON first, for example {PASTE_HINT}.")
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise StatusFlowError(
            f"The pasted record is not valid JSON ({error.msg} at line {error.lineno}, "
            f"column {error.colno}). Check the quotes, commas and braces there, then run "
            "the test again."
        ) from None
    if not isinstance(record, dict):
        raise StatusFlowError(
            f"The pasted record must be one JSON object in braces, for example {PASTE_HINT}."
        )
    return record


def after_words(text: str) -> str:
    """'1 day, 2:05:00' → '+1 day 2 h 5 min'; '0:00:00' → 'At the start'."""
    days, _, clock = text.rpartition(", ")
    hours, minutes, seconds = (int(float(part)) for part in clock.split(":"))
    amounts = (int(days.split()[0]) if days else 0, hours, minutes, seconds)
    words = [f"{n} {unit}" for n, unit in zip(amounts, UNIT_WORDS, strict=True) if n]
    return "+" + " ".join(words) if words else "At the start"


# -- scripted changes -----------------------------------------------------------------


@dataclass
class ChangeRow:
    """The widgets of one scripted change: after [amount] [unit], [field] becomes [value]."""

    after: QWidget
    amount: QSpinBox
    unit: QComboBox
    field: QComboBox
    value: QComboBox | QLineEdit

    def change(self) -> ScriptedChange:
        after = timedelta(**{self.unit.currentText(): self.amount.value()})
        if isinstance(self.value, QComboBox):
            return ScriptedChange(after, self.field.currentText(), self.value.currentData())
        return ScriptedChange(after, self.field.currentText(), self.value.text())

    def holds(self, widget: QWidget | None) -> bool:
        parts = (self.after, self.field, self.value)
        return widget is not None and any(p is widget or p.isAncestorOf(widget) for p in parts)


class ChangesTable(QTableWidget):
    """What happens to the record while the test runs, one row per change."""

    HEADERS = ("After", "Field", "Becomes")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(self.HEADERS), parent)
        self.setHorizontalHeaderLabels(self.HEADERS)
        self.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setVisible(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.rows: list[ChangeRow] = []
        self.choices: RecordChoices | None = None

    def add_row(self) -> ChangeRow:
        amount, unit = QSpinBox(minimum=0, maximum=9999, value=1), QComboBox()
        unit.addItems(UNITS)
        unit.setCurrentText("hours")
        after = QWidget()
        box = QHBoxLayout(after)
        box.setContentsMargins(2, 0, 2, 0)
        box.addWidget(amount)
        box.addWidget(unit)
        field = QComboBox()
        field.addItems(self._fields())
        row = ChangeRow(after, amount, unit, field, self._value_widget(field.currentText()))
        self.rows.append(row)
        self.insertRow(self.rowCount())
        for column, widget in enumerate((after, field, row.value)):
            self.setCellWidget(self.rowCount() - 1, column, widget)
            if column < 2:  # cell widgets do not size their columns
                self.setColumnWidth(
                    column, max(self.columnWidth(column), widget.sizeHint().width())
                )
        field.currentTextChanged.connect(lambda text: self._revalue(row, text))
        return row

    def remove_row(self, focused: QWidget | None) -> None:
        """Remove the row being edited, or the last one."""
        if not self.rows:
            return
        row = next((r for r in self.rows if r.holds(focused)), self.rows[-1])
        self.removeRow(self.rows.index(row))
        self.rows.remove(row)

    def changes(self) -> list[ScriptedChange]:
        return [row.change() for row in self.rows]

    def _fields(self) -> list[str]:
        if self.choices is None:
            return ["status"]
        source = self.choices.source
        skip = {source.key_column, source.status_column}
        return ["status", *(name for name in source.fields if name not in skip)]

    def _value_widget(self, field: str) -> QComboBox | QLineEdit:
        """Status changes pick from the source's codes; other fields are typed."""
        if field != "status" or self.choices is None or not self.choices.codes:
            return QLineEdit(placeholderText="the new value")
        codes = QComboBox()
        for code in self.choices.codes:
            codes.addItem(f"{code.code} – {code.description}", code.code)
        return codes

    def _revalue(self, row: ChangeRow, field: str) -> None:
        row.value = self._value_widget(field)
        self.setCellWidget(self.rows.index(row), 2, row.value)


# -- the dialog -----------------------------------------------------------------------


def _colour(outcome: str) -> tuple[int, int, int]:
    if outcome.startswith("succeeded"):
        return OK_COLOUR
    return WARNING_COLOUR if outcome in ("cancelled", "active") else ERROR_COLOUR


def _big(label: QLabel, points_up: int) -> QLabel:
    font = QFont(label.font())
    font.setPointSize(font.pointSize() + points_up)
    font.setBold(True)
    label.setFont(font)
    return label


class TestRunDialog(QDialog):
    """Pick a record, script changes, run the test; the verdict shows, the path lights up."""

    path_shown = Signal(list)  # node ids highlighted on the canvas
    path_cleared = Signal()  # the canvas was reset: the window may re-mark its problems

    def __init__(
        self,
        db: Database,
        actor: str,
        graph_name: str,
        canvas: Canvas | None,
        version: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.db, self.actor, self.graph_name, self.version = db, actor, graph_name, version
        self.canvas = canvas
        self.setWindowTitle(f"Test run — {graph_name} ({version or 'draft'})")
        self.resize(1100, 640)
        self.worker = Worker(self)
        self.worker.busy_changed.connect(self._set_busy)
        self._build()
        self.busy_label.setText("Reading the records…")
        self.worker.run(lambda: record_choices(db, graph_name), self._show_choices, self._failed)

    # -- building ---------------------------------------------------------------------

    def _build(self) -> None:
        intro = QLabel(
            f"Play “{self.graph_name}” against one record on a simulated clock, "
            "to see what it would do. Nothing is sent and no record is changed.",
            wordWrap=True,
        )
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._setup_panel())
        splitter.addWidget(self._result_panel())
        splitter.setSizes([560, 540])
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(splitter, 1)
        layout.addWidget(buttons)

    def _setup_panel(self) -> QWidget:
        self.search = QLineEdit(placeholderText="Search by number, name or email…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        self.records = QListWidget()
        pick = QWidget()
        pick_layout = QVBoxLayout(pick)
        pick_layout.addWidget(self.search)
        pick_layout.addWidget(self.records)
        self.pasted = QPlainTextEdit(
            placeholderText=f"Paste one record as JSON, e.g.\n{PASTE_HINT}"
        )
        self.record_tabs = QTabWidget()
        self.record_tabs.addTab(pick, "Pick a record")
        self.record_tabs.addTab(self.pasted, "Paste a record (JSON)")
        record_box = QGroupBox("1. The record to test with")
        QVBoxLayout(record_box).addWidget(self.record_tabs)
        self.run_button = QPushButton("Run test", default=True)
        self.run_button.clicked.connect(self.run_test)
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(record_box, 3)
        layout.addWidget(self._changes_box(), 2)
        layout.addWidget(self.run_button)
        return panel

    def _changes_box(self) -> QGroupBox:
        self.changes = ChangesTable()
        self.add_button = QPushButton("Add change")
        self.add_button.clicked.connect(self.changes.add_row)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keep the row's focus
        self.remove_button.clicked.connect(self._remove_change)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        box = QGroupBox("2. What happens to the record meanwhile (optional)")
        layout = QVBoxLayout(box)
        layout.addWidget(self.changes)
        layout.addLayout(buttons)
        return box

    def _result_panel(self) -> QGroupBox:
        self.progress = QProgressBar(minimum=0, maximum=0, textVisible=False)
        self.busy_label = QLabel(BUSY_TEXT)
        self.error = QLabel(wordWrap=True, visible=False)
        self.error.setStyleSheet(f"color: {QColor(*ERROR_COLOUR).name()}; font-weight: bold;")
        self.verdict = _big(QLabel(wordWrap=True), 6)
        self.reason = QLabel(wordWrap=True)
        self.timeline = QTableWidget(0, 2)
        self.timeline.setHorizontalHeaderLabels(("After start", "What happened"))
        self.timeline.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.timeline.verticalHeader().setVisible(False)
        self.timeline.setWordWrap(True)
        self.timeline.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.note = QLabel(NOTHING_SENT, visible=False)
        self.clear_button = QPushButton("Clear highlight", enabled=False)
        self.clear_button.setVisible(self.canvas is not None)
        self.clear_button.setToolTip("Take the yellow path of this test run off the canvas.")
        self.clear_button.clicked.connect(self.clear_highlight)
        box = QGroupBox("Result")
        layout = QVBoxLayout(box)
        for widget in (self.progress, self.busy_label, self.error, self.verdict, self.reason):
            layout.addWidget(widget)
        layout.addWidget(self.timeline, 1)
        footer = QHBoxLayout()
        footer.addWidget(self.note)
        footer.addStretch(1)
        footer.addWidget(self.clear_button)
        layout.addLayout(footer)
        self._show_verdict(WAITING_TEXT, "", HINT_COLOUR)
        return box

    # -- slots ------------------------------------------------------------------------

    def _show_choices(self, choices: object) -> None:
        assert isinstance(choices, RecordChoices)
        self.changes.choices = choices
        for key, label in choices.records:
            item = QListWidgetItem(label)
            item.setData(KEY_ROLE, key)
            self.records.addItem(item)

    def _filter(self, text: str) -> None:
        needle = text.strip().casefold()
        for index in range(self.records.count()):
            item = self.records.item(index)
            item.setHidden(needle not in item.text().casefold())

    def _remove_change(self) -> None:
        self.changes.remove_row(QApplication.focusWidget())

    def run_test(self) -> None:
        """Read the inputs, then play the graph off the GUI thread."""
        try:
            record_key, record = self._chosen_record()
        except StatusFlowError as error:
            self._show_error(str(error))
            return
        changes = self.changes.changes()
        self.busy_label.setText(BUSY_TEXT)
        self._show_verdict("", "", HINT_COLOUR)
        self._fill_timeline([])
        self.note.setVisible(False)
        self.worker.run(
            lambda: simulate(
                self.db,
                self.graph_name,
                actor=self.actor,
                version=self.version,
                record_key=record_key,
                record=record,
                changes=changes,
            ),
            self._show_result,
            self._failed,
        )

    def _chosen_record(self) -> tuple[str | None, dict[str, Any] | None]:
        if self.record_tabs.currentIndex() == 1:
            return None, parse_record(self.pasted.toPlainText())
        item = self.records.currentItem()
        if item is None or item.isHidden():
            raise StatusFlowError("Choose a record from the list, or paste one as JSON.")
        return str(item.data(KEY_ROLE)), None

    def _show_result(self, result: object) -> None:
        assert isinstance(result, TestRunResult)
        headline, _, reason = result.verdict.partition(": ")
        reason = reason.rstrip(".") + "." if reason else ""
        self._show_verdict(headline, reason, _colour(result.outcome))
        self._fill_timeline(result.timeline)
        self.note.setVisible(True)
        self._highlight(result)

    def _show_verdict(self, headline: str, reason: str, colour: tuple[int, int, int]) -> None:
        self.verdict.setText(headline)
        self.verdict.setStyleSheet(f"color: {QColor(*colour).name()};")
        self.reason.setText(reason)

    def _fill_timeline(self, lines: list[dict[str, Any]]) -> None:
        self.timeline.setRowCount(len(lines))
        for row, line in enumerate(lines):
            summary = QTableWidgetItem(line["summary"])
            if line["summary"].startswith("Would "):
                summary.setToolTip("Test run: shown here, not sent.")
                summary.setForeground(QColor(21, 101, 192))
                font = summary.font()
                font.setItalic(True)
                summary.setFont(font)
            self.timeline.setItem(row, 0, QTableWidgetItem(after_words(line["after"])))
            self.timeline.setItem(row, 1, summary)
        self.timeline.resizeColumnToContents(0)
        self.timeline.resizeRowsToContents()

    def _highlight(self, result: TestRunResult) -> None:
        if self.canvas is None:
            return
        self.canvas.mark({}, highlighted=set(result.path))
        stopped = self.canvas.view_of(result.stopped_at) if result.stopped_at else None
        if stopped is not None:
            stopped.view.setToolTip(f"The test run ended here.\n{result.verdict}")
        self.clear_button.setEnabled(True)
        self.path_shown.emit(list(result.path))

    def clear_highlight(self) -> None:
        if self.canvas is not None:
            self.canvas.mark({}, None)
        self.clear_button.setEnabled(False)
        self.path_cleared.emit()

    def _failed(self, error: Exception) -> None:
        if not isinstance(error, StatusFlowError):
            log.error("A test run failed", exc_info=error)
        self._show_error(str(error) if isinstance(error, StatusFlowError) else INTERNAL_ERROR)

    def _show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(True)

    def _set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.busy_label.setVisible(busy)
        self.run_button.setEnabled(not busy)
        self.add_button.setEnabled(not busy)
        if busy:
            self.error.setVisible(False)
            self.setCursor(Qt.CursorShape.WaitCursor)
        else:
            self.unsetCursor()
