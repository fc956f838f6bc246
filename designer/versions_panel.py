"""Review and versions: the table of a graph's versions and what a person may do with them.

Each button calls one engine service off the GUI thread (publishing checks every other
published graph for loops, which takes a moment), then the table is read again and
``changed`` tells the window to refresh its graph list and title. Buttons a role may
not use are hidden; the services refuse anyway, and every refusal is shown as the
service's own sentence. Two rows compared show their differences in a list and, with a
canvas attached, as colours on the canvas. The table is :mod:`designer.version_table`,
the questions asked before acting :mod:`designer.version_questions`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from designer import version_questions as questions
from designer.canvas import Canvas
from designer.diff_view import ComparePane, warn_unsaved
from designer.version_table import VersionTable
from designer.worker import Worker, show_failure
from engine.services import review as versions
from engine.services.database import Database
from engine.services.review import LoopRefused, ReviewState, VersionRow, load_review_state


class VersionsPanel(QWidget):
    """The versions of one graph; emits ``changed()`` after anything it changed."""

    changed = Signal()

    def __init__(self, db: Database, actor: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db, self.actor = db, actor
        self.state: ReviewState | None = None
        self.worker = Worker(self)
        self.heading = QLabel(wordWrap=True)
        self.table = VersionTable()
        self.busy = QProgressBar(minimum=0, maximum=0, visible=False, textVisible=False)
        self.busy_text = QLabel(visible=False)
        self.message = QLabel(wordWrap=True, alignment=Qt.AlignmentFlag.AlignTop)
        self.why_not = QLabel(wordWrap=True, visible=False)
        self.compare_pane = ComparePane(db, self.worker, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.heading)
        layout.addWidget(self.table, 2)
        self._buttons(layout)
        for widget in (self.why_not, self.busy_text, self.busy, self.message):
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
            made.setProperty("tip", tip)
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
                lambda: load_review_state(self.db, self.actor, graph_id),
                self._show_state,
                lambda exc: show_failure(self, "Cannot show the versions", exc),
            )

    def _show_state(self, state: ReviewState) -> None:
        self.state = state
        self.table.show_rows(state.rows)
        self.heading.setText(_heading(state))
        self._update_buttons()

    def selected(self) -> list[VersionRow]:
        """The chosen versions, oldest first."""
        return self.table.selected()

    def _update_buttons(self) -> None:
        """Buttons as the review service answered: shown when the role may use them,
        enabled when the chosen version allows it, the reason in the tooltip when not."""
        state, chosen = self.state, self.selected()
        may = state.may if state else frozenset()
        one = chosen[0] if len(chosen) == 1 else None
        for button, action in (
            (self.approve_button, "graph.approve"),
            (self.reject_button, "graph.reject"),
            (self.publish_button, "graph.publish"),
            (self.rollback_button, "graph.rollback"),
        ):
            button.setVisible(action in may)
            why = one.refusals[action] if one is not None else "Choose one version first."
            button.setEnabled(why is None)
            button.setToolTip(why or button.property("tip"))
        why_not = one.why_not if one is not None else None
        self.why_not.setText(why_not or "")
        self.why_not.setVisible(why_not is not None)
        self.submit_button.setVisible("graph.submit" in may)
        self.enable_button.setVisible(state is not None and _toggle_action(state) in may)
        self.compare_button.setVisible(state is not None)
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

        def work() -> tuple[Any, ReviewState]:
            return call(), load_review_state(self.db, self.actor, graph_id)

        def finished(outcome: tuple[Any, ReviewState]) -> None:
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
        answer = questions.submit_note(self, self.state.graph.name)
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
        comment = None if version is None else questions.approval_comment(self, version.label)
        if version is not None and comment is not None:
            self._run(
                f"Approving {version.label}…",
                lambda: versions.approve(self.db, version.id, actor=self.actor, comment=comment),
                lambda v: f"Approved {v.label}. It can now be published.",
                "Not approved",
            )

    def reject(self) -> None:
        version = self._one()
        comment = None if version is None else questions.rejection_comment(self, version.label)
        if version is not None and comment is not None:
            self._run(
                f"Rejecting {version.label}…",
                lambda: versions.reject(self.db, version.id, actor=self.actor, comment=comment),
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
                lambda: versions.publish(
                    self.db, version.id, actor=self.actor, override_loop=reason
                ),
                lambda v: f"Published {v.label}. New runs use it from now on.",
                "Not published",
            )

    def _failed(self, title: str, exc: Exception) -> None:
        """Show a refusal; to an admin, offer publishing anyway past a loop, with a reason."""
        admin = self.state is not None and "loop.override" in self.state.may
        if not (isinstance(exc, LoopRefused) and admin):
            show_failure(self, title, exc)
            return
        reason = questions.override_reason(self, title, exc)
        if reason:
            self._publish(reason)

    def rollback(self) -> None:
        version = self._one()
        if version is None or self.state is None:
            return
        name = self.state.graph.name
        if questions.rollback_confirmed(self, version.label, name):
            self._run(
                f"Rolling back to {version.label}…",
                lambda: versions.rollback(
                    self.db, version.graph_id, version.label, actor=self.actor
                ),
                lambda report: questions.tell_rolled_back(self, name, report),
                "Not rolled back",
            )

    def toggle_enabled(self) -> None:
        if self.state is None:
            return
        graph = self.state.graph
        if not graph.enabled:
            self._set_enabled(True, False)
            return
        cancel = questions.cancel_on_disable(self, graph.name)
        if cancel is not None:
            self._set_enabled(False, cancel)

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


def _toggle_action(state: ReviewState) -> str:
    return "graph.disable" if state.graph.enabled else "graph.enable"


def _heading(state: ReviewState) -> str:
    graph = state.graph
    current = graph.current_version or "none yet"
    running = "switched on" if graph.enabled else "disabled, so no new runs start"
    return f"'{graph.name}' — published version: {current}; {running}."
