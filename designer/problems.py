"""The problems panel: what stops this graph from being submitted, in plain words.

It shows the engine's validation problems, errors first, each under the name of the
step it is about (as the canvas titles it), with a count on top. Double-clicking a
problem asks the window to select that step. When nothing is wrong it says so, in
green, so "no problems" is something a person sees rather than guesses.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import (
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from designer.document import GraphDocument
from designer.palette import svg_icon
from engine.graph.validation import Problem
from engine.nodes import catalogue
from engine.nodes.spec import SummaryContext

NODE_ROLE = Qt.ItemDataRole.UserRole
STEP_ROLE = Qt.ItemDataRole.UserRole + 1
SEVERITY_ROLE = Qt.ItemDataRole.UserRole + 2

ERROR_COLOUR = (198, 40, 40)
WARNING_COLOUR = (239, 150, 0)
OK_COLOUR = (46, 125, 50)
EMPTY_TEXT = "No problems: this graph can be submitted for review."
WHOLE_GRAPH = "The whole graph"
REMOVED_STEP = "A step that was just removed"


def problems_by_node(problems: Iterable[Problem]) -> dict[str, list[str]]:
    """Messages per node id, errors first, for ``Canvas.mark`` (graph-wide ones left out)."""
    marked: dict[str, list[str]] = {}
    for problem in ordered(problems):
        if problem.node_id is not None:
            marked.setdefault(problem.node_id, []).append(problem.message)
    return marked


def ordered(problems: Iterable[Problem]) -> list[Problem]:
    """Errors before warnings, otherwise in the order validation found them."""
    return sorted(problems, key=lambda problem: problem.severity != "error")


def summary(problems: Iterable[Problem]) -> str:
    """ "2 errors, 1 warning", or "No problems"."""
    found = list(problems)
    errors = sum(problem.severity == "error" for problem in found)
    counts = [(errors, "error"), (len(found) - errors, "warning")]
    parts = [f"{count} {word}{'s' * (count != 1)}" for count, word in counts if count]
    return ", ".join(parts) or "No problems"


class _ProblemDelegate(QStyledItemDelegate):
    """A row: severity icon, the step's name in small grey type, the message wrapped."""

    PAD, ICON, GAP = 8, 18, 3

    def _fonts(self, option: QStyleOptionViewItem) -> tuple[QFont, QFont]:
        step = QFont(option.font)
        step.setPointSizeF(step.pointSizeF() * 0.9)
        step.setBold(True)
        return step, QFont(option.font)

    def _text_width(self, option: QStyleOptionViewItem) -> int:
        width = option.rect.width() or option.widget.viewport().width()
        return max(120, width - self.ICON - 3 * self.PAD)

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        step_font, text_font = self._fonts(option)
        width = self._text_width(option)
        flags = int(Qt.TextFlag.TextWordWrap)
        message = QFontMetrics(text_font).boundingRect(
            QRect(0, 0, width, 10_000), flags, index.data()
        )
        step_height = QFontMetrics(step_font).height() + self.GAP
        return QSize(width, step_height + message.height() + 2 * self.PAD)

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        painter.save()
        style = option.widget.style() if option.widget else None
        if style is not None:
            style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter)
        rect = option.rect.adjusted(self.PAD, self.PAD, -self.PAD, -self.PAD)
        severity = index.data(SEVERITY_ROLE)
        colour = ERROR_COLOUR if severity == "error" else WARNING_COLOUR
        svg_icon(f"{severity}.svg", colour).paint(
            painter, QRect(rect.left(), rect.top(), self.ICON, self.ICON)
        )
        text_rect = rect.adjusted(self.ICON + self.PAD, 0, 0, 0)
        step_font, text_font = self._fonts(option)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.setFont(step_font)
        painter.setPen(option.palette.highlightedText().color() if selected else QColor(96, 96, 96))
        painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignTop), index.data(STEP_ROLE))
        painter.setFont(text_font)
        painter.setPen(option.palette.highlightedText().color() if selected else QColor(33, 33, 33))
        message_rect = text_rect.adjusted(0, QFontMetrics(step_font).height() + self.GAP, 0, 0)
        painter.drawText(message_rect, int(Qt.TextFlag.TextWordWrap), index.data())
        painter.restore()


class ProblemsPanel(QWidget):
    """Shows a list of Problems; emits ``node_requested(node_id)`` on double-click."""

    node_requested = Signal(str)

    def __init__(self, document: GraphDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.summary_context = SummaryContext()
        self.count = QLabel(EMPTY_TEXT, wordWrap=True)
        self.count.setFont(_bold(self.count.font()))
        self.list = QListWidget(wordWrap=True, alternatingRowColors=True)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.list.setItemDelegate(_ProblemDelegate(self.list))
        self.list.setAccessibleName("Problems in this graph")
        self.empty = QLabel(EMPTY_TEXT, wordWrap=True, alignment=Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet(f"color: {QColor(*OK_COLOUR).name()}; font-size: 11pt;")
        self.stack = QStackedWidget()
        self.stack.addWidget(self._empty_page())
        self.stack.addWidget(self.list)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.count)
        layout.addWidget(self.stack)
        self.list.itemDoubleClicked.connect(self._request)
        self.set_problems([])

    def set_problems(self, problems: list[Problem]) -> None:
        """Show ``problems`` (a ValidationRunner's ``problems_changed`` connects here)."""
        self.list.clear()
        for problem in ordered(problems):
            self.list.addItem(self._item(problem))
        self.count.setText(summary(problems))
        self.count.setVisible(bool(problems))
        self.count.setStyleSheet(f"color: {QColor(*_count_colour(problems)).name()};")
        self.stack.setCurrentIndex(1 if problems else 0)

    def _empty_page(self) -> QWidget:
        """A green tick above the empty-state sentence, centred."""
        tick = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        tick.setPixmap(svg_icon("ok.svg", OK_COLOUR).pixmap(32, 32))
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addStretch()
        layout.addWidget(tick)
        layout.addWidget(self.empty)
        layout.addStretch()
        return page

    def _item(self, problem: Problem) -> QListWidgetItem:
        step = self._step_title(problem.node_id)
        item = QListWidgetItem(_without_title(problem.message, step))
        item.setData(NODE_ROLE, problem.node_id)
        item.setData(STEP_ROLE, step)
        item.setData(SEVERITY_ROLE, problem.severity)
        item.setToolTip(problem.message)
        return item

    def _step_title(self, node_id: str | None) -> str:
        if node_id is None:
            return WHOLE_GRAPH
        node = self.document.graph.node(node_id)
        if node is None:
            return REMOVED_STEP
        node_type = catalogue.get(node.type)
        return node_type.title(node.params, self.summary_context) if node_type else node.type

    def _request(self, item: QListWidgetItem) -> None:
        node_id = item.data(NODE_ROLE)
        if node_id:
            self.node_requested.emit(node_id)


def _without_title(message: str, title: str) -> str:
    """The message without its "'<step title>': " opening, which the row shows above it."""
    return message.removeprefix(f"'{title}': ")


def _count_colour(problems: list[Problem]) -> tuple[int, int, int]:
    if any(problem.severity == "error" for problem in problems):
        return ERROR_COLOUR
    return WARNING_COLOUR if problems else OK_COLOUR


def _bold(font: QFont) -> QFont:
    bold = QFont(font)
    bold.setBold(True)
    return bold
