"""Engine status for IT: are the engines alive, is work piling up, what failed lately.

Read again every few seconds off the GUI thread. An engine that died cannot report
it, so "not answering" comes from its missed heartbeats. With the embedded engine
(the designer's own, on the default SQLite database) Start and Stop control it; a
stopped runner cannot start again, so Start builds a fresh one with ``new_runner``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from designer.problems import ERROR_COLOUR, OK_COLOUR, WARNING_COLOUR
from designer.tables import duration_text, fill_table, make_table
from designer.times import when
from designer.worker import Worker, show_failure
from engine.clock import SYSTEM_CLOCK, Clock
from engine.errors import StatusFlowError
from engine.reports import error_words
from engine.services.database import Database
from engine.services.engines import EngineInfo, EngineRunner, EngineStatus, engine_status

REFRESH_MS = 5000
ENGINE_COLUMNS = ("State", "Computer", "Process", "Started", "Last heard from")
ERROR_COLUMNS = ("When", "Automation", "Record", "Step", "What went wrong")
STOPPED_COLOUR = (117, 117, 117)


def headline(status: EngineStatus) -> tuple[str, tuple[int, int, int]]:
    """One sentence on whether automations are running, and its colour."""
    if not any(e.alive for e in status.engines):
        return (
            "No engine is running, so automations are not being carried out. "
            "Start the engine, or ask IT to start the StatusFlow engine service.",
            ERROR_COLOUR,
        )
    if status.work_overdue:
        return (
            f"{status.work_overdue} step(s) are more than a minute late: the engines are not "
            "keeping up. Ask IT to check the engines or add one.",
            WARNING_COLOUR,
        )
    return "The engine is running and keeping up with the work.", OK_COLOUR


def _engine_state(engine: EngineInfo) -> tuple[str, tuple[int, int, int]]:
    if engine.stopped is not None:
        return "Stopped", STOPPED_COLOUR
    return ("Running", OK_COLOUR) if engine.alive else ("Not answering", ERROR_COLOUR)


def backlog_text(status: EngineStatus, now: datetime) -> str:
    late = (
        f", waiting since {when(status.oldest_pending_due)} "
        f"({duration_text(now - status.oldest_pending_due)})"
        if status.oldest_pending_due
        else ""
    )
    return (
        f"Status changes waiting to be picked up: {status.events_waiting}\n"
        f"Steps due now: {status.work_due}, of which more than a minute late: "
        f"{status.work_overdue}{late}"
    )


class EnginePanel(QWidget):
    """The engines and their backlog; Start/Stop when ``new_runner`` is given."""

    runner_changed = Signal(object)  # the EngineRunner now running, or None

    def __init__(
        self,
        db: Database,
        *,
        runner: EngineRunner | None = None,
        new_runner: Callable[[], EngineRunner] | None = None,
        clock: Clock = SYSTEM_CLOCK,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.db, self.clock = db, clock
        self.runner, self.new_runner = runner, new_runner
        self.status: EngineStatus | None = None
        self.worker = Worker(self)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.backlog = QLabel()
        self.engines = make_table(ENGINE_COLUMNS)
        self.errors = make_table(ERROR_COLUMNS)
        self.start_button = QPushButton("Start engine")
        self.stop_button = QPushButton("Stop engine")
        self._layout()
        self.start_button.clicked.connect(self.start_engine)
        self.stop_button.clicked.connect(self.stop_engine)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()
        self._buttons()
        self.refresh()

    def _layout(self) -> None:
        controls = QHBoxLayout()
        controls.addWidget(self.start_button)
        controls.addWidget(self.stop_button)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(controls)
        layout.addWidget(self.backlog)
        layout.addWidget(QLabel("Engines"))
        layout.addWidget(self.engines, 1)
        layout.addWidget(QLabel("Latest errors"))
        layout.addWidget(self.errors, 2)

    def _buttons(self) -> None:
        embedded = self.new_runner is not None
        self.start_button.setVisible(embedded)
        self.stop_button.setVisible(embedded)
        self.start_button.setEnabled(self.runner is None and not self.worker.busy)
        self.stop_button.setEnabled(self.runner is not None and not self.worker.busy)

    # -- reading ------------------------------------------------------------------------

    def refresh(self) -> None:
        if self.worker.busy:
            return  # the last read (or a start/stop) is still under way

        def read() -> EngineStatus:
            with self.db.read() as conn:
                return engine_status(conn, self.clock.now())

        self.worker.run(read, self._show, self._unread)

    def _unread(self, exc: Exception) -> None:
        """Said in the panel, not in a box: the next read comes in a few seconds anyway."""
        why = str(exc) if isinstance(exc, StatusFlowError) else "the database did not answer"
        self.summary.setText(f"The engine status could not be read ({why}). Trying again…")
        self.summary.setStyleSheet(f"color: {QColor(*ERROR_COLOUR).name()}; font-weight: 600")

    def _show(self, status: EngineStatus) -> None:
        self.status = status
        text, colour = headline(status)
        self.summary.setText(text)
        self.summary.setStyleSheet(f"color: {QColor(*colour).name()}; font-weight: 600")
        self.backlog.setText(backlog_text(status, self.clock.now()))
        fill_table(
            self.engines,
            [
                (_engine_state(e)[0], e.host, e.pid, when(e.started), when(e.last_beat))
                for e in status.engines
            ],
        )
        for row, engine in enumerate(status.engines):
            self.engines.item(row, 0).setForeground(QBrush(QColor(*_engine_state(engine)[1])))
        fill_table(
            self.errors,
            [
                (
                    when(e.at),
                    e.graph,
                    e.record,
                    e.step,
                    f"{error_words(e.error_class)}: {e.error}",
                )
                for e in status.last_errors
            ],
        )
        self._buttons()

    # -- the embedded engine ------------------------------------------------------------

    def start_engine(self) -> None:
        assert self.new_runner is not None
        runner = self.new_runner()
        self._control(runner.start_background, runner, "Engine not started")

    def stop_engine(self) -> None:
        assert self.runner is not None
        self._control(self.runner.stop, None, "Engine not stopped")

    def _control(self, call: Callable[[], None], after: EngineRunner | None, title: str) -> None:
        """Start or stop off the GUI thread (stopping waits for the step in hand)."""
        self.worker.run(
            call,
            lambda _none: self._controlled(after),
            lambda exc: (show_failure(self, title, exc), self._buttons()),
        )
        self._buttons()

    def _controlled(self, runner: EngineRunner | None) -> None:
        self.runner = runner
        self.runner_changed.emit(runner)
        self.refresh()
