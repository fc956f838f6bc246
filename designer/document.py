"""The graph being edited: the engine's immutable ``Graph``, an undo stack, signals.

Every edit replaces the graph with a new one through an undo command that keeps the
graph before and after (snapshots share their unchanged nodes, so this is cheap).
Undo and redo swap the snapshots and announce what differs, node by node and edge
by edge; the canvas and the panels follow those signals. The document is the truth;
NodeGraphQt only draws it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from engine.graph.connections import connection_problem
from engine.graph.model import Edge, Graph, Node, PortRef, new_edge, new_node
from engine.nodes import catalogue

MOVE_COMMAND_ID = 7001


@dataclass(frozen=True)
class Changes:
    """What differs between two graphs, for the views to follow."""

    nodes_added: tuple[str, ...] = ()
    nodes_removed: tuple[str, ...] = ()
    nodes_changed: tuple[str, ...] = ()
    nodes_moved: tuple[str, ...] = ()
    edges_added: tuple[str, ...] = ()
    edges_removed: tuple[str, ...] = ()
    header_changed: bool = False

    @classmethod
    def between(cls, before: Graph, after: Graph) -> Changes:
        old_nodes = {n.id: n for n in before.nodes}
        new_nodes = {n.id: n for n in after.nodes}
        old_edges = {e.id for e in before.edges}
        new_edges = {e.id for e in after.edges}
        return cls(
            nodes_added=tuple(i for i in new_nodes if i not in old_nodes),
            nodes_removed=tuple(i for i in old_nodes if i not in new_nodes),
            nodes_changed=tuple(
                i for i, n in new_nodes.items() if i in old_nodes and old_nodes[i] != n
            ),
            nodes_moved=tuple(
                i
                for i in new_nodes
                if i in old_nodes and before.layout.get(i) != after.layout.get(i)
            ),
            edges_added=tuple(i for i in new_edges if i not in old_edges),
            edges_removed=tuple(i for i in old_edges if i not in new_edges),
            header_changed=(before.name, before.description, before.source)
            != (after.name, after.description, after.source),
        )


class _Snapshot(QUndoCommand):
    def __init__(self, document: GraphDocument, before: Graph, after: Graph, text: str) -> None:
        super().__init__(text)
        self.document, self.before, self.after = document, before, after

    def redo(self) -> None:
        self.document._show(self.after)

    def undo(self) -> None:
        self.document._show(self.before)


class _Move(_Snapshot):
    """Dragging a node produces many small moves; they undo as one."""

    def id(self) -> int:
        return MOVE_COMMAND_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, _Move):
            return False
        self.after = other.after
        return True


class ConnectionRefused(Exception):
    """A connection that makes no sense; ``str()`` says why, for the status bar."""


class GraphDocument(QObject):
    """One graph open in the designer."""

    changed = Signal(object)  # Changes
    replaced = Signal()  # a different graph was loaded: views rebuild

    def __init__(self, graph: Graph, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._graph = graph
        self.undo_stack = QUndoStack(self)
        self.graph_id_in_db: str | None = None

    @property
    def graph(self) -> Graph:
        return self._graph

    @property
    def dirty(self) -> bool:
        return not self.undo_stack.isClean()

    def mark_saved(self) -> None:
        self.undo_stack.setClean()

    def load(self, graph: Graph, graph_id_in_db: str | None = None) -> None:
        """Show another graph (open, new): history starts afresh."""
        self._graph = graph
        self.graph_id_in_db = graph_id_in_db
        self.undo_stack.clear()
        self.replaced.emit()

    def _show(self, graph: Graph) -> None:
        changes = Changes.between(self._graph, graph)
        self._graph = graph
        self.changed.emit(changes)

    def _push(self, after: Graph, text: str, command: type[_Snapshot] = _Snapshot) -> None:
        if after != self._graph:
            self.undo_stack.push(command(self, self._graph, after, text))

    # -- edits ------------------------------------------------------------------------

    def add_node(
        self,
        type_id: str,
        position: tuple[float, float],
        params: Mapping[str, Any] | None = None,
    ) -> str:
        node = new_node(type_id, params)
        label = catalogue.require(type_id).label
        self._push(self._graph.with_node(node, position), f"Add {label}")
        return node.id

    def remove_nodes(self, node_ids: list[str]) -> None:
        graph = self._graph
        for node_id in node_ids:
            if graph.node(node_id) is not None:
                graph = graph.without_node(node_id)
        count = len(node_ids)
        self._push(graph, f"Delete {count} step{'s' * (count != 1)}")

    def set_params(self, node_id: str, params: Mapping[str, Any]) -> None:
        node = self._graph.node(node_id)
        if node is None:
            return
        label = catalogue.require(node.type).label if catalogue.get(node.type) else node.type
        self._push(self._graph.with_params(node_id, dict(params)), f"Change {label}")

    def move_nodes(self, positions: Mapping[str, tuple[float, float]]) -> None:
        graph = self._graph
        for node_id, position in positions.items():
            if graph.node(node_id) is not None:
                graph = graph.with_layout(node_id, position)
        self._push(graph, "Move", _Move)

    def connect_ports(self, source: PortRef, target: PortRef) -> str:
        problem = connection_problem(self._graph, source, target)
        if problem:
            raise ConnectionRefused(problem)
        edge = new_edge(source, target)
        self._push(self._graph.with_edge(edge), "Connect")
        return edge.id

    def disconnect_edge(self, edge_id: str) -> None:
        self._push(self._graph.without_edge(edge_id), "Disconnect")

    def set_header(self, *, name: str, description: str, source: str | None) -> None:
        header = Graph(
            id=self._graph.id,
            name=name,
            description=description,
            source=source,
            nodes=self._graph.nodes,
            edges=self._graph.edges,
            layout=self._graph.layout,
        )
        self._push(header, "Rename")

    def paste(self, nodes: list[Node], edges: list[Edge], offset: tuple[float, float]) -> list[str]:
        """Add copies of nodes (fresh ids) and the edges among them."""
        graph, ids = self._graph, {}
        for node in nodes:
            copy = new_node(node.type, node.params)
            ids[node.id] = copy.id
            x, y = self._graph.layout.get(node.id, (0.0, 0.0))
            graph = graph.with_node(copy, (x + offset[0], y + offset[1]))
        for edge in edges:
            if edge.source.node in ids and edge.target.node in ids:
                graph = graph.with_edge(
                    new_edge(
                        PortRef(ids[edge.source.node], edge.source.port),
                        PortRef(ids[edge.target.node], edge.target.port),
                    )
                )
        self._push(graph, f"Paste {len(nodes)} step{'s' * (len(nodes) != 1)}")
        return list(ids.values())
