"""Review and versions: the table of a graph's versions and what a person may do with them.

Each button calls one engine service off the GUI thread (publishing checks every other
published graph for loops, which takes a moment), then the table is read again and
``changed`` tells the window to refresh its graph list and title. Buttons a role may
not use are hidden; the services refuse anyway, and every refusal is shown as the
service's own sentence. Two rows compared show their differences in a list and, with a
canvas attached, as colours on the canvas.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Connection, select

from designer.canvas import Canvas
from designer.diff_view import ComparePane, version_graph, warn_unsaved
from designer.worker import Worker, show_failure
from engine.analysis.loops import find_cycles
from engine.errors import StatusFlowError
from engine.governance import versions
from engine.governance.permissions import PermissionDenied, allowed
from engine.graphs import GraphSummary, find_graph
from engine.settings import FOUR_EYES_RELAXED, get_setting
from engine.storage.database import Database
from engine.storage.tables import graph_versions

STATE_WORDS = {
    "in_review": "In review",
    "approved": "Approved",
    "published": "Published (current)",
    "superseded": "Superseded",
    "rejected": "Rejected",
}
COLUMNS = ("Version", "State", "Submitted", "Review", "Published", "Last test", "Change note")
ACTIONS = (
    "graph.submit",
    "graph.approve",
    "graph.reject",
    "graph.publish",
    "graph.rollback",
    "graph.disable",
    "graph.enable",
    "loop.override",
)


@dataclass(frozen=True)
class VersionRow:
    """A version with what reviewers read beside it."""

    info: versions.VersionInfo
    note: str
    comment: str | None
    verdict: str | None  # of the last test run stored with the version


@dataclass(frozen=True)
class PanelState:
    graph: GraphSummary
    rows: tuple[VersionRow, ...]  # oldest first
    may: frozenset[str]  # the actions of ACTIONS this person may do
    four_eyes_relaxed: bool


class _LoopRefused(StatusFlowError):
    """Publishing was refused because graphs would trigger each other in a loop."""


def review_details(
    conn: Connection, graph_id: str
) -> dict[str, tuple[str, str | None, str | None]]:
    """Change note, review comment and last test verdict of each version, by version id."""
    rows = conn.execute(
        select(
            graph_versions.c.id,
            graph_versions.c.change_note,
            graph_versions.c.review_comment,
            graph_versions.c.last_test_run,
        ).where(graph_versions.c.graph_id == graph_id)
    )
    return {
        r.id: (r.change_note, r.review_comment, (r.last_test_run or {}).get("verdict"))
        for r in rows
    }


def load_state(db: Database, actor: str, graph_id: str) -> PanelState:
    with db.read() as conn:
        graph = find_graph(conn, graph_id)
        details = review_details(conn, graph.id)
        rows = tuple(
            VersionRow(info, *details[info.id]) for info in versions.list_versions(conn, graph.id)
        )
        may = frozenset(action for action in ACTIONS if allowed(conn, actor, action))
        relaxed = bool(get_setting(conn, FOUR_EYES_RELAXED, False))
    return PanelState(graph, rows, may, relaxed)


def publish(db: Database, actor: str, version_id: str, reason: str | None) -> versions.VersionInfo:
    """Publish; a refusal caused by a loop is told apart so an admin can override it."""
    try:
        return versions.publish(db, version_id, actor=actor, override_loop=reason)
    except PermissionDenied:
        raise
    except StatusFlowError as refused:
        if reason is None and _closes_loop(db, version_id):
            raise _LoopRefused(str(refused)) from refused
        raise


def _closes_loop(db: Database, version_id: str) -> bool:
    with db.read() as conn:
        version = versions.get_version(conn, version_id)
        return bool(find_cycles(conn, version.graph_id, version_graph(conn, version_id)))


def _when(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%d %b %Y %H:%M") if moment else ""


def _cells(row: VersionRow) -> tuple[str, ...]:
    info = row.info
    review = f"{info.reviewer}: {row.comment}" if info.reviewer and row.comment else info.reviewer
    return (
        info.label,
        STATE_WORDS.get(info.state, info.state),
        f"{info.author}, {_when(info.submitted_at)}",
        review or "",
        _when(info.published_at),
        row.verdict or "Not tested",
        row.note,
    )


def _runs_going(active: dict[str, int]) -> str:
    if not active:
        return "No runs are going right now."
    counts = ", ".join(f"{count} on {label}" for label, count in active.items())
    return f"Runs still going: {counts}. Each finishes on the version that started it."


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


class VersionsPanel(QWidget):
    """The versions of one graph; emits ``changed()`` after anything it changed."""

    changed = Signal()

    def __init__(self, db: Database, actor: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db, self.actor = db, actor
        self.state: PanelState | None = None
        self.worker = Worker(self)
        self.heading = QLabel(wordWrap=True)
        self.table = _table()
        self.busy = QProgressBar(minimum=0, maximum=0, visible=False, textVisible=False)
        self.busy_text = QLabel(visible=False)
        self.message = QLabel(wordWrap=True, alignment=Qt.AlignmentFlag.AlignTop)
        self.compare_pane = ComparePane(db, self.worker, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.heading)
        layout.addWidget(self.table, 2)
        self._buttons(layout)
        for widget in (self.busy_text, self.busy, self.message):
            layout.addWidget(widget)
        layout.addWidget(self.compare_pane, 1)
        self.worker.busy_changed.connect(self._show_busy)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.show_graph(None)

    def _buttons(self, layout: QVBoxLayout) -> None:
        """Review actions on one row; graph-wide ones (submit, kill switch, compare) below."""
        self.buttons: list[QPushButton] = []
        rows = (QHBoxLayout(), QHBoxLayout())

        def button(row: int, text: str, slot: Callable[[], None], tip: str) -> QPushButton:
            made = QPushButton(text, toolTip=tip)
            made.clicked.connect(slot)
            rows[row].addWidget(made)
            self.buttons.append(made)
            return made

        self.approve_button = button(0, "Approve…", self.approve, "Approve the chosen version.")
        self.reject_button = button(0, "Reject…", self.reject, "Send the chosen version back.")
        self.publish_button = button(0, "Publish", self.publish, "New runs use the version.")
        self.rollback_button = button(
            0, "Roll back to this version", self.rollback, "Publish an earlier version again."
        )
        self.submit_button = button(
            1, "Submit draft for review…", self.submit, "Freeze the saved draft as a version."
        )
        self.enable_button = button(1, "Disable graph…", self.toggle_enabled, "Kill switch.")
        self.compare_button = button(
            1, "Compare", self.compare, "Ctrl-click two versions, then compare them."
        )
        for row in rows:
            row.addStretch()
            layout.addLayout(row)

    def attach_canvas(self, canvas: Canvas) -> None:
        """Show comparisons on this canvas too, and allow viewing a version on it."""
        self.compare_pane.attach_canvas(canvas)

    # -- showing --------------------------------------------------------------------

    def show_graph(self, graph_id: str | None) -> None:
        """Show the versions of a saved graph (None: a graph not saved yet)."""
        self.compare_pane.clear()
        self.state = None
        self.table.setRowCount(0)
        self.heading.setText("Save this automation first; its versions are listed here.")
        self._update_buttons()
        if graph_id is not None:
            self.busy_text.setText("Reading the versions…")
            self.worker.run(
                lambda: load_state(self.db, self.actor, graph_id),
                self._show_state,
                lambda exc: show_failure(self, "Cannot show the versions", exc),
            )

    def _show_state(self, state: PanelState) -> None:
        self.state = state
        self.table.setRowCount(0)
        for row in reversed(state.rows):  # newest on top
            self._add_row(row)
        self.heading.setText(_heading(state))
        self._update_buttons()

    def _add_row(self, row: VersionRow) -> None:
        index = self.table.rowCount()
        self.table.insertRow(index)
        for column, text in enumerate(_cells(row)):
            item = QTableWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, row)
            if row.info.state == "published":
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            self.table.setItem(index, column, item)

    def selected(self) -> list[VersionRow]:
        """The chosen versions, oldest first."""
        indexes = sorted({index.row() for index in self.table.selectedIndexes()}, reverse=True)
        return [self.table.item(i, 0).data(Qt.ItemDataRole.UserRole) for i in indexes]

    def _update_buttons(self) -> None:
        state, chosen = self.state, self.selected()
        may = state.may if state else frozenset()
        one = chosen[0].info if len(chosen) == 1 else None
        own = one is not None and one.author.lower() == self.actor.lower()
        four_eyes = own and not (state and state.four_eyes_relaxed)
        for button, visible in (
            (self.submit_button, "graph.submit" in may),
            (self.approve_button, "graph.approve" in may and not four_eyes),
            (self.reject_button, "graph.reject" in may),
            (self.publish_button, "graph.publish" in may),
            (self.rollback_button, "graph.rollback" in may),
            (self.enable_button, state is not None and _toggle_action(state) in may),
            (self.compare_button, state is not None),
        ):
            button.setVisible(visible)
        for button, wanted in (
            (self.approve_button, "in_review"),
            (self.reject_button, "in_review"),
            (self.publish_button, "approved"),
            (self.rollback_button, "superseded"),
        ):
            button.setEnabled(one is not None and one.state == wanted)
        self.submit_button.setEnabled(state is not None)
        self.compare_button.setEnabled(len(chosen) == 2)
        enabled = state is None or state.graph.enabled
        self.enable_button.setText("Disable graph…" if enabled else "Enable graph")

    def _show_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.busy_text.setVisible(busy)
        self.table.setEnabled(not busy)
        self.compare_pane.setEnabled(not busy)
        for button in self.buttons:
            button.setEnabled(not busy)
        if not busy:
            self._update_buttons()

    def _run(
        self, doing: str, call: Callable[[], Any], done: Callable[[Any], str], refused: str
    ) -> None:
        """Run ``call`` off the GUI thread, re-read the table, show ``done(result)``."""
        if self.state is None:
            return
        graph_id = self.state.graph.id
        self.busy_text.setText(doing)
        self.message.clear()

        def work() -> tuple[Any, PanelState]:
            return call(), load_state(self.db, self.actor, graph_id)

        def finished(outcome: tuple[Any, PanelState]) -> None:
            self._show_state(outcome[1])
            self.message.setText(done(outcome[0]))
            self.changed.emit()

        self.worker.run(work, finished, lambda exc: self._failed(refused, exc))

    def compare(self) -> None:
        chosen = self.selected()
        if len(chosen) == 2:
            self.compare_pane.compare(chosen[0].info, chosen[1].info)

    def _unsaved_draft(self) -> bool:
        """Submitting sends the saved draft: warn (True) when the canvas has unsaved edits."""
        view = self.compare_pane.diff_view
        document = view.canvas.document if view else None
        if document is None or self.state is None or self.compare_pane.viewing:
            return False
        if document.graph_id_in_db != self.state.graph.id:
            return False
        return warn_unsaved(self, document, "submitting sends the saved draft for review")

    # -- actions ------------------------------------------------------------------------

    def _one(self) -> versions.VersionInfo | None:
        chosen = self.selected()
        return chosen[0].info if len(chosen) == 1 else None

    def submit(self) -> None:
        if self.state is None or self._unsaved_draft():
            return
        answer = ask(
            self,
            "Submit for review",
            f"Submit the saved draft of '{self.state.graph.name}' for review. "
            "What changed, and why? A publisher reads this before approving.",
            text="For example: the reminder now waits 2 hours instead of 1.",
            tick="This is a new major version (V2.0 rather than the next V1.x)",
            ok="Submit",
        )
        if answer is None:
            return
        note, major = answer
        graph_id = self.state.graph.id
        self._run(
            "Submitting the draft…",
            lambda: versions.submit(self.db, graph_id, actor=self.actor, major=major, note=note),
            lambda v: f"Submitted {v.label} for review.",
            "Not submitted",
        )

    def approve(self) -> None:
        version = self._one()
        answer = version and ask(
            self,
            f"Approve {version.label}",
            f"Approve {version.label}? A comment for the author is optional.",
            text="Comment (optional)",
            ok="Approve",
        )
        if version and answer:
            self._run(
                f"Approving {version.label}…",
                lambda: versions.approve(self.db, version.id, actor=self.actor, comment=answer[0]),
                lambda v: f"Approved {v.label}. It can now be published.",
                "Not approved",
            )

    def reject(self) -> None:
        version = self._one()
        answer = version and ask(
            self,
            f"Reject {version.label}",
            f"Why is {version.label} rejected? The author reads this to put it right.",
            text="What needs to change",
            required=True,
            ok="Reject",
        )
        if version and answer:
            self._run(
                f"Rejecting {version.label}…",
                lambda: versions.reject(self.db, version.id, actor=self.actor, comment=answer[0]),
                lambda v: f"Rejected {v.label}; {v.author} can see your comment.",
                "Not rejected",
            )

    def publish(self) -> None:
        self._publish(None)

    def _publish(self, reason: str | None) -> None:
        version = self._one()
        if version is not None:
            self._run(
                f"Publishing {version.label} (checking it starts no loop)…",
                lambda: publish(self.db, self.actor, version.id, reason),
                lambda v: f"Published {v.label}. New runs use it from now on.",
                "Not published",
            )

    def _failed(self, title: str, exc: Exception) -> None:
        """Show a refusal; to an admin, offer publishing anyway past a loop, with a reason."""
        admin = self.state is not None and "loop.override" in self.state.may
        if not (isinstance(exc, _LoopRefused) and admin):
            show_failure(self, title, exc)
            return
        anyway = QMessageBox.question(
            self,
            title,
            f"{exc}\n\nAs an admin you may publish anyway, giving a reason that is kept in "
            "the audit log. Publish anyway?",
        )
        reason = anyway == QMessageBox.StandardButton.Yes and ask(
            self,
            "Publish anyway",
            "Why is it safe to publish despite the loop? This is kept in the audit log.",
            text="Reason",
            required=True,
            ok="Publish anyway",
        )
        if reason:
            self._publish(reason[0])

    def rollback(self) -> None:
        version = self._one()
        if version is None or self.state is None:
            return
        name = self.state.graph.name
        sure = QMessageBox.question(
            self,
            "Roll back",
            f"Make {version.label} the published version of '{name}' again? New runs use "
            "it from now on; runs already going finish on the version that started them.",
        )
        if sure == QMessageBox.StandardButton.Yes:
            self._run(
                f"Rolling back to {version.label}…",
                lambda: versions.rollback(
                    self.db, version.graph_id, version.label, actor=self.actor
                ),
                lambda report: self._rolled_back(name, report),
                "Not rolled back",
            )

    def _rolled_back(self, name: str, report: versions.RollbackReport) -> str:
        was = f" (it was {report.previous})" if report.previous else ""
        text = f"'{name}' now runs {report.version.label}{was}."
        QMessageBox.information(self, "Rolled back", f"{text} {_runs_going(report.active_runs)}")
        return text

    def toggle_enabled(self) -> None:
        if self.state is None:
            return
        graph = self.state.graph
        if not graph.enabled:
            self._set_enabled(True, False)
            return
        answer = ask(
            self,
            "Disable graph",
            f"While '{graph.name}' is disabled no new runs start. Runs already going "
            "finish as drawn, unless you tick the box to cancel them now.",
            tick="Cancel the runs that are still going",
            ok="Disable",
        )
        if answer is not None:
            self._set_enabled(False, answer[1])

    def _set_enabled(self, enabled: bool, cancel: bool) -> None:
        assert self.state is not None
        graph_id, word = self.state.graph.id, "Enabled" if enabled else "Disabled"
        self._run(
            "Switching the graph on…" if enabled else "Switching the graph off…",
            lambda: versions.set_enabled(
                self.db, graph_id, enabled, actor=self.actor, cancel_running=cancel
            ),
            lambda cancelled: (
                f"{word} the graph"
                + (f" and cancelled {cancelled} running runs." if cancelled else ".")
            ),
            f"Not {word.lower()}",
        )


def _table() -> QTableWidget:
    table = QTableWidget(0, len(COLUMNS))
    table.setHorizontalHeaderLabels(COLUMNS)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setWordWrap(True)
    table.verticalHeader().hide()
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    table.setAccessibleName("Versions of this automation")
    return table


def _toggle_action(state: PanelState) -> str:
    return "graph.disable" if state.graph.enabled else "graph.enable"


def _heading(state: PanelState) -> str:
    graph = state.graph
    current = graph.current_version or "none yet"
    running = "switched on" if graph.enabled else "disabled, so no new runs start"
    return f"'{graph.name}' — published version: {current}; {running}."
