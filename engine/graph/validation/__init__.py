"""Everything wrong with a graph, in sentences an operations manager can act on.

``validate`` is generic over the node catalogue: it reads each node type's ports and
parameter declarations (kind, required, choices source, ``check``) and never knows
about a particular node type. It reports every problem at once, so the designer can
mark them all, and it never raises on a graph that ``Graph.from_document`` accepted:
a half-drawn graph is normal while someone is working on it.

The checks live in one module per concern: ``structure`` (triggers, reachability,
connections), ``cycles``, ``parameters`` (each step's settings), ``lookups`` (codes,
fields, labels, users and templates against the record source) and ``shapes`` (whether
a value has the form its kind holds).
"""

from __future__ import annotations

from engine.graph.context import ValidationContext
from engine.graph.model import Graph
from engine.graph.validation.cycles import cycle_problems
from engine.graph.validation.facts import Facts
from engine.graph.validation.findings import Problem
from engine.graph.validation.parameters import node_problems
from engine.graph.validation.structure import edge_problems, graph_problems

__all__ = ["Problem", "validate"]


def validate(graph: Graph, context: ValidationContext) -> list[Problem]:
    """Every problem of ``graph``, checked against what ``context`` knows."""
    facts = Facts(graph, context)
    return [
        *graph_problems(facts),
        *edge_problems(facts),
        *node_problems(facts),
        *cycle_problems(facts),
    ]
