"""Python's cycle collector, run on the GUI thread only.

The collector runs in whichever thread happens to allocate when a threshold is crossed.
When a database call on a worker thread (or the embedded engine's thread) sets it off,
it may free a widget caught in a reference cycle there, and Qt destroys a widget outside
the GUI thread by crashing the process. So while the designer runs, automatic collection
is off and a timer collects on the GUI thread with the same thresholds.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 250


class GuiThreadCollector(QObject):
    """Turns automatic collection off; :meth:`stop` collects once and restores it."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self.collect_due)
        self._timer.start()

    @staticmethod
    def collect_due() -> int | None:
        """Collect the oldest generation whose threshold is crossed, as Python would;
        returns that generation, or None when nothing was due."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        due = [g for g in range(3) if thresholds[g] and counts[g] > thresholds[g]]
        if not due:
            return None
        gc.collect(due[-1])
        return due[-1]

    def stop(self) -> None:
        self._timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
