"""Each step's settings: unknown step types, required values, shapes, rules, checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from engine.graph.model import Node
from engine.graph.validation.facts import Facts
from engine.graph.validation.findings import Finding, Problem, listing
from engine.graph.validation.lookups import choice_problems, field_problems, template_problems
from engine.graph.validation.shapes import is_empty, range_problem, shape_problem
from engine.nodes.operators import OPERATORS
from engine.nodes.spec import Category, NodeType, Param, ParamKind


def node_problems(facts: Facts) -> Iterator[Problem]:
    for node in facts.graph.nodes:
        node_type = facts.types[node.id]
        if node_type is None:
            yield Problem(
                node.id,
                "type",
                f"{facts.title(node)} is not a kind of step this StatusFlow knows. Delete it, "
                "or update StatusFlow if the graph came from a newer version.",
            )
            continue
        if node_type.category is Category.CONDITION and not facts.graph.outgoing(node.id):
            yield Problem(
                node.id,
                None,
                f"{facts.title(node)} has none of its branches connected, so nothing happens "
                f"after it. Connect at least one of: "
                f"{listing(p.label for p in node_type.outputs)}.",
                "warning",
            )
        yield from _param_problems(facts, node, node_type)


def _param_problems(facts: Facts, node: Node, node_type: NodeType) -> Iterator[Problem]:
    values = node_type.with_defaults(node.params)
    for param in node_type.params:
        if not all(values.get(k) in allowed for k, allowed in param.visible_when.items()):
            continue
        for message, severity in _value_problems(facts, param, values.get(param.name)):
            yield Problem(node.id, param.name, f"{facts.title(node)}: {message}", severity)


def _value_problems(facts: Facts, param: Param, value: Any) -> Iterator[Finding]:
    """Required, shape, rules, the type's own check, then lookups on usable values."""
    if is_empty(value):
        if param.required:
            yield f"{param.label} is required. Fill it in.", "error"
        return
    problem = shape_problem(param.kind, value) or range_problem(param, value)
    if problem:
        yield f"{param.label}: {problem}", "error"
        return
    rule_problems = list(_rule_problems(facts, param, value))
    if rule_problems:
        yield from rule_problems
        return
    if param.check is not None and (problem := param.check(value)):
        yield f"{param.label}: {problem}", "error"
        return
    if param.choices or param.choices_source:
        yield from choice_problems(facts, param, value)
    yield from ((message, "error") for message in template_problems(facts, param, value))


def _rule_problems(facts: Facts, param: Param, value: Any) -> Iterator[Finding]:
    """Every incomplete rule at once (a type's own check stops at the first)."""
    for number, rule in enumerate(value["rules"] if param.kind is ParamKind.RULES else []):
        where = f"{param.label}, rule {number + 1}"
        operator = OPERATORS.get(rule["operator"]) if isinstance(rule["operator"], str) else None
        if facts.record_data:
            yield from ((f"{where}: {m}", s) for m, s in field_problems(facts, rule["field"]))
        if operator is None:
            known = listing(op.label for op in OPERATORS.values())
            yield f"{where}: choose how to compare ({known}).", "error"
        elif operator.takes_value and is_empty(rule.get("value")):
            yield f"{where}: '{operator.label}' needs a value to compare with.", "error"
        elif operator.list_value and not isinstance(rule.get("value"), list):
            yield f"{where}: '{operator.label}' needs a list of values.", "error"
