"""Charts for the reports: bars (side by side, stacked or horizontal) and a pie.

Counts get whole-number ticks, because a manager reading "1, 1, 2" on an axis of
failures stops trusting the chart; measures (hours) keep one decimal.
"""

from __future__ import annotations

import math

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QHorizontalBarSeries,
    QPieSeries,
    QStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import Qt


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
