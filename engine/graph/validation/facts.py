"""What one validation pass looks up once and every check shares."""

from __future__ import annotations

from engine.graph.context import ValidationContext
from engine.graph.model import Graph, Node
from engine.nodes import catalogue
from engine.nodes.spec import Category, NodeType, SummaryContext


class Facts:
    """The graph, the context, each node's type, and whether record data can be checked."""

    def __init__(self, graph: Graph, context: ValidationContext) -> None:
        self.graph = graph
        self.context = context
        self.types: dict[str, NodeType | None] = {n.id: catalogue.get(n.type) for n in graph.nodes}
        self.record_data = context.describes(graph.source)
        self.records = f"{graph.source} records"

    def category(self, node_id: str) -> Category | None:
        node_type = self.types.get(node_id)
        return node_type.category if node_type else None

    def title(self, node: Node) -> str:
        """The node as the canvas shows it, quoted: 'Send email "Your order…"'."""
        node_type = self.types.get(node.id)
        if node_type is None:
            return f"The step '{node.type}'"
        summary = SummaryContext(status_descriptions=self.context.status_codes)
        return f"'{node_type.title(node.params, summary)}'"
