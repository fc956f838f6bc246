"""Reports for operations managers: where automations fail and what that costs people.

One tab per question (which steps fail, does retrying help, how long manual work
takes, what the loop guard stopped, how much gets done each week, how runs end),
each a chart over a table with the numbers. Everything is read in one call off the
GUI thread, for the chosen period; "Export CSV…" saves the visible tab's rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TextIO

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QHorizontalBarSeries,
    QPieSeries,
    QStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from designer.worker import Worker, show_failure
from engine import reports
from engine.clock import SYSTEM_CLOCK, Clock
from engine.errors import StatusFlowError
from engine.storage.database import Database

PERIODS = (("Last 7 days", 7), ("Last 30 days", 30), ("Last 90 days", 90))
TABS = (
    "Failures",
    "Retries",
    "Manual work",
    "Loop guard",
    "Actions per week",
    "Run outcomes",
)


@dataclass(frozen=True)
class ReportData:
    """Everything the panel shows for one period."""

    since: datetime
    failures: list[reports.FailureRow]
    retries: reports.RetryRate
    interventions: list[reports.InterventionRow]
    loop_stops: list[reports.LoopStop]
    weeks: list[reports.ActionsWeek]
    outcomes: list[reports.OutcomeRow]


def load_report(db: Database, days: int, now: datetime) -> ReportData:
    since = now - timedelta(days=days)
    with db.read() as conn:
        return ReportData(
            since,
            reports.failures_by_node(conn, since),
            reports.retry_success_rate(conn, since),
            reports.interventions(conn, since),
            reports.loop_stops(conn, since),
            reports.actions_per_week(conn, max(2, round(days / 7)), now=now),
            reports.runs_by_outcome(conn, since),
        )


# -- shared by the panels ----------------------------------------------------------------


def local_time(moment: datetime | None) -> str:
    """A moment in the viewer's own time zone, as people write it."""
    return moment.astimezone().strftime("%d %b %Y %H:%M") if moment else ""


def duration_text(span: timedelta | None) -> str:
    if span is None:
        return ""
    minutes = int(span.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours < 48 else f"{hours // 24} days {hours % 24} h"


def make_table(headers: Sequence[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().hide()
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def fill_table(table: QTableWidget, rows: Sequence[Sequence[Any]]) -> None:
    table.setRowCount(len(rows))
    for r, cells in enumerate(rows):
        for c, value in enumerate(cells):
            item = QTableWidgetItem(str(value))
            item.setToolTip(str(value))  # long errors and reasons are cut off in the cell
            if isinstance(value, int | float):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)


def save_csv(parent: QWidget, suggested: str, write: Callable[[TextIO], None]) -> str | None:
    """Ask where to save, then ``write`` the CSV there; the path, or None if not saved."""
    path, _ = QFileDialog.getSaveFileName(parent, "Export CSV", suggested, "CSV files (*.csv)")
    if not path:
        return None
    try:
        with open(path, "w", newline="", encoding="utf-8") as file:
            write(file)
    except OSError as exc:
        refusal = StatusFlowError(
            f"The file {path} could not be written ({exc.strerror}). Choose another folder."
        )
        show_failure(parent, "Not exported", refusal)
        return None
    return path


# -- charts ----------------------------------------------------------------------------


def _chart(title: str) -> QChart:
    chart = QChart()
    chart.setTitle(title)
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    return chart


def bar_chart(
    title: str,
    categories: list[str],
    sets: dict[str, list[float]],
    value_title: str,
    kind: type = QBarSeries,
    counts: bool = True,
) -> QChart:
    """Bars per category; several sets side by side, stacked or horizontal by ``kind``."""
    chart = _chart(title)
    series = kind()
    for name, values in sets.items():
        bar_set = QBarSet(name)
        bar_set.append([float(v) for v in values])
        series.append(bar_set)
    chart.addSeries(series)
    names, values = QBarCategoryAxis(), QValueAxis()
    names.append(categories)
    values.setTitleText(value_title)
    columns = list(zip(*sets.values(), strict=True))
    heights = [sum(c) for c in columns] if kind is QStackedBarSeries else [max(c) for c in columns]
    _scale(values, max(heights, default=0), counts)
    horizontal = kind is QHorizontalBarSeries
    chart.addAxis(names, Qt.AlignmentFlag.AlignLeft if horizontal else Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(
        values, Qt.AlignmentFlag.AlignBottom if horizontal else Qt.AlignmentFlag.AlignLeft
    )
    series.attachAxis(names)
    series.attachAxis(values)
    chart.legend().setVisible(len(sets) > 1)
    return chart


def _scale(axis: QValueAxis, top: float, counts: bool) -> None:
    """Whole-number ticks for counts (no "1, 1, 2"); measures keep one decimal."""
    if not counts:
        axis.setRange(0, max(top, 1.0))
        axis.setLabelFormat("%.1f")
        axis.applyNiceNumbers()
        return
    ceiling = max(1, math.ceil(top))
    axis.setRange(0, ceiling)
    axis.setLabelFormat("%d")
    if ceiling <= 10:
        axis.setTickCount(ceiling + 1)
    else:
        axis.applyNiceNumbers()


def pie_chart(title: str, slices: list[tuple[str, int]]) -> QChart:
    chart = _chart(title)
    series = QPieSeries()
    for label, count in slices:
        series.append(f"{label}: {count}", count)
    series.setLabelsVisible(True)
    chart.addSeries(series)
    chart.legend().setVisible(False)
    return chart


# -- one tab per report ------------------------------------------------------------------


class ReportTab(QWidget):
    """A sentence on top, an optional chart, the numbers in a table."""

    def __init__(self, headers: Sequence[str], with_chart: bool = True) -> None:
        super().__init__()
        self.headline = QLabel()
        self.headline.setWordWrap(True)
        self.table = make_table(headers)
        self.chart_view = QChartView() if with_chart else None
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        if self.chart_view is not None:
            self.chart_view.setRenderHint(QPainter.RenderHint.Antialiasing)
            self.chart_view.setMinimumHeight(260)
            layout.addWidget(self.chart_view, 3)
        layout.addWidget(self.table, 2)

    def show_report(
        self, headline: str, rows: Sequence[Sequence[Any]], chart: QChart | None = None
    ) -> None:
        self.headline.setText(headline)
        fill_table(self.table, rows)
        if self.chart_view is not None and chart is not None:
            self.chart_view.setChart(chart)


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def show_failures(tab: ReportTab, rows: list[reports.FailureRow]) -> None:
    attempts = sum(r.failed_attempts for r in rows)
    headline = (
        f"{attempts} failed attempts in {len(rows)} step(s). Fix the top ones first."
        if rows
        else "No step failed in this period."
    )
    top = list(reversed(rows[:10]))  # the chart draws the first category at the bottom
    chart = bar_chart(
        "Failed attempts by automation and step",
        [_short(f"{r.graph}: {r.node_title}") for r in top],
        {"Failed attempts": [r.failed_attempts for r in top]},
        "Failed attempts",
        QHorizontalBarSeries,
    )
    cells = [(r.graph, r.node_title, r.action, r.error, r.failed_attempts, r.gave_up) for r in rows]
    tab.show_report(headline, cells, chart)


def show_retries(tab: ReportTab, rate: reports.RetryRate) -> None:
    if rate.rate is None:
        headline = "No retried step has finished in this period."
    else:
        headline = (
            f"<span style='font-size:28pt; font-weight:600'>{rate.rate:.0%}</span>"
            f"&nbsp; of the {rate.needed_retry} step(s) that needed a retry succeeded "
            "on a later attempt."
        )
    cells = [
        ("Succeeded on a later attempt", rate.succeeded_later),
        ("Handed to a person (manual task)", rate.handed_to_person),
        ("Failed the run", rate.failed),
        ("Still trying", rate.still_trying),
        ("Stopped because the run was cancelled", rate.stopped),
    ]
    tab.show_report(headline, cells)


def show_interventions(tab: ReportTab, rows: list[reports.InterventionRow]) -> None:
    total = sum(r.tasks for r in rows)
    headline = (
        f"{total} manual task(s) where a person had to do an automation's step by hand."
        if rows
        else "Nobody had to do an automation's step by hand in this period."
    )
    hours = {
        "Median time to finish": [_hours(r.median_time) for r in rows],
        "Longest time to finish": [_hours(r.max_time) for r in rows],
    }
    chart = bar_chart(
        "How long people took to do failed steps by hand",
        [_short(r.graph, 30) for r in rows],
        hours,
        "Hours",
        counts=False,
    )
    cells = [
        (
            r.graph,
            r.tasks,
            r.still_open,
            duration_text(r.median_time),
            duration_text(r.max_time),
        )
        for r in rows
    ]
    tab.show_report(headline, cells, chart)


def _hours(span: timedelta | None) -> float:
    return span.total_seconds() / 3600 if span else 0.0


def show_loop_stops(tab: ReportTab, rows: list[reports.LoopStop]) -> None:
    headline = (
        f"The loop guard stopped {len(rows)} run(s): automations may be changing each "
        "other's records. Check the automations named below."
        if rows
        else "The loop guard stopped no run in this period."
    )
    cells = [(local_time(r.at), r.graph, f"{r.source} {r.record_key}", r.reason) for r in rows]
    tab.show_report(headline, cells)


def show_weeks(tab: ReportTab, weeks: list[reports.ActionsWeek]) -> None:
    last = weeks[-1]
    change = f"{last.change:+d}" + (
        f" ({last.change_percent:+.0f}%)" if last.change_percent is not None else ""
    )
    headline = f"This week so far: {last.total} action(s) executed, {change} on the week before."
    labels = [f"{w.week:%d %b}" for w in weeks]
    sets = {
        "Started by a status code": [w.status for w in weeks],
        "Started by a label": [w.label for w in weeks],
        "Started another way": [w.other for w in weeks],
    }
    chart = bar_chart(
        "Actions executed per week (week starting Monday)",
        labels,
        sets,
        "Actions",
        QStackedBarSeries,
    )
    cells = [
        (f"{w.week:%d %b %Y}", w.status, w.label, w.other, w.total, f"{w.change:+d}")
        for w in reversed(weeks)
    ]
    tab.show_report(headline, cells, chart)


def show_outcomes(tab: ReportTab, rows: list[reports.OutcomeRow]) -> None:
    total = sum(r.runs for r in rows)
    headline = f"{total} run(s) started in this period." if rows else "No run started."
    chart = pie_chart("How runs ended", [(r.outcome, r.runs) for r in rows])
    tab.show_report(headline, [(r.outcome, r.runs) for r in rows], chart)


# -- the panel ---------------------------------------------------------------------------


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
