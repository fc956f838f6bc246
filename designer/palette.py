"""The palette: every kind of step, grouped the way people think about them.

The list is built from the engine's catalogue, so a new node type shows up here
without touching this module. People find a step by typing (the catalogue's own
search, so the palette and any other search agree), then drag it onto the canvas or
double-click it (or press Enter) to add it in the middle of the view.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib import resources

from PySide6.QtCore import QByteArray, QEvent, QMimeData, QObject, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QKeyEvent, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.canvas import NODE_MIME
from designer.node_classes import COLOURS
from engine.nodes import catalogue
from engine.nodes.spec import Category, NodeType

TYPE_ROLE = Qt.ItemDataRole.UserRole

GROUPS: dict[Category, tuple[str, str]] = {
    Category.TRIGGER: ("Triggers — when…", "Steps that start a run when something happens."),
    Category.CONDITION: ("Conditions — check…", "Steps that choose a branch by the record."),
    Category.WAIT: ("Waits", "Steps that pause the run for a time or a status."),
    Category.ACTION: ("Actions", "Steps that send messages or change the record."),
    Category.HUMAN: ("People", "Steps where a person decides before the run goes on."),
}


def svg_icon(name: str, colour: tuple[int, int, int]) -> QIcon:
    """An icon from ``resources/icons`` drawn in ``colour`` (the SVGs use currentColor)."""
    return QIcon(_svg_pixmap(name, colour, 48))


@cache
def _svg_pixmap(name: str, colour: tuple[int, int, int], size: int) -> QPixmap:
    text = resources.files("resources.icons").joinpath(name).read_text("utf-8")
    svg = text.replace("currentColor", QColor(*colour).name())
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(QByteArray(svg.encode())).render(painter, QRectF(0, 0, size, size))
    painter.end()
    return pixmap


def node_icon(node_type: NodeType) -> QIcon:
    """The node type's own icon in its category colour (the category icon if it has none)."""
    return svg_icon(
        node_type.icon or f"{node_type.category.value}.svg", COLOURS[node_type.category]
    )


class _StepTree(QTreeWidget):
    """The tree of steps; a drag carries the type id in the canvas's drop format."""

    add_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, headerHidden=True, rootIsDecorated=False, indentation=12)
        self.setIconSize(QSize(22, 22))
        self.setStyleSheet("QTreeView::item { padding: 1px 2px; }")
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setAccessibleName("Steps you can add")
        self.itemDoubleClicked.connect(self._request)

    def mimeTypes(self) -> list[str]:
        return [NODE_MIME]

    def mimeData(self, items: Iterable[QTreeWidgetItem]) -> QMimeData:
        mime = QMimeData()
        type_ids = [item.data(0, TYPE_ROLE) for item in items if item.data(0, TYPE_ROLE)]
        if type_ids:
            mime.setData(NODE_MIME, QByteArray(type_ids[0].encode()))
        return mime

    def keyPressEvent(self, event: QKeyEvent) -> None:
        item = self.currentItem()
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and item is not None:
            self._request(item)
        else:
            super().keyPressEvent(event)

    def _request(self, item: QTreeWidgetItem) -> None:
        type_id = item.data(0, TYPE_ROLE)
        if type_id:
            self.add_requested.emit(type_id)


class Palette(QWidget):
    """A search box over the steps grouped by category; emits ``add_requested(type_id)``."""

    add_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(placeholderText="Search steps…", clearButtonEnabled=True)
        self.search.setAccessibleName("Search steps")
        self.tree = _StepTree()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self._groups = {category: self._add_group(category) for category in GROUPS}
        self.tree.add_requested.connect(self.add_requested)
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._add_first_match)
        self.search.installEventFilter(self)

    def _add_group(self, category: Category) -> QTreeWidgetItem:
        title, tip = GROUPS[category]
        group = QTreeWidgetItem(self.tree, [title])
        group.setFlags(Qt.ItemFlag.ItemIsEnabled)
        group.setIcon(0, svg_icon(f"{category.value}.svg", COLOURS[category]))
        group.setForeground(0, QColor(*COLOURS[category]))
        group.setToolTip(0, tip)
        font = QFont(group.font(0))
        font.setBold(True)
        group.setFont(0, font)
        for node_type in catalogue.by_category(category):
            self._add_step(group, node_type)
        group.setExpanded(True)
        return group

    @staticmethod
    def _add_step(group: QTreeWidgetItem, node_type: NodeType) -> None:
        item = QTreeWidgetItem(group, [node_type.label])
        item.setData(0, TYPE_ROLE, node_type.type_id)
        item.setIcon(0, node_icon(node_type))
        item.setToolTip(0, node_type.description)
        item.setFlags(
            Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
        )

    def filter(self, text: str) -> None:
        """Show only the steps the catalogue's search finds; hide groups left empty."""
        found = {node_type.type_id for node_type in catalogue.search(text)}
        for group in self._groups.values():
            for index in range(group.childCount()):
                item = group.child(index)
                item.setHidden(item.data(0, TYPE_ROLE) not in found)
            group.setHidden(all(item.isHidden() for item in _children(group)))

    def visible_type_ids(self) -> list[str]:
        """The type ids shown right now, top to bottom."""
        return [item.data(0, TYPE_ROLE) for item in self._visible_items()]

    def _visible_items(self) -> list[QTreeWidgetItem]:
        return [
            item
            for group in self._groups.values()
            if not group.isHidden()
            for item in _children(group)
            if not item.isHidden()
        ]

    def _add_first_match(self) -> None:
        items = self._visible_items()
        if items:
            self.add_requested.emit(items[0].data(0, TYPE_ROLE))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Down arrow in the search box moves into the list, onto the first match."""
        is_down = (
            watched is self.search
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Down
        )
        items = self._visible_items() if is_down else []
        if not items:
            return super().eventFilter(watched, event)
        self.tree.setCurrentItem(items[0])
        self.tree.setFocus(Qt.FocusReason.TabFocusReason)
        return True


def _children(group: QTreeWidgetItem) -> list[QTreeWidgetItem]:
    return [group.child(index) for index in range(group.childCount())]
