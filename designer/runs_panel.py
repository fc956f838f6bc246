"""The runs panel: find a record's runs and read what happened to it, step by step.

Support staff ask "what happened to order 42, and why did (or didn't) the email go
out?". They search by what they know (the order number or the customer's name), pick
a run and read the record's whole timeline in words (:mod:`designer.run_timeline`).
Database reads run off the GUI thread, on one worker the search and the timeline share.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.run_display import outcome_words, state_colour
from designer.run_timeline import TimelineView
from designer.tables import make_table
from designer.times import clock_or_date, day_start
from designer.worker import Worker, show_failure
from engine.graphs import list_graphs
from engine.services.database import Database
from engine.services.runs import (
    STATE_WORDS,
    FoundRun,
    RecordTimeline,
    RunQuery,
    RunSummary,
    search_runs,
)

COLUMNS = ("Started", "Automation", "Record", "Outcome")
NO_RESULTS = (
    "No runs match. Check the spelling, or choose 'Any outcome' and 'All automations' "
    "to search more widely."
)


class RunsPanel(QWidget):
    """Search runs, read a record's timeline, and show a run's path on the canvas."""

    show_path = Signal(str, str, list)  # graph id, version id, node ids

    def __init__(self, db: Database, actor: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db, self.actor = db, actor
        self.worker = Worker(self)
        self._found: list[FoundRun] = []
        self.timeline_view = TimelineView(db, actor, self.worker)
        self.timeline_view.show_path.connect(self.show_path)
        self.timeline_view.runs_added.connect(self.search)  # list the new run too
        self.timeline_view.timeline_read.connect(self._update_outcomes)
        self.timeline_view.failed.connect(self._failed)
        self._build()
        self.worker.run(lambda: list_graphs(db), self._fill_graphs, self._failed)

    def _build(self) -> None:
        self.search_box = QLineEdit(placeholderText="Order number or customer name")
        self.search_box.returnPressed.connect(self.search)
        self.graph_combo = QComboBox()
        self.graph_combo.addItem("All automations", None)
        self.outcome_combo = QComboBox()
        self.outcome_combo.addItem("Any outcome", None)
        for state, words in STATE_WORDS.items():
            self.outcome_combo.addItem(words, state)
        self.since_check = QCheckBox("Started since")
        self.since_edit = QDateEdit(QDate.currentDate().addDays(-7), calendarPopup=True)
        self.since_edit.setDisplayFormat("yyyy-MM-dd")
        self.since_edit.setEnabled(False)
        self.since_check.toggled.connect(self.since_edit.setEnabled)
        self.search_button = QPushButton("Search")
        self.search_button.clicked.connect(self.search)
        bar = QHBoxLayout()
        for widget in (self.search_box, self.graph_combo, self.outcome_combo):
            bar.addWidget(widget, 2 if widget is self.search_box else 1)
        for widget in (self.since_check, self.since_edit, self.search_button):
            bar.addWidget(widget)
        self.note = QLabel("Search by order number or customer name, or press Search.")
        self.results = _results_table()
        self.results.itemSelectionChanged.connect(self._run_chosen)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.results)
        splitter.addWidget(self.timeline_view)
        splitter.setSizes([200, 400])
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.note)
        layout.addWidget(splitter, 1)

    def _fill_graphs(self, summaries: list[Any]) -> None:
        for summary in summaries:
            self.graph_combo.addItem(summary.name, summary.id)

    def query(self) -> RunQuery:
        since = None
        if self.since_check.isChecked():
            since = day_start(self.since_edit.date().toPython())
        return RunQuery(
            self.search_box.text().strip(),
            self.graph_combo.currentData(),
            self.outcome_combo.currentData(),
            since,
        )

    def search(self) -> None:
        query = self.query()
        self.note.setText("Searching…")
        self.worker.run(
            lambda: search_runs(self.db, self.actor, query), self._show_found, self._failed
        )

    def _show_found(self, found: list[FoundRun]) -> None:
        self._found = found
        self.note.setText(f"{len(found)} run(s) found." if found else NO_RESULTS)
        self.results.blockSignals(True)
        self.results.setRowCount(len(found))
        for row, item in enumerate(found):
            run = item.run
            cells = (
                clock_or_date(run.started_at),
                f"{run.graph_name} {run.version_label}",
                item.record,
            )
            for column, text in enumerate(cells):
                self.results.setItem(row, column, QTableWidgetItem(text))
            self._set_outcome(row, run)
        self.results.blockSignals(False)
        self.results.resizeColumnsToContents()

    def _run_chosen(self) -> None:
        rows = self.results.selectionModel().selectedRows()
        if rows:
            run = self._found[rows[0].row()].run
            self.timeline_view.load(run.source, run.record_key, run.id)

    def show_record(self, source: str, key: str) -> None:
        """Jump to a record's timeline (from another panel): its runs and its steps."""
        self.search_box.setText(key)
        self.search()
        self.timeline_view.watch(source, key)

    def _update_outcomes(self, timeline: RecordTimeline) -> None:
        """The listed runs the timeline just read again show their outcome as it is now."""
        fresh = {run.id: run for run, _ in timeline.runs}
        for row, found in enumerate(self._found):
            run = fresh.get(found.run.id)
            if run is not None:
                self._set_outcome(row, run)

    def _set_outcome(self, row: int, run: RunSummary) -> None:
        outcome = QTableWidgetItem(run.state_words)
        outcome.setForeground(QColor(*state_colour(run.state)))
        outcome.setToolTip(outcome_words(run))
        self.results.setItem(row, 3, outcome)

    def _failed(self, exc: Exception) -> None:
        self.note.setText("The runs could not be read.")
        show_failure(self, "Could not read runs", exc)


def _results_table() -> QTableWidget:
    table = make_table(COLUMNS)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return table
