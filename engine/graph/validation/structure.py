"""The graph as a whole and its connections: triggers, reachability, ports."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

from engine.graph.model import Edge, Node
from engine.graph.templates import BUILTIN_NAMES
from engine.graph.validation.facts import Facts
from engine.graph.validation.findings import Problem
from engine.graph.validation.lookups import names_used
from engine.graph.validation.shapes import is_empty, shape_problem
from engine.nodes.spec import Category, ChoicesSource, ParamKind

_RECORD_DATA = frozenset(
    {ChoicesSource.STATUS_CODES, ChoicesSource.FIELDS, ChoicesSource.DATE_FIELDS}
)


def graph_problems(facts: Facts) -> Iterator[Problem]:
    graph = facts.graph
    triggers = [n.id for n in graph.nodes if facts.category(n.id) is Category.TRIGGER]
    if not triggers:
        yield Problem(
            None,
            None,
            "This graph has no trigger, so it would never start. Add a trigger such as "
            "'Status becomes' and connect the first step to it.",
        )
    reached = _reachable_from(facts, triggers)
    for node in graph.nodes:
        if triggers and node.id not in reached:
            yield Problem(
                node.id,
                None,
                f"{facts.title(node)} is not connected to a trigger, so it will never run. "
                "Connect it after a trigger, or delete it.",
                "warning",
            )
    if graph.source is None and any(_uses_record_data(facts, node) for node in graph.nodes):
        yield Problem(
            None,
            "source",
            "This graph uses status codes or record fields but does not say which records "
            "it works on. Choose a record source (for example orders) in the graph settings.",
        )


def _reachable_from(facts: Facts, start: list[str]) -> set[str]:
    seen, queue = set(start), deque(start)
    while queue:
        for edge in facts.graph.outgoing(queue.popleft()):
            if edge.target.node not in seen and edge.target.node in facts.types:
                seen.add(edge.target.node)
                queue.append(edge.target.node)
    return seen


def _uses_record_data(facts: Facts, node: Node) -> bool:
    node_type = facts.types[node.id]
    values = node_type.with_defaults(node.params) if node_type else {}
    for param in node_type.params if node_type else ():
        value = values.get(param.name)
        if is_empty(value) or shape_problem(param.kind, value):
            continue
        if param.choices_source in _RECORD_DATA or param.kind is ParamKind.RULES:
            return True
        if names_used(param.kind, value) - set(BUILTIN_NAMES):
            return True
    return False


def edge_problems(facts: Facts) -> Iterator[Problem]:
    seen: set[tuple[str, str, str, str]] = set()
    for edge in facts.graph.edges:
        ends = (edge.source.node, edge.source.port, edge.target.node, edge.target.port)
        if ends in seen:
            yield Problem(
                edge.source.node,
                None,
                "Two connections join the same two points; delete one of them.",
                "warning",
            )
        seen.add(ends)
        yield from _edge_problems(facts, edge)


def _edge_problems(facts: Facts, edge: Edge) -> Iterator[Problem]:
    source, target = facts.graph.node(edge.source.node), facts.graph.node(edge.target.node)
    for end, node, other in (("starts", source, target), ("ends", target, source)):
        if node is None:
            yield Problem(
                other.id if other else None,
                None,
                f"A connection {end} at a step that is no longer in this graph. "
                "Delete that connection.",
            )
    if source is not None:
        yield from _port_problem(facts, source, edge.source.port, outgoing=True)
    if target is not None and facts.category(target.id) is Category.TRIGGER:
        yield Problem(
            target.id,
            None,
            f"{facts.title(target)} is a trigger, and a trigger starts a run: no step can "
            "lead into it. Remove the connection into it.",
        )
    elif target is not None:
        yield from _port_problem(facts, target, edge.target.port, outgoing=False)


def _port_problem(facts: Facts, node: Node, port: str, *, outgoing: bool) -> Iterator[Problem]:
    node_type = facts.types[node.id]
    if node_type is None:
        return
    inputs = {p.name for p in node_type.inputs}
    outputs = {p.name for p in node_type.outputs}
    wanted, other = (outputs, inputs) if outgoing else (inputs, outputs)
    if port in wanted:
        return
    side, direction = ("output", "starts at") if outgoing else ("input", "goes into")
    if port in other:
        wrong = "input" if outgoing else "output"
        message = (
            f"A connection {direction} the {wrong} of {facts.title(node)}. Connections go "
            "from an output to an input; draw it again."
        )
    else:
        message = (
            f"A connection {direction} {facts.title(node)} at '{port}', but it has no "
            f"{side} by that name. Delete the connection and draw it again."
        )
    yield Problem(node.id, None, message)
