"""Which connections make sense: the rule the canvas applies when a person drops one.

Validation reports the same problems on a whole document; this answers for one edge
at the moment it is drawn, so the designer can refuse it with a sentence.
"""

from __future__ import annotations

from engine.graph.model import Graph, PortRef
from engine.nodes import catalogue


def _title(graph: Graph, node_id: str) -> str:
    node = graph.node(node_id)
    node_type = catalogue.get(node.type) if node else None
    return f"'{node_type.title(node.params)}'" if node and node_type else "this step"


def connection_problem(graph: Graph, source: PortRef, target: PortRef) -> str | None:
    """Why an edge from an output to an input should not be drawn; None if it may."""
    start, end = graph.node(source.node), graph.node(target.node)
    if start is None or end is None:
        return "Both ends must be steps of this graph."
    if start.id == end.id:
        return "A step cannot lead back into itself."
    start_type, end_type = catalogue.get(start.type), catalogue.get(end.type)
    if start_type is None or end_type is None:
        return "Unknown steps cannot be connected; delete them first."
    if source.port not in {p.name for p in start_type.outputs}:
        return f"{_title(graph, start.id)} has no output '{source.port}'."
    if not end_type.inputs:
        return f"{_title(graph, end.id)} is a trigger: it starts the graph, nothing leads into it."
    if target.port not in {p.name for p in end_type.inputs}:
        return f"{_title(graph, end.id)} has no input '{target.port}'."
    if any(e.source == source and e.target == target for e in graph.edges):
        return "These two steps are already connected that way."
    return None
