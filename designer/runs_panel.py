"""The runs panel: find a record's runs and read what happened to it, step by step.

Support staff ask "what happened to order 42, and why did (or didn't) the email go
out?". They search by what they know (the order number or the customer's name), pick
a run and read the record's whole timeline in words; selecting a step shows what was
actually sent (the rendered email, the server's answer). Database reads run off the
GUI thread; while a run on screen is still active its timeline is read again every two
seconds, so a person can watch it move.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time
from html import escape
from time import monotonic
from typing import Any

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon
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
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Connection

from designer.palette import node_icon, svg_icon
from designer.problems import ERROR_COLOUR, OK_COLOUR, WARNING_COLOUR
from designer.worker import Worker, show_failure
from engine.graphs import list_graphs
from engine.nodes import catalogue
from engine.runtime.records import RecordStore
from engine.runtime.runs import get_run
from engine.runtime.timeline import STATE_WORDS, RunSummary, StepLine, find_runs, record_timeline
from engine.sources.registry import SourceInfo, get_source
from engine.storage.database import Database

WATCH_AFTER_CHANGE_S = 15.0
REFRESH_MS = 2000
KEY_ROLE = Qt.ItemDataRole.UserRole
GREY = (97, 97, 97)
STATE_COLOURS: dict[str, tuple[int, int, int]] = {
    "active": (21, 101, 192),
    "succeeded": OK_COLOUR,
    "succeeded_compensated": (0, 121, 107),
    "cancelled": GREY,
    "failed": ERROR_COLOUR,
    "stopped_loop_guard": ERROR_COLOUR,
}
KIND_ICONS = {
    "trigger": "trigger.svg",
    "condition": "condition.svg",
    "wait": "wait.svg",
    "task": "task.svg",
    "note": "note.svg",
    "cancel": "warning.svg",
}
COLUMNS = ("Started (UTC)", "Automation", "Record", "Outcome")
NO_RESULTS = (
    "No runs match. Check the spelling, or choose 'Any outcome' and 'All automations' "
    "to search more widely."
)


@dataclass(frozen=True)
class RunQuery:
    """What a person searched for; empty parts do not filter."""

    text: str = ""
    graph_id: str | None = None
    state: str | None = None
    since: datetime | None = None


@dataclass(frozen=True)
class FoundRun:
    run: RunSummary
    record: str  # the record as people know it: "orders 42 — Anna Berg, …"


@dataclass(frozen=True)
class RecordTimeline:
    """Every run of one record, and the version each ran, for the canvas."""

    source: str
    key: str
    record: str
    runs: list[tuple[RunSummary, list[StepLine]]]
    versions: dict[str, tuple[str, str]]  # run id → (graph id, version id)

    @property
    def active(self) -> bool:
        return any(run.state == "active" for run, _ in self.runs)

    def path(self, run_id: str) -> tuple[str, str, list[str]]:
        """The run's graph, version and the steps it went through, in order."""
        steps = next(steps for run, steps in self.runs if run.id == run_id)
        nodes = dict.fromkeys(step.node_id for step in steps if step.node_id)
        return (*self.versions[run_id], list(nodes))


# -- reading (off the GUI thread) ---------------------------------------------------


def describe_record(source: SourceInfo, key: str, record: Mapping[str, Any] | None) -> str:
    """The record as people know it, by its display fields: "orders 42 — Anna Berg, …"."""
    if record is None:
        return f"{source.name} {key} (no longer in the table)"
    shown = [
        str(record[column])
        for column in source.display_columns
        if column != source.key_column and record.get(column) not in (None, "")
    ]
    return f"{source.name} {key}" + (f" — {', '.join(shown)}" if shown else "")


def record_labels(
    conn: Connection, records: Iterable[tuple[SourceInfo, str]]
) -> dict[tuple[str, str], str]:
    """Each (source name, key) described by its display fields, each record read once."""
    store = RecordStore()
    unique = {(source.name, key): (source, key) for source, key in records}
    return {
        name_and_key: describe_record(source, key, store.read(conn, source, key))
        for name_and_key, (source, key) in unique.items()
    }


def search_runs(db: Database, query: RunQuery) -> list[FoundRun]:
    """Runs whose record key is the text or whose display fields contain it, newest first."""
    filters: dict[str, Any] = {"graph": query.graph_id, "state": query.state, "since": query.since}
    with db.read() as conn:
        found = find_runs(conn, text=query.text or None, **filters)
        if query.text:
            seen = {run.id for run in found}
            by_key = find_runs(conn, record_key=query.text, **filters)
            found += [run for run in by_key if run.id not in seen]
            found.sort(key=lambda run: run.started_at, reverse=True)
        sources = {name: get_source(conn, name) for name in {run.source for run in found}}
        labels = record_labels(conn, ((sources[run.source], run.record_key) for run in found))
    return [FoundRun(run, labels[(run.source, run.record_key)]) for run in found]


def load_timeline(db: Database, source: str, key: str) -> RecordTimeline:
    with db.read() as conn:
        info = get_source(conn, source)
        runs = record_timeline(conn, source, key)
        versions = {}
        for run, _ in runs:
            row = get_run(conn, run.id)
            versions[run.id] = (row.graph_id, row.version_id)
        record = describe_record(info, key, RecordStore().read(conn, info, key))
    return RecordTimeline(source, key, record, runs, versions)


def with_attempts(steps: list[StepLine]) -> list[tuple[int, list[int]]]:
    """Step indexes in order, each with the failed attempts that came before it on its node.

    Attempts not followed by a step of their node (still retrying, or the run was
    cancelled meanwhile) stay where they happened.
    """
    grouped: list[tuple[int, list[int]]] = []
    held: list[int] = []
    for index, step in enumerate(steps):
        if step.kind == "retry":
            held.append(index)
            continue
        node = step.node_id
        grouped += [(other, []) for other in held if steps[other].node_id != node]
        grouped.append((index, [mine for mine in held if steps[mine].node_id == node]))
        held = []
    return grouped + [(attempt, []) for attempt in held]


# -- words ----------------------------------------------------------------------------


def utc(moment: datetime, day_of: datetime | None = None) -> str:
    """Time of day when on the day of ``day_of``, else date and time; always UTC."""
    at = moment.astimezone(UTC)
    if day_of is not None and at.date() == day_of.astimezone(UTC).date():
        return f"{at:%H:%M:%S}"
    return f"{at:%Y-%m-%d %H:%M}"


def outcome_words(run: RunSummary) -> str:
    return run.state_words + (f": {run.outcome_reason}" if run.outcome_reason else "")


def _para(label: str, value: Any) -> str:
    return f"<p><b>{escape(label)}</b> {escape(str(value))}</p>"


def _block(text: Any) -> str:
    """A message body as written: its line breaks kept, long lines wrapped."""
    return f"<p style='white-space: pre-wrap'>{escape(str(text))}</p>"


def _sent_html(detail: Mapping[str, Any]) -> list[str]:
    """What left StatusFlow: the email, text message or web call, and the answer."""
    parts: list[str] = []
    if email := detail.get("email"):
        parts.append("<h4>The email</h4>")
        parts.append(_para("To:", ", ".join(email["to"])))
        if email.get("cc"):
            parts.append(_para("Cc:", ", ".join(email["cc"])))
        parts.append(_para("Subject:", email["subject"]))
        parts.append(_block(email["text"]))
    if sms := detail.get("sms"):
        parts += ["<h4>The text message</h4>", _para("To:", sms["to"]), _para("", sms["message"])]
    if request := detail.get("request"):
        parts.append("<h4>The web call</h4>")
        parts.append(_para(f"{request['method']}", request["url"]))
        if request.get("body"):
            parts.append(_block(request["body"]))
    if "http_status" in detail:
        parts.append(_para("The server answered:", f"HTTP {detail['http_status']}"))
    if detail.get("response"):
        parts.append(_block(detail["response"]))
    return parts


def step_html(step: StepLine) -> str:
    parts = [_para(f"{utc(step.at)} UTC", step.summary)]
    if step.attempt and (step.attempt > 1 or step.error):
        parts.append(_para("Attempt:", step.attempt))
    if step.error:
        colour = QColor(*ERROR_COLOUR).name()
        parts.append(f"<p style='color:{colour}'><b>What went wrong:</b> {escape(step.error)}</p>")
    parts += _sent_html(step.detail or {})
    if len(parts) == 1:
        parts.append("<p>Nothing more was recorded for this step.</p>")
    return "".join(parts)


def run_html(run: RunSummary, record: str) -> str:
    parts = [
        _para("Automation:", f"{run.graph_name} {run.version_label}"),
        _para("Record:", record),
        _para("Outcome:", outcome_words(run)),
        _para("Started:", f"{utc(run.started_at)} UTC"),
    ]
    if run.finished_at is not None:
        parts.append(_para("Finished:", f"{utc(run.finished_at)} UTC"))
    if run.started_by:
        parts.append(_para("Started by:", run.started_by))
    return "".join(parts)


def step_icon(step: StepLine) -> QIcon:
    if step.kind == "retry":
        return svg_icon("warning.svg", WARNING_COLOUR)
    if step.error:
        return svg_icon("error.svg", ERROR_COLOUR)
    if step.kind == "outcome":
        state = (step.detail or {}).get("state", "")
        return svg_icon("ok.svg" if state.startswith("succeeded") else "error.svg", _colour(state))
    node_type = catalogue.get(step.node_type) if step.node_type else None
    if node_type is not None:
        return node_icon(node_type)
    return svg_icon(KIND_ICONS.get(step.kind, "action.svg"), GREY)


def _colour(state: str) -> tuple[int, int, int]:
    return STATE_COLOURS.get(state, GREY)


# -- the panel ------------------------------------------------------------------------


class RunsPanel(QWidget):
    """Search runs, read a record's timeline, and show a run's path on the canvas."""

    show_path = Signal(str, str, list)  # graph id, version id, node ids

    def __init__(self, db: Database, actor: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db, self.actor = db, actor
        self.worker = Worker(self)
        self.shown: RecordTimeline | None = None
        self._found: list[FoundRun] = []
        self._pick_run: str | None = None
        self._watch_until = 0.0  # after show_record: keep looking for a run to start
        self._runs_seen: int | None = 0
        self.refresh_timer = QTimer(self, interval=REFRESH_MS)
        self.refresh_timer.timeout.connect(self._refresh)
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
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.note)
        layout.addWidget(self._splitter(), 1)

    def _splitter(self) -> QSplitter:
        self.results = QTableWidget(0, len(COLUMNS))
        self.results.setHorizontalHeaderLabels(COLUMNS)
        self.results.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.results.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.results.verticalHeader().hide()
        self.results.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.results.horizontalHeader().setStretchLastSection(True)
        self.results.itemSelectionChanged.connect(self._run_chosen)
        self.timeline = QTreeWidget()
        self.timeline.setHeaderLabels(["Time (UTC)", "What happened"])
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
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(_column(self.record_title, self.timeline, self.canvas_button))
        lower.addWidget(_column(QLabel("Details of the chosen line"), self.details))
        lower.setSizes([600, 400])
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.results)
        splitter.addWidget(lower)
        splitter.setSizes([200, 400])
        return splitter

    # -- searching ------------------------------------------------------------------

    def _fill_graphs(self, summaries: list[Any]) -> None:
        for summary in summaries:
            self.graph_combo.addItem(summary.name, summary.id)

    def query(self) -> RunQuery:
        since = None
        if self.since_check.isChecked():
            since = datetime.combine(self.since_edit.date().toPython(), time(), tzinfo=UTC)
        return RunQuery(
            self.search_box.text().strip(),
            self.graph_combo.currentData(),
            self.outcome_combo.currentData(),
            since,
        )

    def search(self) -> None:
        query = self.query()
        self.note.setText("Searching…")
        self.worker.run(lambda: search_runs(self.db, query), self._show_found, self._failed)

    def _show_found(self, found: list[FoundRun]) -> None:
        self._found = found
        self.note.setText(f"{len(found)} run(s) found." if found else NO_RESULTS)
        self.results.blockSignals(True)
        self.results.setRowCount(len(found))
        for row, item in enumerate(found):
            run = item.run
            cells = (utc(run.started_at), f"{run.graph_name} {run.version_label}", item.record)
            for column, text in enumerate(cells):
                self.results.setItem(row, column, QTableWidgetItem(text))
            self._set_outcome(row, run)
        self.results.blockSignals(False)
        self.results.resizeColumnsToContents()

    def _run_chosen(self) -> None:
        rows = self.results.selectionModel().selectedRows()
        if rows:
            run = self._found[rows[0].row()].run
            self._load(run.source, run.record_key, run.id)

    def show_record(self, source: str, key: str) -> None:
        """Jump to a record's timeline (from another panel): its runs and its steps."""
        self.search_box.setText(key)
        self.search()
        # the status may just have changed: look again until a new run shows up (or a while)
        self._watch_until, self._runs_seen = monotonic() + WATCH_AFTER_CHANGE_S, None
        self._load(source, key, None)

    # -- the timeline ---------------------------------------------------------------

    def _load(self, source: str, key: str, run_id: str | None) -> None:
        self._pick_run = run_id
        self.worker.run(lambda: load_timeline(self.db, source, key), self._show, self._failed)

    def _refresh(self) -> None:
        if self.shown is not None and not self.worker.busy:
            shown = self.shown
            self.worker.run(
                lambda: load_timeline(self.db, shown.source, shown.key), self._show, self._stop
            )

    def _stop(self, exc: Exception) -> None:
        self.refresh_timer.stop()
        self._failed(exc)

    def _show(self, timeline: RecordTimeline) -> None:
        kept = self._selected_key()
        if self.shown is not None and len(self.shown.runs) != len(timeline.runs):
            self.search()  # a run started meanwhile: list it too
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
        self._update_outcomes(timeline)
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
            [utc(run.started_at), f"{run.graph_name} {run.version_label} — {outcome_words(run)}"]
        )
        heading.setData(0, KEY_ROLE, ("run", run.id))
        heading.setToolTip(1, outcome_words(run))
        heading.setForeground(1, QColor(*_colour(run.state)))
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
        item = QTreeWidgetItem(parent, [utc(step.at, run.started_at), step.summary])
        item.setIcon(1, step_icon(step))
        item.setData(0, KEY_ROLE, key)
        item.setToolTip(1, step.summary)
        if step.kind == "retry":
            item.setForeground(1, QColor(*WARNING_COLOUR))
        elif step.error:
            item.setForeground(1, QColor(*ERROR_COLOUR))
        return item

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

    def _update_outcomes(self, timeline: RecordTimeline) -> None:
        fresh = {run.id: run for run, _ in timeline.runs}
        for row, found in enumerate(self._found):
            run = fresh.get(found.run.id)
            if run is not None:
                self._set_outcome(row, run)

    def _set_outcome(self, row: int, run: RunSummary) -> None:
        outcome = QTableWidgetItem(run.state_words)
        outcome.setForeground(QColor(*_colour(run.state)))
        outcome.setToolTip(outcome_words(run))
        self.results.setItem(row, 3, outcome)

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

    def _failed(self, exc: Exception) -> None:
        self.note.setText("The runs could not be read.")
        show_failure(self, "Could not read runs", exc)


def _column(*widgets: QWidget) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        layout.addWidget(widget, 1 if isinstance(widget, QTreeWidget | QTextBrowser) else 0)
    return box
