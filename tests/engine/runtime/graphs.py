"""Small graphs for runtime tests, built with the model's own editing functions."""

from __future__ import annotations

import itertools
from typing import Any

from engine.graph.model import Graph, Node, PortRef, new_edge, new_node


class Builder:
    """Add nodes and connect them by output port, then take the document."""

    def __init__(self, name: str, source: str = "orders") -> None:
        self.graph = Graph(id=new_node("trigger.manual").id, name=name, source=source)

    def node(self, type_id: str, **params: Any) -> Node:
        node = new_node(type_id, params)
        self.graph = self.graph.with_node(node)
        return node

    def link(self, before: Node, after: Node, port: str = "out") -> None:
        self.graph = self.graph.with_edge(
            new_edge(PortRef(before.id, port), PortRef(after.id, "in"))
        )

    def line(self, *nodes: Node) -> None:
        for before, after in itertools.pairwise(nodes):
            self.link(before, after)

    def document(self) -> dict[str, Any]:
        return self.graph.to_document()


NOTE = "Delivered → note"


def note_graph() -> dict[str, Any]:
    """When an order is delivered, a note on its timeline naming the customer."""
    g = Builder(NOTE)
    g.line(
        g.node("trigger.status_entered", codes=["DEL"]),
        g.node("action.add_note", note="Delivered to {{ customer_name }}."),
    )
    return g.document()
