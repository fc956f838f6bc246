"""Loops with no wait or approval in them would repeat forever without pause."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping

from engine.graph.validation.facts import Facts
from engine.graph.validation.findings import Problem
from engine.nodes.spec import Category

_PAUSES = frozenset({Category.WAIT, Category.HUMAN})


def cycle_problems(facts: Facts) -> Iterator[Problem]:
    """One problem per loop without a pause, naming its steps in order."""
    graph = facts.graph
    busy = {n.id for n in graph.nodes if facts.category(n.id) not in _PAUSES}
    successors = {
        node_id: [e.target.node for e in graph.outgoing(node_id) if e.target.node in busy]
        for node_id in busy
    }
    reported: set[str] = set()
    for node in graph.nodes:
        cycle = [] if node.id in reported else _shortest_cycle(node.id, successors)
        if cycle:
            reported |= set(cycle)
            names = [facts.title(n) for n in map(graph.node, cycle) if n is not None]
            yield Problem(
                cycle[0],
                None,
                "These steps would repeat forever without pause: "
                f"{' → '.join([*names, names[0]])}. Put a wait or an approval in the loop, "
                "or remove a connection.",
            )


def _shortest_cycle(start: str, successors: Mapping[str, list[str]]) -> list[str]:
    """The nodes of the shortest loop through ``start`` (empty when there is none)."""
    parents: dict[str, str] = {}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        for following in successors.get(current, []):
            if following == start:
                path = [current]
                while path[-1] != start:
                    path.append(parents[path[-1]])
                return path[::-1]
            if following not in parents:
                parents[following] = current
                queue.append(following)
    return []
