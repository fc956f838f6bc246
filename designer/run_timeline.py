"""One record's timeline: every run and step in words, and the details of the chosen line.

Selecting a step shows what was actually sent (the rendered email, the server's
answer). While a run on screen is still active the timeline is read again every two
seconds, so a person can watch it move; after a status change made elsewhere it is
also read again for a while, until the run that change starts shows up.
"""

from __future__ import annotations

from collections.abc import Iterable
from time import monotonic
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QLabel,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.problems import ERROR_COLOUR, WARNING_COLOUR
from designer.run_display import (
    outcome_words,
    run_html,
    state_colour,
    step_html,
    step_icon,
)
from designer.times import clock_or_date, zone_note
from designer.worker import Worker
from engine.services.database import Database
from engine.services.runs import RecordTimeline, RunSummary, StepLine, load_timeline, with_attempts

WATCH_AFTER_CHANGE_S = 15.0
REFRESH_MS = 2000
KEY_ROLE = Qt.ItemDataRole.UserRole


class TimelineView(QWidget):
    """A record's runs with their steps (retries under the step they retried), and details."""

    show_path = Signal(str, str, list)  # graph id, version id, node ids
    timeline_read = Signal(object)  # the RecordTimeline just shown
    runs_added = Signal()  # a run of the record started since it was last shown
    failed = Signal(object)  # the exception that kept the timeline from being read

    def __init__(
        self, db: Database, actor: str, worker: Worker, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.db, self.actor, self.worker = db, actor, worker
        self.shown: RecordTimeline | None = None
        self._pick_run: str | None = None
        self._watch_until = 0.0  # after watch(): keep looking for a run to start
        self._runs_seen: int | None = 0
        self.refresh_timer = QTimer(self, interval=REFRESH_MS)
        self.refresh_timer.timeout.connect(self._refresh)
        self._build()

    def _build(self) -> None:
        self.timeline = QTreeWidget()
        self.timeline.setHeaderLabels(["Time", "What happened"])
        self.timeline.headerItem().setToolTip(0, zone_note())
        self.timeline.setColumnWidth(0, 150)
        self.timeline.setWordWrap(True)
        self.timeline.itemSelectionChanged.connect(self._item_chosen)
        self.details = QTextBrowser()
        self.record_title = QLabel("Choose a run to read its record's timeline.")
        self.record_title.setWordWrap(True)
        self.canvas_button = QPushButton("Show on canvas")
        self.canvas_button.setToolTip("Open the version this run used, with its steps marked.")
        self.canvas_button.setEnabled(False)
        self.canvas_button.clicked.connect(self._emit_path)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(_column(self.record_title, self.timeline, self.canvas_button))
        split.addWidget(_column(QLabel("Details of the chosen line"), self.details))
        split.setSizes([600, 400])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

    # -- reading --------------------------------------------------------------------

    def load(self, source: str, key: str, run_id: str | None = None) -> None:
        """Read the record's timeline (off the GUI thread); then choose ``run_id``'s heading."""
        self._pick_run = run_id
        self.worker.run(
            lambda: load_timeline(self.db, self.actor, source, key), self._show, self.failed.emit
        )

    def watch(self, source: str, key: str) -> None:
        """Load a record whose status may just have changed: look again until a run shows."""
        self._watch_until, self._runs_seen = monotonic() + WATCH_AFTER_CHANGE_S, None
        self.load(source, key)

    def _refresh(self) -> None:
        if self.shown is not None and not self.worker.busy:
            shown = self.shown
            self.worker.run(
                lambda: load_timeline(self.db, self.actor, shown.source, shown.key),
                self._show,
                self._stop,
            )

    def _stop(self, exc: Exception) -> None:
        self.refresh_timer.stop()
        self.failed.emit(exc)

    # -- showing --------------------------------------------------------------------

    def _show(self, timeline: RecordTimeline) -> None:
        kept = self._selected_key()
        if self.shown is not None and len(self.shown.runs) != len(timeline.runs):
            self.runs_added.emit()
        self.shown = timeline
        self.record_title.setText(f"Timeline of {timeline.record}")
        self.timeline.blockSignals(True)
        self.timeline.clear()
        for run, steps in timeline.runs:
            self._add_run(run, steps)
        self.timeline.expandAll()
        self.timeline.blockSignals(False)
        wanted = ("run", self._pick_run) if self._pick_run else kept
        self._pick_run = None
        latest = ("run", timeline.runs[-1][0].id) if timeline.runs else None
        self._select(wanted or latest)
        self.timeline_read.emit(timeline)
        self._follow(timeline)

    def _follow(self, timeline: RecordTimeline) -> None:
        """Keep reading while a run is going, or while a run is expected to start."""
        if self._runs_seen is None:
            self._runs_seen = len(timeline.runs)
        if timeline.active:  # a run is going: from now on, follow it until it ends
            self._watch_until = 0.0
        waiting = len(timeline.runs) == self._runs_seen and monotonic() < self._watch_until
        if timeline.active or waiting:
            self.refresh_timer.start()
        else:
            self.refresh_timer.stop()

    def _add_run(self, run: RunSummary, steps: list[StepLine]) -> None:
        heading = QTreeWidgetItem(
            [
                clock_or_date(run.started_at),
                f"{run.graph_name} {run.version_label} — {outcome_words(run)}",
            ]
        )
        heading.setData(0, KEY_ROLE, ("run", run.id))
        heading.setToolTip(1, outcome_words(run))
        heading.setForeground(1, QColor(*state_colour(run.state)))
        font = heading.font(1)
        font.setBold(True)
        heading.setFont(1, font)
        self.timeline.addTopLevelItem(heading)
        for index, attempts in with_attempts(steps):
            item = self._step_item(heading, steps[index], run, ("step", run.id, index))
            for attempt in attempts:
                self._step_item(item, steps[attempt], run, ("step", run.id, attempt))

    def _step_item(
        self, parent: QTreeWidgetItem, step: StepLine, run: RunSummary, key: tuple[Any, ...]
    ) -> QTreeWidgetItem:
        item = QTreeWidgetItem(parent, [clock_or_date(step.at, run.started_at), step.summary])
        item.setIcon(1, step_icon(step))
        item.setData(0, KEY_ROLE, key)
        item.setToolTip(1, step.summary)
        if step.kind == "retry":
            item.setForeground(1, QColor(*WARNING_COLOUR))
        elif step.error:
            item.setForeground(1, QColor(*ERROR_COLOUR))
        return item

    # -- choosing a line --------------------------------------------------------------

    def _items(self) -> Iterable[QTreeWidgetItem]:
        pending = [self.timeline.topLevelItem(i) for i in range(self.timeline.topLevelItemCount())]
        while pending:
            item = pending.pop(0)
            yield item
            pending += [item.child(i) for i in range(item.childCount())]

    def _selected_key(self) -> tuple[Any, ...] | None:
        chosen = self.timeline.selectedItems()
        return tuple(chosen[0].data(0, KEY_ROLE)) if chosen else None

    def _select(self, key: tuple[Any, ...] | None) -> None:
        for item in self._items():
            if tuple(item.data(0, KEY_ROLE)) == key:
                self.timeline.setCurrentItem(item)
                self.timeline.scrollToItem(item)
                return
        self._item_chosen()

    def _item_chosen(self) -> None:
        key = self._selected_key()
        self.canvas_button.setEnabled(key is not None)
        if key is None or self.shown is None:
            self.details.clear()
            return
        run, steps = next(entry for entry in self.shown.runs if entry[0].id == key[1])
        html = run_html(run, self.shown.record) if key[0] == "run" else step_html(steps[key[2]])
        self.details.setHtml(html)

    def selected_run_id(self) -> str | None:
        key = self._selected_key()
        return key[1] if key else None

    def _emit_path(self) -> None:
        run_id = self.selected_run_id()
        if run_id is not None and self.shown is not None:
            self.show_path.emit(*self.shown.path(run_id))


def _column(*widgets: QWidget) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget, 1 if isinstance(widget, QTreeWidget | QTextBrowser) else 0)
    return box
