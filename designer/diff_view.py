"""A version comparison shown where a publisher looks: on the canvas and in a list.

Steps the newer version added turn green on the canvas and steps it changed turn
amber, so "what did they touch?" is answered at a glance. Removed steps are not on the
canvas any more, so the list beside it names them. The colours follow the canvas when
it rebuilds (another graph or version loaded) until the comparison is cleared.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from designer.canvas import Canvas
from designer.document import GraphDocument
from designer.node_classes import COLOURS
from designer.worker import Worker, show_failure
from engine.graph.model import Graph
from engine.nodes import catalogue
from engine.services.database import Database
from engine.services.review import GraphDiff, VersionInfo, compare, read_version_graph

ADDED_COLOUR = (67, 160, 71)
CHANGED_COLOUR = (230, 140, 0)
REMOVED_COLOUR = (198, 40, 40)
_LINE_COLOURS = {"+": (46, 125, 50), "-": REMOVED_COLOUR, "~": (191, 110, 0)}
_LINE_WORDS = {"~": "changed "}


def diff_colours(diff: GraphDiff) -> dict[str, tuple[int, int, int]]:
    """The canvas colour of each step the diff added or changed, by node id."""
    colours = {node.id: ADDED_COLOUR for node in diff.nodes_added}
    colours.update({edit.id: CHANGED_COLOUR for edit in diff.nodes_changed})
    return colours


class DiffView(QObject):
    """Colours a canvas's steps by a GraphDiff; ``clear()`` gives them their own colours back."""

    def __init__(self, canvas: Canvas, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self.diff: GraphDiff | None = None
        canvas.document.replaced.connect(self.apply)  # after the canvas has rebuilt

    def show(self, diff: GraphDiff) -> None:
        self.clear()
        self.diff = diff
        self.apply()

    def apply(self) -> None:
        """Colour the marked steps again (the window calls this after ``Canvas.mark``)."""
        if self.diff is None:
            return
        for node_id, colour in diff_colours(self.diff).items():
            view = self.canvas.view_of(node_id)
            if view is not None:
                view.set_color(*colour)

    def clear(self) -> None:
        if self.diff is None:
            return
        marked, self.diff = diff_colours(self.diff), None
        for node_id in marked:
            view = self.canvas.view_of(node_id)
            node = self.canvas.document.graph.node(node_id)
            node_type = catalogue.get(node.type) if node else None
            if view is not None and node_type is not None:
                view.set_color(*COLOURS[node_type.category])


class ComparePane(QWidget):
    """Two versions compared: the change lines, the canvas colours, and a way to look at
    the newer version on the canvas (read-only) and back to the draft."""

    viewing_version = Signal(str)  # "V1.1" was loaded read-only on the canvas
    back_to_draft_requested = Signal(str)  # graph id: the window reloads its draft

    def __init__(self, db: Database, worker: Worker, parent: QWidget | None = None) -> None:
        super().__init__(parent, visible=False)
        self.db, self.worker = db, worker
        self.diff_view: DiffView | None = None
        self._newer: VersionInfo | None = None
        self.title = QLabel(wordWrap=True)
        bold = QFont(self.title.font())
        bold.setBold(True)
        self.title.setFont(bold)
        self.legend = QLabel(_legend(), wordWrap=True, textFormat=Qt.TextFormat.RichText)
        self.lines = QListWidget(wordWrap=True)
        self.lines.setAccessibleName("Changes between the two versions")
        self.removed = QLabel(wordWrap=True)
        self.removed.setStyleSheet(f"color: {QColor(*REMOVED_COLOUR).name()};")
        self.show_button = QPushButton("Show version on canvas", visible=False)
        self.clear_button = QPushButton("Clear comparison")
        self.banner = QLabel(visible=False)
        self.banner.setStyleSheet("background: #fff3c4; padding: 4px;")
        self.back_button = QPushButton("Back to draft", visible=False)
        self.show_button.clicked.connect(self.show_version)
        self.clear_button.clicked.connect(self.clear)
        self.back_button.clicked.connect(self.back_to_draft)
        self._lay_out()

    def _lay_out(self) -> None:
        buttons = QHBoxLayout()
        for widget in (self.show_button, self.clear_button, self.banner, self.back_button):
            buttons.addWidget(widget)
        buttons.addStretch()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.title, self.legend, self.lines, self.removed):
            layout.addWidget(widget)
        layout.addLayout(buttons)

    def attach_canvas(self, canvas: Canvas) -> None:
        self.diff_view = DiffView(canvas, self)

    def compare(self, old: VersionInfo, new: VersionInfo) -> None:
        """Work out the changes from ``old`` to ``new`` off the GUI thread, then show them."""
        self.worker.run(
            lambda: compare(self.db, new.graph_id, old.label, new.label),
            lambda diff: self.show_diff(diff, old.label, new),
            lambda exc: show_failure(self, "Cannot compare", exc),
        )

    def show_diff(self, diff: GraphDiff, old_label: str, new: VersionInfo) -> None:
        self._newer = new
        self.title.setText(f"What changed from {old_label} to {new.label}")
        self.lines.clear()
        for line in diff.describe():
            self.lines.addItem(_item(line))
        names = ", ".join(f"'{node.title}'" for node in diff.nodes_removed)
        self.removed.setText(
            f"Not on the canvas because {new.label} removed them: {names}." if names else ""
        )
        self.removed.setVisible(bool(names))
        self.show_button.setText(f"Show {new.label} on canvas")
        self.show_button.setVisible(self.diff_view is not None)
        self.show()
        if self.diff_view is not None:
            self.diff_view.show(diff)

    def line_texts(self) -> list[str]:
        """The change lines as the person reads them."""
        return [self.lines.item(row).text() for row in range(self.lines.count())]

    def clear(self) -> None:
        self.hide()
        if self.diff_view is not None:
            self.diff_view.clear()

    def show_version(self) -> None:
        newer, view = self._newer, self.diff_view
        if (
            newer is None
            or view is None
            or warn_unsaved(
                self, view.canvas.document, "showing a version replaces the draft on the canvas"
            )
        ):
            return
        self.worker.run(
            lambda: read_version_graph(self.db, newer.id),
            lambda graph: self._view(view.canvas.document, graph, newer.label),
            lambda exc: show_failure(self, "Cannot show the version", exc),
        )

    def _view(self, document: GraphDocument, graph: Graph, label: str) -> None:
        document.load(graph, None)
        self.banner.setText(f"Viewing {label} (read-only)")
        self._viewing(True)
        self.viewing_version.emit(label)

    def back_to_draft(self) -> None:
        self._viewing(False)
        if self._newer is not None:
            self.back_to_draft_requested.emit(self._newer.graph_id)

    def _viewing(self, viewing: bool) -> None:
        self.banner.setVisible(viewing)
        self.back_button.setVisible(viewing)
        self.show_button.setVisible(not viewing)

    @property
    def viewing(self) -> bool:
        return self.banner.isVisible()


def warn_unsaved(parent: QWidget, document: GraphDocument, because: str) -> bool:
    """Say so, and True, when going on would pass over the canvas's unsaved edits."""
    if not document.dirty:
        return False
    QMessageBox.warning(
        parent,
        "Save the draft first",
        f"'{document.graph.name}' has changes that are not saved, and {because}. "
        "Save the draft (or undo the changes), then try again.",
    )
    return True


def _item(line: str) -> QListWidgetItem:
    """A describe() line without its +/-/~ sign; colour and words carry the meaning."""
    sign = line[:1]
    if sign not in _LINE_COLOURS or line[1:2] != " ":
        return QListWidgetItem(line)
    item = QListWidgetItem(_LINE_WORDS.get(sign, "") + line[2:])
    item.setForeground(QColor(*_LINE_COLOURS[sign]))
    return item


def _legend() -> str:
    def swatch(colour: tuple[int, int, int], word: str) -> str:
        return f"<span style='color:{QColor(*colour).name()}'>■</span> {word}"

    return (
        "On the canvas: "
        + swatch(ADDED_COLOUR, "added step")
        + " &nbsp; "
        + swatch(CHANGED_COLOUR, "changed step")
    )
