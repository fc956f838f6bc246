"""The report pages: one per question, a sentence on top, a chart, the numbers below.

Each ``show_*`` function turns one report of :mod:`engine.reports` into what a manager
reads first (a headline saying what to do about it), a chart and the table's rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from PySide6.QtCharts import QChart, QChartView, QHorizontalBarSeries, QStackedBarSeries
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from designer.report_charts import bar_chart, pie_chart
from designer.tables import duration_text, fill_table, make_table
from designer.times import when
from engine import reports


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
    cells = [(when(r.at), r.graph, f"{r.source} {r.record_key}", r.reason) for r in rows]
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
