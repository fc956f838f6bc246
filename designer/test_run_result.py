"""The result of a test run: the verdict in large letters, why, and the timeline.

Times on the timeline are counted from the start of the run ("+1 h"), because the run
played on a simulated clock and its wall-clock times mean nothing to the reader. What
the run would have sent is marked as not sent.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from designer.problems import ERROR_COLOUR, OK_COLOUR, WARNING_COLOUR
from engine.services.testing import TestRunResult

BUSY_TEXT = "Playing the automation on a simulated clock…"
NOTHING_SENT = "Nothing was sent and no record was changed."
UNIT_WORDS = ("day", "h", "min", "s")  # for times on the timeline
WAITING_TEXT = "Pick a record and click Run test."
HINT_COLOUR = (117, 117, 117)


def after_words(text: str) -> str:
    """'1 day, 2:05:00' → '+1 day 2 h 5 min'; '0:00:00' → 'At the start'."""
    days, _, clock = text.rpartition(", ")
    hours, minutes, seconds = (int(float(part)) for part in clock.split(":"))
    amounts = (int(days.split()[0]) if days else 0, hours, minutes, seconds)
    words = [f"{n} {unit}" for n, unit in zip(amounts, UNIT_WORDS, strict=True) if n]
    return "+" + " ".join(words) if words else "At the start"


def _colour(outcome: str) -> tuple[int, int, int]:
    if outcome.startswith("succeeded"):
        return OK_COLOUR
    return WARNING_COLOUR if outcome in ("cancelled", "active") else ERROR_COLOUR


def _big(label: QLabel, points_up: int) -> QLabel:
    font = QFont(label.font())
    font.setPointSize(font.pointSize() + points_up)
    font.setBold(True)
    label.setFont(font)
    return label


class ResultView(QGroupBox):
    """Busy bar, error, verdict and reason, the timeline, and "Clear highlight"."""

    def __init__(self, highlights: bool) -> None:
        super().__init__("Result")
        self.progress = QProgressBar(minimum=0, maximum=0, textVisible=False)
        self.busy_label = QLabel(BUSY_TEXT)
        self.error = QLabel(wordWrap=True, visible=False)
        self.error.setStyleSheet(f"color: {QColor(*ERROR_COLOUR).name()}; font-weight: bold;")
        self.verdict = _big(QLabel(wordWrap=True), 6)
        self.reason = QLabel(wordWrap=True)
        self.timeline = _timeline_table()
        self.note = QLabel(NOTHING_SENT, visible=False)
        self.clear_button = QPushButton("Clear highlight", enabled=False)
        self.clear_button.setVisible(highlights)
        self.clear_button.setToolTip("Take the yellow path of this test run off the canvas.")
        layout = QVBoxLayout(self)
        for widget in (self.progress, self.busy_label, self.error, self.verdict, self.reason):
            layout.addWidget(widget)
        layout.addWidget(self.timeline, 1)
        footer = QHBoxLayout()
        footer.addWidget(self.note)
        footer.addStretch(1)
        footer.addWidget(self.clear_button)
        layout.addLayout(footer)
        self._show_verdict(WAITING_TEXT, "", HINT_COLOUR)

    def clear(self) -> None:
        """Empty, before a new run."""
        self.busy_label.setText(BUSY_TEXT)
        self._show_verdict("", "", HINT_COLOUR)
        self._fill_timeline([])
        self.note.setVisible(False)

    def show_result(self, result: TestRunResult) -> None:
        headline, _, reason = result.verdict.partition(": ")
        reason = reason.rstrip(".") + "." if reason else ""
        self._show_verdict(headline, reason, _colour(result.outcome))
        self._fill_timeline(result.timeline)
        self.note.setVisible(True)

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(True)

    def set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.busy_label.setVisible(busy)
        if busy:
            self.error.setVisible(False)

    def _show_verdict(self, headline: str, reason: str, colour: tuple[int, int, int]) -> None:
        self.verdict.setText(headline)
        self.verdict.setStyleSheet(f"color: {QColor(*colour).name()};")
        self.reason.setText(reason)

    def _fill_timeline(self, lines: list[dict[str, Any]]) -> None:
        self.timeline.setRowCount(len(lines))
        for row, line in enumerate(lines):
            summary = QTableWidgetItem(line["summary"])
            if line["summary"].startswith("Would "):
                summary.setToolTip("Test run: shown here, not sent.")
                summary.setForeground(QColor(21, 101, 192))
                font = summary.font()
                font.setItalic(True)
                summary.setFont(font)
            self.timeline.setItem(row, 0, QTableWidgetItem(after_words(line["after"])))
            self.timeline.setItem(row, 1, summary)
        self.timeline.resizeColumnToContents(0)
        self.timeline.resizeRowsToContents()


def _timeline_table() -> QTableWidget:
    table = QTableWidget(0, 2)
    table.setHorizontalHeaderLabels(("After start", "What happened"))
    table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
    table.verticalHeader().setVisible(False)
    table.setWordWrap(True)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    return table
