"""The canvas: NodeGraphQt drawing the document, and people's gestures sent back to it.

The document is the truth. When it changes, the canvas adds, removes, retitles and
moves its nodes and pipes to match. When a person connects, disconnects, moves or
drops something on the canvas, the canvas asks the document to make the change (one
undo command); a connection the engine's rules refuse is taken off the canvas again
and the reason goes to the status bar.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from NodeGraphQt import BaseNode, NodeGraph
from PySide6.QtCore import QEvent, QObject, QRectF, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from designer.document import Changes, ConnectionRefused, GraphDocument
from designer.node_classes import (
    COLOURS,
    NODE_CLASSES,
    PATH_COLOUR,
    PROBLEM_BORDER,
    canvas_port,
    node_type_key,
    port_name,
)
from engine.graph.model import Node, PortRef
from engine.nodes import catalogue
from engine.nodes.spec import SummaryContext

NODE_MIME = "application/x-statusflow-node-type"
TITLE_WIDTH = 190.0  # longer titles wrap onto a second line


class _NoHistory(QUndoStack):
    """NodeGraphQt wraps every edit in an undo command; our document keeps the history.

    A command is carried out and dropped at once: commands a stack keeps point back at
    the graph, and when a cycle collection frees both, the stack's destructor deletes
    commands Python has already freed and the process crashes.
    """

    def push(self, cmd: QUndoCommand) -> None:
        cmd.redo()

    def beginMacro(self, text: str) -> None:
        pass

    def endMacro(self) -> None:
        pass


class _Graph(NodeGraph):
    """NodeGraphQt keeps node names unique ("Wait 1 hour 2"); our titles are summaries
    of each step's settings, and two alike steps should read alike. Nodes are told
    apart by our ids, never by title."""

    def get_unique_name(self, name: str) -> str:
        return " ".join(name.split())


class Canvas(QObject):
    """Keeps a NodeGraphQt graph in step with a GraphDocument."""

    message = Signal(str)  # a sentence for the status bar
    selection_changed = Signal(list)  # our node ids

    def __init__(self, document: GraphDocument, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.summary_context = SummaryContext()
        self.graph = _Graph(undo_stack=_NoHistory())
        self.graph.register_nodes(list(NODE_CLASSES.values()))
        self._document_history_in_menu()
        self.widget = self.graph.widget
        self._views: dict[str, BaseNode] = {}  # our node id → canvas node
        self._ids: dict[str, str] = {}  # canvas node id → our node id
        self._syncing = False
        document.changed.connect(self._follow)
        document.replaced.connect(self.rebuild)
        self.graph.port_connected.connect(self._on_connected)
        self.graph.port_disconnected.connect(self._on_disconnected)
        self.graph.viewer().moved_nodes.connect(self._on_moved)
        self.graph.node_selection_changed.connect(self._on_selection)
        self.graph.viewer().data_dropped.connect(self._on_dropped)
        self.graph.viewer().viewport().installEventFilter(self)
        self.graph.viewer().installEventFilter(self)
        self.rebuild()

    def _document_history_in_menu(self) -> None:
        """The right-click menu's Undo and Redo are NodeGraphQt's, on a stack we keep
        empty (the document keeps the history): the document's take their place."""
        menu = self.graph.get_context_menu("graph").qmenu
        for action in menu.actions()[:2]:
            menu.removeAction(action)
        stack = self.document.undo_stack
        undo, redo = stack.createUndoAction(menu, "&Undo"), stack.createRedoAction(menu, "&Redo")
        first = menu.actions()[0] if menu.actions() else None
        menu.insertActions(first, [undo, redo])  # type: ignore[arg-type]

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """NodeGraphQt only welcomes its own drags; let palette steps in too."""
        if event.type() in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            mime = event.mimeData()  # type: ignore[attr-defined]
            if mime is not None and mime.hasFormat(NODE_MIME):
                event.acceptProposedAction()  # type: ignore[attr-defined]
                return True
        return False

    @contextmanager
    def _quiet(self) -> Iterator[None]:
        """Changes made to match the document must not echo back to it."""
        self._syncing = True
        try:
            yield
        finally:
            self._syncing = False

    # -- document → canvas -------------------------------------------------------------

    def rebuild(self) -> None:
        with self._quiet():
            self.graph.clear_session()
            self._views.clear()
            self._ids.clear()
            for node in self.document.graph.nodes:
                self._add_view(node.id)
            for edge in self.document.graph.edges:
                self._add_pipe(edge.id)

    def _follow(self, changes: Changes) -> None:
        graph = self.document.graph
        with self._quiet():
            if changes.edges_removed:
                self._remove_pipes_not_in(graph)
            for node_id in changes.nodes_removed:
                view = self._views.pop(node_id, None)
                if view is not None:
                    self._ids.pop(view.id, None)
                    self.graph.remove_node(view, push_undo=False)
            for node_id in changes.nodes_added:
                self._add_view(node_id)
            for node_id in changes.nodes_changed:
                self.retitle(node_id)
            for node_id in changes.nodes_moved:
                self._place(node_id)
            for edge_id in changes.edges_added:
                self._add_pipe(edge_id)

    def _add_view(self, node_id: str) -> None:
        node = self.document.graph.node(node_id)
        if node is None or node.type not in NODE_CLASSES:
            return
        x, y = self.document.graph.layout.get(node_id, (0.0, 0.0))
        view = self.graph.create_node(
            node_type_key(node.type),
            name=self._title(node),  # drawn once with its title, not renamed after
            pos=(x, y),
            push_undo=False,
            selected=False,
        )
        self._views[node_id] = view
        self._ids[view.id] = node_id
        self._fit_title(view)

    def _place(self, node_id: str) -> None:
        view = self._views.get(node_id)
        x, y = self.document.graph.layout.get(node_id, (0.0, 0.0))
        if view is not None:
            view.set_pos(x, y)

    def _title(self, node: Node) -> str:
        return catalogue.require(node.type).title(node.params, self.summary_context)

    def retitle(self, node_id: str) -> None:
        node, view = self.document.graph.node(node_id), self._views.get(node_id)
        if node and view and catalogue.get(node.type):
            view.set_name(self._title(node))
            self._fit_title(view)

    @staticmethod
    def _fit_title(view: BaseNode) -> None:
        """Long titles wrap at TITLE_WIDTH; NodeGraphQt sizes a node from its title item."""
        view.view.setToolTip(view.name())
        text = view.view._text_item
        text.setTextWidth(-1)
        text.setTextWidth(min(text.boundingRect().width(), TITLE_WIDTH))
        view.view.draw_node()

    def _add_pipe(self, edge_id: str) -> None:
        edge = next((e for e in self.document.graph.edges if e.id == edge_id), None)
        if edge is None:
            return
        start, end = self._views.get(edge.source.node), self._views.get(edge.target.node)
        source_node = self.document.graph.node(edge.source.node)
        if start is None or end is None or source_node is None:
            return
        out = start.get_output(canvas_port(catalogue.require(source_node.type), edge.source.port))
        into = end.get_input(edge.target.port)
        if out is not None and into is not None:
            out.connect_to(into, push_undo=False, emit_signal=False)

    def _remove_pipes_not_in(self, graph) -> None:  # type: ignore[no-untyped-def]
        wanted = {(e.source.node, e.source.port, e.target.node) for e in graph.edges}
        for node_id, view in self._views.items():
            node = graph.node(node_id)
            if node is None:
                continue
            node_type = catalogue.require(node.type)
            for out in view.output_ports():
                for other in list(out.connected_ports()):
                    target = self._ids.get(other.node().id)
                    if (node_id, port_name(node_type, out.name()), target) not in wanted:
                        out.disconnect_from(other, push_undo=False, emit_signal=False)

    # -- canvas → document ------------------------------------------------------------

    def _ref(self, port, output: bool) -> PortRef | None:  # type: ignore[no-untyped-def]
        node_id = self._ids.get(port.node().id)
        node = self.document.graph.node(node_id) if node_id else None
        if node is None:
            return None
        name = port_name(catalogue.require(node.type), port.name()) if output else port.name()
        return PortRef(node.id, name)

    def _on_connected(self, input_port, output_port) -> None:  # type: ignore[no-untyped-def]
        if self._syncing:
            return
        source, target = self._ref(output_port, True), self._ref(input_port, False)
        try:
            if source is None or target is None:
                raise ConnectionRefused("Both ends must be steps of this graph.")
            self.document.connect_ports(source, target)
        except ConnectionRefused as refused:
            with self._quiet():
                output_port.disconnect_from(input_port, push_undo=False, emit_signal=False)
            self.message.emit(f"Not connected: {refused}")

    def _on_disconnected(self, input_port, output_port) -> None:  # type: ignore[no-untyped-def]
        if self._syncing:
            return
        source, target = self._ref(output_port, True), self._ref(input_port, False)
        for edge in self.document.graph.edges:
            if edge.source == source and edge.target == target:
                self.document.disconnect_edge(edge.id)
                return

    def _on_moved(self, moved: dict) -> None:  # type: ignore[type-arg]
        if self._syncing:
            return
        positions = {}
        for view in moved:
            node_id = self._ids.get(view.id)
            if node_id is not None:
                x, y = self._views[node_id].pos()
                positions[node_id] = (float(x), float(y))
        if positions:
            self.document.move_nodes(positions)

    def _on_selection(self, *_args: object) -> None:
        self.selection_changed.emit(self.selected_ids())

    def _on_dropped(self, mime, scene_pos) -> None:  # type: ignore[no-untyped-def]
        if mime.hasFormat(NODE_MIME):
            type_id = bytes(mime.data(NODE_MIME)).decode()
            self.add_node(type_id, (float(scene_pos.x()), float(scene_pos.y())))

    # -- commands the window calls ----------------------------------------------------

    def add_node(self, type_id: str, position: tuple[float, float] | None = None) -> str:
        if position is None:
            center = self.graph.viewer().mapToScene(self.graph.viewer().rect().center())
            position = (center.x(), center.y())
        node_id = self.document.add_node(type_id, position)
        self.select([node_id])
        return node_id

    def selected_ids(self) -> list[str]:
        return [self._ids[v.id] for v in self.graph.selected_nodes() if v.id in self._ids]

    def select(self, node_ids: list[str]) -> None:
        self.graph.clear_selection()
        for node_id in node_ids:
            view = self._views.get(node_id)
            if view is not None:
                view.set_selected(True)
        self.selection_changed.emit(self.selected_ids())

    def view_of(self, node_id: str) -> BaseNode | None:
        return self._views.get(node_id)

    def zoom(self, step: float) -> None:
        self.graph.set_zoom(self.graph.get_zoom() + step)

    def fit(self) -> None:
        """Zoom so every step is visible (NodeGraphQt's own way, minus its slow part:
        it groups the items to measure them; their rectangles are simply united here)."""
        viewer = self.graph.viewer()
        if not self._views:
            return
        rect = QRectF()
        for view in self._views.values():
            rect = rect.united(view.view.sceneBoundingRect())
        viewer._scene_range = rect.adjusted(-40, -40, 40, 40)
        viewer._update_scene()
        if viewer.get_zoom() > 0.1:
            viewer.reset_zoom(viewer._scene_range.center())

    # -- markers ------------------------------------------------------------------------

    def mark(
        self,
        problems: dict[str, list[str]],
        highlighted: set[str] | None = None,
    ) -> None:
        """Red border and tooltip on nodes with problems; yellow on a highlighted path."""
        for node_id, view in self._views.items():
            node = self.document.graph.node(node_id)
            category = catalogue.require(node.type).category if node else None
            lines = problems.get(node_id, [])
            if highlighted and node_id in highlighted:
                view.set_color(*PATH_COLOUR)
            elif category is not None:
                view.set_color(*COLOURS[category])
            view.model.border_color = (*PROBLEM_BORDER, 255) if lines else (74, 84, 85, 255)
            view.view.border_color = view.model.border_color
            view.view.setToolTip("\n".join(lines))
            view.view.update()
