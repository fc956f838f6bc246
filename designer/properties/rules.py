"""The condition editors: the rule builder and the switch's cases, both made of rows.

A rule is "field · comparison · value", chosen from drop-downs, so a person never
types a field name or an operator. Comparisons and their labels come from
``engine.nodes.operators``; whether a rule is complete is the engine's check.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from designer.properties.editors import Editor
from engine.graph.context import ValidationContext
from engine.nodes.conditions import CASE_PORTS, MAX_CASES
from engine.nodes.operators import OPERATORS
from engine.nodes.spec import Param

MATCHES = (("all", "All of these must hold"), ("any", "Any one of these must hold"))


def choose(combo: QComboBox, value: Any) -> None:
    """Select ``value`` in a combo; a value the combo lacks is added as not found."""
    index = combo.findData(value)
    if index < 0 and value:
        combo.addItem(f"{value} (not found)", value)
        index = combo.count() - 1
    combo.setCurrentIndex(index)


def _discard(row: QWidget) -> None:
    row.hide()
    row.deleteLater()


class Row(QWidget):
    """One line of a row editor, ending in a remove button."""

    edited = Signal()  # a finished change to this row
    typing = Signal()
    remove_requested = Signal(object)

    def __init__(self, remove_tip: str) -> None:
        super().__init__()
        self.line = QHBoxLayout(self)
        self.line.setContentsMargins(0, 0, 0, 0)
        self.remove = QToolButton(text="✕", toolTip=remove_tip)
        self.remove.clicked.connect(lambda: self.remove_requested.emit(self))

    def add_widgets(self, *widgets: QWidget) -> None:
        for widget in widgets:
            self.line.addWidget(widget, 1)
        self.line.addWidget(self.remove)

    def item(self) -> Any:
        raise NotImplementedError


class RowsEditor(Editor):
    """A list of rows with "add" and "remove"; subclasses say what a row holds."""

    def __init__(self, param: Param, add_text: str) -> None:
        super().__init__(param)
        self.rows: list[Row] = []
        self.list = QVBoxLayout()
        self.list.setContentsMargins(0, 0, 0, 0)
        self.add_button = QPushButton(add_text, objectName="add")
        self.add_button.clicked.connect(self._add_clicked)
        self.box.addLayout(self.list)

    def make_row(self, item: Any) -> Row:
        raise NotImplementedError

    def new_item(self) -> Any:
        raise NotImplementedError

    def items(self) -> list[Any]:
        return [row.item() for row in self.rows]

    def rebuild(self, items: list[Any]) -> None:
        for row in self.rows:
            _discard(row)
        self.rows = []
        for item in items:
            self._append(item)

    def _append(self, item: Any) -> Row:
        row = self.make_row(item)
        row.edited.connect(self._finished)
        row.typing.connect(self._typed)
        row.remove_requested.connect(self._remove)
        self.list.addWidget(row)
        self.rows.append(row)
        self._rows_changed()
        return row

    def _add_clicked(self) -> None:
        self._append(self.new_item())
        self._finished()

    def _remove(self, row: Row) -> None:
        self.rows.remove(row)
        _discard(row)
        self._rows_changed()
        self._finished()

    def _rows_changed(self) -> None:
        """Hook for subclasses that limit or describe the rows."""


class RuleRow(Row):
    """Field · comparison · value; the value box hides for comparisons without one."""

    def __init__(self, fields: list[str], rule: Mapping[str, Any]) -> None:
        super().__init__("Remove this rule")
        self.field = QComboBox(placeholderText="Choose a field")
        for name in fields:
            self.field.addItem(name, name)
        self.operator = QComboBox(placeholderText="Choose how to compare")
        for operator in OPERATORS.values():
            self.operator.addItem(operator.label, operator.name)
        self.value = QLineEdit()
        self.add_widgets(self.field, self.operator, self.value)
        self.set_rule(rule)
        self.field.currentIndexChanged.connect(self.edited)
        self.operator.currentIndexChanged.connect(self._operator_changed)
        self.value.textEdited.connect(self.typing)
        self.value.editingFinished.connect(self.edited)

    def set_rule(self, rule: Mapping[str, Any]) -> None:
        with QSignalBlocker(self.field), QSignalBlocker(self.operator):
            choose(self.field, rule.get("field"))
            choose(self.operator, rule.get("operator"))
        value = rule.get("value")
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        self.value.setText("" if shown is None else str(shown))
        self._show_value()

    def _operator_changed(self) -> None:
        self._show_value()
        self.edited.emit()

    def _show_value(self) -> None:
        operator = OPERATORS.get(self.operator.currentData() or "")
        self.value.setVisible(operator is None or operator.takes_value)
        many = operator is not None and operator.list_value
        self.value.setPlaceholderText("values, separated by commas" if many else "a value")

    def item(self) -> dict[str, Any]:
        name = self.operator.currentData()
        rule: dict[str, Any] = {"field": self.field.currentData() or "", "operator": name}
        operator = OPERATORS.get(name or "")
        if operator is None or (operator.takes_value and not operator.list_value):
            rule["value"] = self.value.text()
        elif operator.list_value:
            rule["value"] = [part.strip() for part in self.value.text().split(",") if part.strip()]
        return rule


class RulesEditor(RowsEditor):
    """ "All/Any of these must hold", then one row per rule."""

    def __init__(self, param: Param, context: ValidationContext) -> None:
        super().__init__(param, "+ Add rule")
        self.fields = list(context.fields)
        self.match = QComboBox()
        for value, label in MATCHES:
            self.match.addItem(label, value)
        self.match.currentIndexChanged.connect(self._finished)
        self.box.insertWidget(0, self.match)
        self.box.addWidget(self.add_button)
        self.main = self.match

    def make_row(self, item: Any) -> Row:
        return RuleRow(self.fields, item if isinstance(item, Mapping) else {})

    def new_item(self) -> dict[str, Any]:
        return {"field": self.fields[0] if self.fields else "", "operator": "equals", "value": ""}

    def value(self) -> dict[str, Any]:
        return {"match": self.match.currentData(), "rules": self.items()}

    def set_value(self, value: Any) -> None:
        shaped = value if isinstance(value, Mapping) else {}
        with QSignalBlocker(self.match):
            choose(self.match, shaped.get("match", "all"))
        rules = shaped.get("rules")
        if (rules if isinstance(rules, list) else []) != self.items():
            self.rebuild(rules if isinstance(rules, list) else [])


class CaseRow(Row):
    """A value, and the output its records go out through."""

    def __init__(self, case: Mapping[str, Any], output: str) -> None:
        super().__init__("Remove this case")
        self.port = case.get("port")
        self.value = QLineEdit(placeholderText="a value of the field")
        self.value.setText(str(case.get("value") or ""))
        self.add_widgets(self.value, QLabel(f"→ goes out through {output}"))
        self.value.textEdited.connect(self.typing)
        self.value.editingFinished.connect(self.edited)

    def item(self) -> dict[str, Any]:
        return {"value": self.value.text(), "port": self.port}


class CasesEditor(RowsEditor):
    """The switch's cases, each linked to its own output (at most MAX_CASES)."""

    def __init__(self, param: Param, outputs: Mapping[str, str]) -> None:
        super().__init__(param, "+ Add case")
        self.outputs = outputs
        self.box.addWidget(self.add_button)

    def make_row(self, item: Any) -> Row:
        case = item if isinstance(item, Mapping) else {}
        return CaseRow(case, self.outputs.get(str(case.get("port")), "no output"))

    def new_item(self) -> dict[str, Any]:
        used = {row.item()["port"] for row in self.rows}
        return {"value": "", "port": next(port for port in CASE_PORTS if port not in used)}

    def _rows_changed(self) -> None:
        full = len(self.rows) >= MAX_CASES
        self.add_button.setEnabled(not full)
        self.add_button.setToolTip(f"A switch has at most {MAX_CASES} cases." if full else "")

    def value(self) -> list[dict[str, Any]]:
        return self.items()

    def set_value(self, value: Any) -> None:
        cases = value if isinstance(value, list) else []
        if cases != self.items():
            self.rebuild(cases)
