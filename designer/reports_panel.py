"""Reports for operations managers: where automations fail and what that costs people.

One tab per question (which steps fail, does retrying help, how long manual work
takes, what the loop guard stopped, how much gets done each week, how runs end),
each a chart over a table with the numbers (:mod:`designer.report_pages`). Everything
is read in one call off the GUI thread, for the chosen period; "Export CSV…" saves the
visible tab's rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from designer.report_pages import (
    ReportTab,
    show_failures,
    show_interventions,
    show_loop_stops,
    show_outcomes,
    show_retries,
    show_weeks,
)
from designer.tables import save_csv
from designer.worker import Worker, show_failure
from engine import reports
from engine.clock import SYSTEM_CLOCK, Clock
from engine.report_period import ReportData, load_report
from engine.services.database import Database

PERIODS = (("Last 7 days", 7), ("Last 30 days", 30), ("Last 90 days", 90))
TABS = (
    "Failures",
    "Retries",
    "Manual work",
    "Loop guard",
    "Actions per week",
    "Run outcomes",
)


class ReportsPanel(QWidget):
    """The reports, for a period the person chooses."""

    def __init__(
        self, db: Database, clock: Clock = SYSTEM_CLOCK, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.db, self.clock = db, clock
        self.data: ReportData | None = None
        self.worker = Worker(self)
        self.period = QComboBox()
        for label, days in PERIODS:
            self.period.addItem(label, days)
        self.period.setCurrentIndex(1)
        self.export_button = QPushButton("Export CSV…")
        self.refresh_button = QPushButton("Refresh")
        self.busy = QLabel("")
        self.tabs = QTabWidget()
        self.pages = self._pages()
        self._layout()
        self.period.currentIndexChanged.connect(lambda _i: self.refresh())
        self.refresh_button.clicked.connect(self.refresh)
        self.export_button.clicked.connect(self.export_csv)
        self.worker.busy_changed.connect(lambda busy: self.busy.setText("Loading…" if busy else ""))
        self.refresh()

    def _pages(self) -> list[ReportTab]:
        pages = [
            ReportTab(
                ("Automation", "Step", "Action", "What went wrong", "Failed attempts", "Gave up")
            ),
            ReportTab(("What became of the retried steps", "Steps"), with_chart=False),
            ReportTab(("Automation", "Manual tasks", "Still open", "Median time", "Longest time")),
            ReportTab(("When", "Automation", "Record", "Why it was stopped"), with_chart=False),
            ReportTab(("Week starting", "Status code", "Label", "Other", "Total", "Change")),
            ReportTab(("Outcome", "Runs")),
        ]
        for title, page in zip(TABS, pages, strict=True):
            self.tabs.addTab(page, title)
        return pages

    def _layout(self) -> None:
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Period:"))
        bar.addWidget(self.period)
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.busy)
        bar.addStretch(1)
        bar.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.tabs)
        bold = QFont(self.font())
        bold.setPointSizeF(bold.pointSizeF() * 1.1)
        for page in self.pages:
            page.headline.setFont(bold)

    def refresh(self) -> None:
        days, now = int(self.period.currentData()), self.clock.now()
        self.worker.run(
            lambda: load_report(self.db, days, now),
            self._show,
            lambda exc: show_failure(self, "Reports not loaded", exc),
        )

    def _show(self, data: ReportData) -> None:
        self.data = data
        show_failures(self.pages[0], data.failures)
        show_retries(self.pages[1], data.retries)
        show_interventions(self.pages[2], data.interventions)
        show_loop_stops(self.pages[3], data.loop_stops)
        show_weeks(self.pages[4], data.weeks)
        show_outcomes(self.pages[5], data.outcomes)

    def visible_rows(self) -> tuple[Sequence[Any], type]:
        """The rows of the visible tab and their kind, as the CSV export writes them."""
        assert self.data is not None
        data = self.data
        return (
            (data.failures, reports.FailureRow),
            ([data.retries], reports.RetryRate),
            (data.interventions, reports.InterventionRow),
            (data.loop_stops, reports.LoopStop),
            (data.weeks, reports.ActionsWeek),
            (data.outcomes, reports.OutcomeRow),
        )[self.tabs.currentIndex()]

    def export_csv(self) -> None:
        if self.data is None:
            return
        rows, kind = self.visible_rows()
        name = TABS[self.tabs.currentIndex()].lower().replace(" ", "_")
        path = save_csv(self, f"{name}.csv", lambda file: reports.to_csv(rows, file, kind))
        if path is not None:
            self.busy.setText(f"Saved {len(rows)} row(s) to {path}.")
