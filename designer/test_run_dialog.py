"""The test-run dialog: play a graph against one record and see what it would have done.

A person picks a record (or pastes one), scripts what happens to it meanwhile ("after
1 hour the status becomes ASN", :mod:`designer.scenario_editor`), and runs the engine's
``simulate`` service. The run plays on a simulated clock in a scratch database, so it
is safe to try anything; it still takes a moment, so it runs off the GUI thread while a
busy bar shows. The verdict, the timeline (:mod:`designer.test_run_result`) and the
path taken (yellow on the canvas) come back together.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from designer.canvas import Canvas
from designer.scenario_editor import ChangesTable
from designer.test_run_result import ResultView
from designer.worker import Worker
from engine.errors import StatusFlowError
from engine.services.database import Database
from engine.services.testing import (
    PASTE_HINT,
    RecordChoices,
    TestRunResult,
    parse_record,
    record_choices,
    simulate,
)

log = logging.getLogger(__name__)

KEY_ROLE = Qt.ItemDataRole.UserRole
INTERNAL_ERROR = (
    "StatusFlow could not finish this because of an internal error. "
    "Tell your IT team so they can look at the log."
)


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
        self.result.busy_label.setText("Reading the records…")
        self.worker.run(lambda: record_choices(db, graph_name), self._show_choices, self._failed)

    # -- building ---------------------------------------------------------------------

    def _build(self) -> None:
        intro = QLabel(
            f"Play “{self.graph_name}” against one record on a simulated clock, "
            "to see what it would do. Nothing is sent and no record is changed.",
            wordWrap=True,
        )
        self.result = ResultView(highlights=self.canvas is not None)
        self.result.clear_button.clicked.connect(self.clear_highlight)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self._setup_panel())
        splitter.addWidget(self.result)
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
            self.result.show_error(str(error))
            return
        changes = self.changes.changes()
        self.result.clear()
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
        self.result.show_result(result)
        self._highlight(result)

    def _highlight(self, result: TestRunResult) -> None:
        if self.canvas is None:
            return
        self.canvas.mark({}, highlighted=set(result.path))
        stopped = self.canvas.view_of(result.stopped_at) if result.stopped_at else None
        if stopped is not None:
            stopped.view.setToolTip(f"The test run ended here.\n{result.verdict}")
        self.result.clear_button.setEnabled(True)
        self.path_shown.emit(list(result.path))

    def clear_highlight(self) -> None:
        if self.canvas is not None:
            self.canvas.mark({}, None)
        self.result.clear_button.setEnabled(False)
        self.path_cleared.emit()

    def _failed(self, error: Exception) -> None:
        if not isinstance(error, StatusFlowError):
            log.error("A test run failed", exc_info=error)
        self.result.show_error(str(error) if isinstance(error, StatusFlowError) else INTERNAL_ERROR)

    def _set_busy(self, busy: bool) -> None:
        self.result.set_busy(busy)
        self.run_button.setEnabled(not busy)
        self.add_button.setEnabled(not busy)
        if busy:
            self.setCursor(Qt.CursorShape.WaitCursor)
        else:
            self.unsetCursor()
