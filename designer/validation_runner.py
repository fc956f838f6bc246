"""Live validation: the engine's ``validate`` re-run as the person edits, off the GUI thread.

Typing into a form changes the document on every key press; checking a big graph on
each one would make the designer stutter. So a change only (re)starts a short timer,
and when it fires the current graph (immutable, so safe to hand to another thread) is
checked on a worker thread that never touches Qt. Each check carries a generation
number; a result that arrives after a newer check was started describes a graph that
no longer exists and is dropped, so the problems shown always belong to the latest graph.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal

from designer.document import GraphDocument
from designer.worker import Worker
from engine.graph.context import ValidationContext
from engine.graph.model import Graph
from engine.graph.validation import Problem, validate

log = logging.getLogger(__name__)

DEBOUNCE_MS = 250

CHECK_FAILED = (
    "StatusFlow could not check this graph because of an internal error. Save your work, "
    "then tell your IT team so they can look at the log."
)


def _check(graph: Graph, context: ValidationContext) -> list[Problem]:
    """One validation of one graph snapshot, on the worker thread."""
    try:
        return validate(graph, context)
    except Exception:  # a bug in a check must not leave stale problems on screen
        log.exception("Validating graph %s failed", graph.id)
        return [Problem(None, None, CHECK_FAILED)]


class ValidationRunner(QObject):
    """Re-validates ``document`` after each change; emits ``problems_changed(list[Problem])``."""

    problems_changed = Signal(list)

    def __init__(
        self,
        document: GraphDocument,
        context: ValidationContext | None = None,
        parent: QObject | None = None,
        delay_ms: int = DEBOUNCE_MS,
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.context = context or ValidationContext()
        self.problems: list[Problem] = []
        self._generation = 0
        self._worker = Worker(self)
        self._timer = QTimer(self, singleShot=True, interval=delay_ms)
        self._timer.timeout.connect(self.refresh)
        document.changed.connect(self.schedule)
        document.replaced.connect(self.schedule)

    def schedule(self, *_changes: object) -> None:
        """Check again once the person pauses (each call restarts the wait)."""
        self._timer.start()

    def set_context(self, context: ValidationContext) -> None:
        """New facts about the record source (codes, fields...): check again now."""
        self.context = context
        self.refresh()

    def refresh(self) -> None:
        """Check the current graph now; results of earlier checks will be dropped."""
        self._timer.stop()
        self._generation += 1
        generation, graph, context = self._generation, self.document.graph, self.context
        self._worker.run(
            lambda: _check(graph, context),
            lambda problems: self._deliver(generation, problems),
            lambda exc: self._deliver(generation, [Problem(None, None, CHECK_FAILED)]),
        )

    def wait_for_done(self, msecs: int = -1) -> bool:
        """Block until running checks end (closing a window, tests)."""
        return self._worker.wait_for_done(msecs)

    def _deliver(self, generation: int, problems: list[Problem]) -> None:
        if generation != self._generation:
            return
        self.problems = problems
        self.problems_changed.emit(problems)
