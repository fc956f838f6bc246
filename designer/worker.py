"""Run a slow call (database, test run) off the GUI thread and hear back on the GUI thread.

A window that freezes while a publish or a test run talks to the database looks broken,
so a panel hands such a call to :class:`Worker`. The call runs on a pool thread; its
result, or the exception it raised, is picked up on the GUI thread, so the panel's
callbacks run where touching widgets is safe. ``busy_changed`` lets
the panel show a busy indicator while anything is under way, and :func:`show_failure`
turns what went wrong into a message box a person can act on.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, TimeoutError
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from engine.errors import StatusFlowError

log = logging.getLogger(__name__)

INTERNAL_ERROR = (
    "StatusFlow hit an internal error and did not finish. Try again, and if it happens "
    "again tell your IT team so they can look at the log."
)


POLL_MS = 30  # how often the GUI thread looks for finished calls


class _LetGo:
    """Hands the call to a pool thread and lets go of it before the result shows.

    A call is often a closure over a panel. The pool keeps its work item a moment after
    the future is done; if that were the last reference, the panel would be freed on
    the pool thread, which crashes Qt. The worker's own entry holds the call until the
    GUI thread has delivered the result, so the last reference is always dropped there;
    a raised exception's frames are cleared for the same reason (its lines still log).
    """

    def __init__(self, call: Callable[[], Any]) -> None:
        self._call: Callable[[], Any] | None = call

    def __call__(self) -> Any:
        call, self._call = self._call, None
        assert call is not None, "a call runs once"
        try:
            return call()
        except BaseException as exc:
            traceback.clear_frames(exc.__traceback__)  # the closure's frame holds the panel
            raise
        finally:
            del call


@dataclass(frozen=True)
class _Pending:
    future: Future[Any]
    call: Callable[[], Any]  # held here so the GUI thread drops it (see _LetGo)
    on_done: Callable[[Any], None]
    on_error: Callable[[Exception], None]


class Worker(QObject):
    """Runs calls on Python threads; ``busy_changed(bool)`` says whether any is running.

    The calls never touch Qt: they run on a ``concurrent.futures`` pool and the GUI
    thread collects their results with a timer. (Handing Python objects to Qt's own
    thread pool and queued signals has crashed PySide under load.)
    """

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, max_threads: int = 1) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="sf-worker")
        self._pending: list[_Pending] = []
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._collect)

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def run(
        self,
        call: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[Exception], None],
    ) -> None:
        """Run ``call()`` off the GUI thread, then ``on_done(result)`` or ``on_error(exc)``."""
        future = self._pool.submit(_LetGo(call))
        self._pending.append(_Pending(future, call, on_done, on_error))
        if len(self._pending) == 1:
            self._timer.start()
            self.busy_changed.emit(True)

    def wait_for_done(self, msecs: int = -1) -> bool:
        """Block until the running calls end, then deliver their results (closing, tests)."""
        timeout = None if msecs < 0 else msecs / 1000
        futures = [entry.future for entry in self._pending]
        finished = all(self._finish(f, timeout) for f in futures)
        self._collect()
        return finished

    @staticmethod
    def _finish(future: Future[Any], timeout: float | None) -> bool:
        try:
            future.exception(timeout=timeout)
        except TimeoutError:
            return False
        return True

    def _collect(self) -> None:
        ready = [entry for entry in self._pending if entry.future.done()]
        for entry in ready:
            self._pending.remove(entry)
            exc = entry.future.exception()
            if exc is None:
                entry.on_done(entry.future.result())
            elif isinstance(exc, Exception):
                entry.on_error(exc)
        if ready and not self._pending:
            self._timer.stop()
            self.busy_changed.emit(False)


def show_failure(parent: QWidget, title: str, exc: Exception) -> None:
    """A refusal shows the service's own sentence; anything else is a bug: logged, and
    the person is told so in words instead of the window crashing."""
    if not parent.isVisible():  # a closed window's late answer: nobody to tell
        log.warning("%s (window closed): %s", title, exc)
        return
    if isinstance(exc, StatusFlowError):
        QMessageBox.warning(parent, title, str(exc))
        return
    log.error("%s", title, exc_info=exc)
    QMessageBox.critical(parent, title, INTERNAL_ERROR)
