"""Read-only tables the panels show: building and filling them, their cell texts, CSV.

The reports, audit and engine panels all list rows a person reads and may export, so
they share how a table looks, how a moment and a span of time read, and how a CSV file
is saved (a folder that cannot be written is said in words, not raised).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, TextIO

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from designer.worker import show_failure
from engine.errors import StatusFlowError


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
