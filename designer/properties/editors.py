"""One editor per kind of parameter: the pieces the property form is built from.

An editor shows and reads one value of its kind and says when a person is typing
(``changing``) and when an edit is finished (``committed``). Whether a value is
allowed, and why not, is decided by the engine's checks, which the panel runs and
shows under the editor; editors hold no rules of their own.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine import durations
from engine.graph.context import ValidationContext
from engine.nodes.spec import ChoicesSource, Param, SummaryContext
from engine.nodes.triggers import describe_cron

IDLE_MS = 400  # a pause in typing this long counts as a finished edit
NOT_SET = "(not set)"
_LIMIT = 1_000_000_000
_SCROLL_AFTER = 8  # a list of more options than this scrolls


def options(param: Param, context: ValidationContext) -> list[tuple[str, str]]:
    """(value, label) pairs a choice offers: its own choices, or the source's facts."""
    if param.choices:
        return [(choice.value, choice.label) for choice in param.choices]
    source = param.choices_source
    if source is ChoicesSource.STATUS_CODES:
        names = SummaryContext(status_descriptions=context.status_codes)
        return [(code, names.status(code)) for code in context.status_codes]
    facts = {
        ChoicesSource.FIELDS: list(context.fields),
        ChoicesSource.DATE_FIELDS: context.date_fields(),
        ChoicesSource.LABELS: sorted(context.labels),
        ChoicesSource.USERS: sorted(context.users),
        ChoicesSource.ROLES: sorted(context.roles),
    }
    return [(name, name) for name in facts.get(source, [])] if source else []


def mark_invalid(widget: QWidget, invalid: bool) -> None:
    """Flag a widget for the panel's stylesheet (a red border) and restyle it."""
    if widget.property("invalid") == invalid:
        return
    widget.setProperty("invalid", invalid)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class Editor(QWidget):
    """The common face of every editor; ``main`` is the widget that gets the red border."""

    changing = Signal()  # the value changed, the person may still be at it
    committed = Signal()  # one finished edit: the panel saves it

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.param = param
        self.main: QWidget = self
        self._idle = QTimer(self, singleShot=True, interval=IDLE_MS)
        self._idle.timeout.connect(self.committed)
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.setSpacing(2)

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def set_invalid(self, invalid: bool) -> None:
        mark_invalid(self.main, invalid)

    def _typed(self) -> None:
        self.changing.emit()
        self._idle.start()

    def _finished(self) -> None:
        self._idle.stop()
        self.committed.emit()

    def _adopt(self, widget: QWidget) -> None:
        """Make ``widget`` the one shown, described and marked."""
        widget.setToolTip(self.param.help)
        self.box.addWidget(widget)
        self.main = widget


class LineEditor(Editor):
    """One line of text: plain text, addresses, a web address, a secret's name."""

    def __init__(self, param: Param, context: ValidationContext) -> None:
        super().__init__(param)
        self.line = QLineEdit(placeholderText=param.placeholder)
        self.line.textEdited.connect(self._typed)
        self.line.editingFinished.connect(self._finished)
        suggestions = [value for value, _label in options(param, context)]
        if suggestions:
            self.line.setCompleter(QCompleter(suggestions, self.line))
        self._adopt(self.line)

    def value(self) -> str:
        return self.line.text()

    def set_value(self, value: Any) -> None:
        self.line.setText("" if value is None else str(value))


class CronEditor(LineEditor):
    """A crontab line with its plain-words reading under it."""

    def __init__(self, param: Param, context: ValidationContext) -> None:
        super().__init__(param, context)
        self.reading = QLabel(objectName="hint", wordWrap=True)
        self.box.addWidget(self.reading)
        self.line.textChanged.connect(lambda text: self.reading.setText(describe_cron(text)))


class PlainText(QPlainTextEdit):
    """A text box that grows with its text and says when it loses the focus."""

    focus_lost = Signal()

    def __init__(self, min_lines: int, max_lines: int = 12) -> None:
        super().__init__()
        self.setTabChangesFocus(True)
        self._lines = (min_lines, max_lines)
        self.document().documentLayout().documentSizeChanged.connect(self._fit)
        self._fit()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.focus_lost.emit()

    def _fit(self) -> None:
        low, high = self._lines
        lines = min(max(int(self.document().size().height()), low), high)
        margins = self.contentsMargins()
        frame = margins.top() + margins.bottom() + 2 * int(self.document().documentMargin())
        self.setFixedHeight(self.fontMetrics().lineSpacing() * lines + frame + 2)


class PlainEditor(Editor):
    """Several lines of plain text."""

    def __init__(self, param: Param, min_lines: int = 3) -> None:
        super().__init__(param)
        self.text = PlainText(min_lines)
        self.text.setPlaceholderText(param.placeholder)
        self.text.textChanged.connect(self._typed)
        self.text.focus_lost.connect(self._finished)
        self._adopt(self.text)

    def value(self) -> Any:
        return self.text.toPlainText()

    def set_value(self, value: Any) -> None:
        with QSignalBlocker(self.text):
            self.text.setPlainText("" if value is None else str(value))


class StringListEditor(PlainEditor):
    """A list of short texts, one per line; blank lines are dropped."""

    def value(self) -> list[str]:
        return [line.strip() for line in self.text.toPlainText().splitlines() if line.strip()]

    def set_value(self, value: Any) -> None:
        items = value if isinstance(value, list) else []
        super().set_value("\n".join(str(item) for item in items))


class Amount(QDoubleSpinBox):
    """A number shown as people write it: '5', '1.5', never '5.00'."""

    def textFromValue(self, value: float) -> str:
        return f"{value:g}"


def plain_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


class NumberEditor(Editor):
    """A whole number or a number, kept between the parameter's minimum and maximum."""

    def __init__(self, param: Param, whole: bool) -> None:
        super().__init__(param)
        self.spin = QSpinBox() if whole else Amount(decimals=2)
        low = -_LIMIT if param.minimum is None else param.minimum
        high = _LIMIT if param.maximum is None else param.maximum
        self.spin.setRange(int(low) if whole else low, int(high) if whole else high)
        self.spin.setKeyboardTracking(False)
        self.spin.valueChanged.connect(self._finished)
        self._adopt(self.spin)

    def value(self) -> int | float:
        return plain_number(self.spin.value())

    def set_value(self, value: Any) -> None:
        with QSignalBlocker(self.spin):
            self.spin.setValue(value if isinstance(value, int | float) else self.spin.minimum())


class BooleanEditor(Editor):
    def __init__(self, param: Param) -> None:
        super().__init__(param)
        self.check = QCheckBox("Yes")
        self.check.toggled.connect(self._finished)
        self._adopt(self.check)

    def value(self) -> bool:
        return self.check.isChecked()

    def set_value(self, value: Any) -> None:
        with QSignalBlocker(self.check):
            self.check.setChecked(value is True)


class ChoiceEditor(Editor):
    """A drop-down of the allowed values; a value not among them is shown as not found."""

    def __init__(self, param: Param, context: ValidationContext) -> None:
        super().__init__(param)
        self.combo = QComboBox(placeholderText="Choose…")
        if not param.required:
            self.combo.addItem(NOT_SET, None)
        for value, label in options(param, context):
            self.combo.addItem(label, value)
        self.combo.currentIndexChanged.connect(self._finished)
        self._adopt(self.combo)

    def value(self) -> str | None:
        return self.combo.currentData()

    def set_value(self, value: Any) -> None:
        with QSignalBlocker(self.combo):
            blank = value in (None, "")
            index = -1 if blank else self.combo.findData(value)
            if blank and not self.param.required:
                index = 0
            if index < 0 and not blank:
                self.combo.addItem(f"{value} (not found)", value)
                index = self.combo.count() - 1
            self.combo.setCurrentIndex(index)


class MultiChoiceEditor(Editor):
    """A checkable list: one box per allowed value."""

    def __init__(self, param: Param, context: ValidationContext) -> None:
        super().__init__(param)
        self.list = QWidget(objectName="checklist")
        self._rows = QVBoxLayout(self.list)
        self._rows.setContentsMargins(4, 2, 4, 2)
        self.boxes: dict[str, QCheckBox] = {}
        for value, label in options(param, context):
            self._add(value, label)
        if not self.boxes:
            self._rows.addWidget(QLabel("There is nothing to choose from yet.", objectName="hint"))
        shown: QWidget = self.list
        if len(self.boxes) > _SCROLL_AFTER:
            shown = QScrollArea(widgetResizable=True, maximumHeight=200)
            shown.setWidget(self.list)
        self._adopt(shown)

    def _add(self, value: str, label: str) -> None:
        box = QCheckBox(label)
        box.toggled.connect(self._finished)
        self._rows.addWidget(box)
        self.boxes[value] = box

    def value(self) -> list[str]:
        return [value for value, box in self.boxes.items() if box.isChecked()]

    def set_value(self, value: Any) -> None:
        chosen = [item for item in value if isinstance(item, str)] if value else []
        for item in chosen:
            if item not in self.boxes:
                self._add(item, f"{item} (not found)")
        for item, box in self.boxes.items():
            with QSignalBlocker(box):
                box.setChecked(item in chosen)


class DurationEditor(Editor):
    """An amount and a unit; an optional duration set to 0 means "none"."""

    def __init__(self, param: Param) -> None:
        super().__init__(param)
        self.amount = Amount(decimals=2, maximum=_LIMIT, keyboardTracking=False)
        if not param.required:
            self.amount.setSpecialValueText("none")
        self.unit = QComboBox()
        self.unit.addItems(list(durations.UNITS))
        self.amount.valueChanged.connect(self._finished)
        self.unit.currentIndexChanged.connect(self._finished)
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(self.amount, 1)
        line.addWidget(self.unit, 1)
        self._adopt(row)
        self.main = self.amount
        self.set_value(param.default)

    def value(self) -> dict[str, Any] | None:
        amount = self.amount.value()
        if amount == 0 and not self.param.required:
            return None
        return {"amount": plain_number(amount), "unit": self.unit.currentText()}

    def set_value(self, value: Any) -> None:
        shaped = isinstance(value, dict)
        amount = value.get("amount") if shaped else 0
        with QSignalBlocker(self.amount), QSignalBlocker(self.unit):
            self.amount.setValue(amount if isinstance(amount, int | float) else 0)
            unit = value.get("unit") if shaped else None
            self.unit.setCurrentText(unit if unit in durations.UNITS else "minutes")


class HeadersEditor(Editor):
    """Request headers as a two-column table; the empty last row adds one."""

    def __init__(self, param: Param) -> None:
        super().__init__(param)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Name", "Value"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setMaximumHeight(110)
        self.table.itemChanged.connect(self._on_item)
        remove = QPushButton("Remove selected header")
        remove.clicked.connect(self._remove)
        self._adopt(self.table)
        self.box.addWidget(remove, 0, Qt.AlignmentFlag.AlignLeft)
        self.set_value({})

    def _cell(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text().strip() if item else ""

    def value(self) -> dict[str, str]:
        rows = ((self._cell(r, 0), self._cell(r, 1)) for r in range(self.table.rowCount()))
        return {name: text for name, text in rows if name or text}

    def set_value(self, value: Any) -> None:
        pairs = list(value.items()) if isinstance(value, dict) else []
        with QSignalBlocker(self.table):
            self.table.setRowCount(len(pairs) + 1)
            for row, (name, text) in enumerate([*pairs, ("", "")]):
                self.table.setItem(row, 0, QTableWidgetItem(str(name)))
                self.table.setItem(row, 1, QTableWidgetItem(str(text)))

    def _on_item(self) -> None:
        last = self.table.rowCount() - 1
        if self._cell(last, 0) or self._cell(last, 1):
            self.set_value(self.value())
        self._finished()

    def _remove(self) -> None:
        rows = sorted({index.row() for index in self.table.selectedIndexes()}, reverse=True)
        for row in rows:
            self.table.removeRow(row)
        self.set_value(self.value())
        self._finished()
