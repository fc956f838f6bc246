"""The scenario of a test run: what happens to the record meanwhile, one change a row.

"After 1 hour the status becomes ASN": a status change picks from the source's status
codes, so a person cannot script a code that does not exist; other fields are typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QSpinBox,
    QTableWidget,
    QWidget,
)

from engine.services.testing import RecordChoices, ScriptedChange

UNITS = ("minutes", "hours", "days")


@dataclass
class ChangeRow:
    """The widgets of one scripted change: after [amount] [unit], [field] becomes [value]."""

    after: QWidget
    amount: QSpinBox
    unit: QComboBox
    field: QComboBox
    value: QComboBox | QLineEdit

    def change(self) -> ScriptedChange:
        after = timedelta(**{self.unit.currentText(): self.amount.value()})
        if isinstance(self.value, QComboBox):
            return ScriptedChange(after, self.field.currentText(), self.value.currentData())
        return ScriptedChange(after, self.field.currentText(), self.value.text())

    def holds(self, widget: QWidget | None) -> bool:
        parts = (self.after, self.field, self.value)
        return widget is not None and any(p is widget or p.isAncestorOf(widget) for p in parts)


class ChangesTable(QTableWidget):
    """What happens to the record while the test runs, one row per change."""

    HEADERS = ("After", "Field", "Becomes")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(self.HEADERS), parent)
        self.setHorizontalHeaderLabels(self.HEADERS)
        self.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setVisible(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.rows: list[ChangeRow] = []
        self.choices: RecordChoices | None = None

    def add_row(self) -> ChangeRow:
        amount, unit = QSpinBox(minimum=0, maximum=9999, value=1), QComboBox()
        unit.addItems(UNITS)
        unit.setCurrentText("hours")
        after = QWidget()
        box = QHBoxLayout(after)
        box.setContentsMargins(2, 0, 2, 0)
        box.addWidget(amount)
        box.addWidget(unit)
        field = QComboBox()
        field.addItems(self._fields())
        row = ChangeRow(after, amount, unit, field, self._value_widget(field.currentText()))
        self.rows.append(row)
        self.insertRow(self.rowCount())
        for column, widget in enumerate((after, field, row.value)):
            self.setCellWidget(self.rowCount() - 1, column, widget)
            if column < 2:  # cell widgets do not size their columns
                self.setColumnWidth(
                    column, max(self.columnWidth(column), widget.sizeHint().width())
                )
        field.currentTextChanged.connect(lambda text: self._revalue(row, text))
        return row

    def remove_row(self, focused: QWidget | None) -> None:
        """Remove the row being edited, or the last one."""
        if not self.rows:
            return
        row = next((r for r in self.rows if r.holds(focused)), self.rows[-1])
        self.removeRow(self.rows.index(row))
        self.rows.remove(row)

    def changes(self) -> list[ScriptedChange]:
        return [row.change() for row in self.rows]

    def _fields(self) -> list[str]:
        if self.choices is None:
            return ["status"]
        source = self.choices.source
        skip = {source.key_column, source.status_column}
        return ["status", *(name for name in source.fields if name not in skip)]

    def _value_widget(self, field: str) -> QComboBox | QLineEdit:
        """Status changes pick from the source's codes; other fields are typed."""
        if field != "status" or self.choices is None or not self.choices.codes:
            return QLineEdit(placeholderText="the new value")
        codes = QComboBox()
        for code in self.choices.codes:
            codes.addItem(f"{code.code} – {code.description}", code.code)
        return codes

    def _revalue(self, row: ChangeRow, field: str) -> None:
        row.value = self._value_widget(field)
        self.setCellWidget(self.rows.index(row), 2, row.value)
