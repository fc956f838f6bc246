"""Everything wrong with a graph, in sentences an operations manager can act on.

``validate`` is generic over the node catalogue: it reads each node type's ports and
parameter declarations (kind, required, choices source, ``check``) and never knows
about a particular node type. It reports every problem at once, so the designer can
mark them all, and it never raises on a graph that ``Graph.from_document`` accepted:
a half-drawn graph is normal while someone is working on it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from engine.graph.context import ValidationContext
from engine.graph.model import Edge, Graph, Node
from engine.graph.templates import (
    BUILTIN_NAMES,
    TemplateError,
    json_template_strings,
    template_problem,
    variables,
)
from engine.nodes import catalogue
from engine.nodes.common import duration_problem
from engine.nodes.operators import OPERATORS
from engine.nodes.spec import Category, ChoicesSource, NodeType, Param, ParamKind, SummaryContext

Severity = Literal["error", "warning"]
Finding = tuple[str, Severity]

_RECORD_DATA = frozenset(
    {ChoicesSource.STATUS_CODES, ChoicesSource.FIELDS, ChoicesSource.DATE_FIELDS}
)
_PAUSES = frozenset({Category.WAIT, Category.HUMAN})


@dataclass(frozen=True)
class Problem:
    """One thing to fix (error) or to look at (warning); ``field`` is a parameter name."""

    node_id: str | None
    field: str | None
    message: str
    severity: Severity = "error"


def validate(graph: Graph, context: ValidationContext) -> list[Problem]:
    """Every problem of ``graph``, checked against what ``context`` knows."""
    check = _Check(graph, context)
    return [
        *check.graph_problems(),
        *check.edge_problems(),
        *check.node_problems(),
        *check.cycle_problems(),
    ]


def _listing(names: Iterable[str], limit: int = 25) -> str:
    shown = list(names)
    more = ", …" if len(shown) > limit else ""
    return (", ".join(shown[:limit]) + more) if shown else "(none yet)"


def _is_empty(value: Any) -> bool:
    return value is None or value in ([], {}) or (isinstance(value, str) and not value.strip())


def _template_texts(kind: ParamKind, value: Any) -> list[str]:
    """The templates inside a well-shaped value of ``kind``."""
    if kind in (ParamKind.TEMPLATE, ParamKind.EMAIL_LIST, ParamKind.URL):
        return [value]
    if kind is ParamKind.HEADERS:
        return list(value.values())
    if kind is ParamKind.JSON_TEMPLATE:
        try:
            return json_template_strings(value)
        except TemplateError:
            return []
    return []


def _names_used(kind: ParamKind, value: Any) -> set[str]:
    names: set[str] = set()
    for text in _template_texts(kind, value):
        if template_problem(text, None) is None:
            names |= variables(text)
    return names


class _Check:
    """One validation pass: the graph, the context and the node types looked up once."""

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

    # -- the graph as a whole -------------------------------------------------------------

    def graph_problems(self) -> Iterator[Problem]:
        triggers = [n.id for n in self.graph.nodes if self.category(n.id) is Category.TRIGGER]
        if not triggers:
            yield Problem(
                None,
                None,
                "This graph has no trigger, so it would never start. Add a trigger such as "
                "'Status becomes' and connect the first step to it.",
            )
        reached = self._reachable_from(triggers)
        for node in self.graph.nodes:
            if triggers and node.id not in reached:
                yield Problem(
                    node.id,
                    None,
                    f"{self.title(node)} is not connected to a trigger, so it will never run. "
                    "Connect it after a trigger, or delete it.",
                    "warning",
                )
        if self.graph.source is None and any(map(self._uses_record_data, self.graph.nodes)):
            yield Problem(
                None,
                "source",
                "This graph uses status codes or record fields but does not say which records "
                "it works on. Choose a record source (for example orders) in the graph settings.",
            )

    def _reachable_from(self, start: list[str]) -> set[str]:
        seen, queue = set(start), deque(start)
        while queue:
            for edge in self.graph.outgoing(queue.popleft()):
                if edge.target.node not in seen and edge.target.node in self.types:
                    seen.add(edge.target.node)
                    queue.append(edge.target.node)
        return seen

    def _uses_record_data(self, node: Node) -> bool:
        node_type = self.types[node.id]
        values = node_type.with_defaults(node.params) if node_type else {}
        for param in node_type.params if node_type else ():
            value = values.get(param.name)
            if _is_empty(value) or shape_problem(param.kind, value):
                continue
            if param.choices_source in _RECORD_DATA or param.kind is ParamKind.RULES:
                return True
            if _names_used(param.kind, value) - set(BUILTIN_NAMES):
                return True
        return False

    # -- edges ----------------------------------------------------------------------------

    def edge_problems(self) -> Iterator[Problem]:
        seen: set[tuple[str, str, str, str]] = set()
        for edge in self.graph.edges:
            ends = (edge.source.node, edge.source.port, edge.target.node, edge.target.port)
            if ends in seen:
                yield Problem(
                    edge.source.node,
                    None,
                    "Two connections join the same two points; delete one of them.",
                    "warning",
                )
            seen.add(ends)
            yield from self._edge_problems(edge)

    def _edge_problems(self, edge: Edge) -> Iterator[Problem]:
        source, target = self.graph.node(edge.source.node), self.graph.node(edge.target.node)
        for end, node, other in (("starts", source, target), ("ends", target, source)):
            if node is None:
                yield Problem(
                    other.id if other else None,
                    None,
                    f"A connection {end} at a step that is no longer in this graph. "
                    "Delete that connection.",
                )
        if source is not None:
            yield from self._port_problem(source, edge.source.port, outgoing=True)
        if target is not None and self.category(target.id) is Category.TRIGGER:
            yield Problem(
                target.id,
                None,
                f"{self.title(target)} is a trigger, and a trigger starts a run: no step can "
                "lead into it. Remove the connection into it.",
            )
        elif target is not None:
            yield from self._port_problem(target, edge.target.port, outgoing=False)

    def _port_problem(self, node: Node, port: str, *, outgoing: bool) -> Iterator[Problem]:
        node_type = self.types[node.id]
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
                f"A connection {direction} the {wrong} of {self.title(node)}. Connections go "
                "from an output to an input; draw it again."
            )
        else:
            message = (
                f"A connection {direction} {self.title(node)} at '{port}', but it has no "
                f"{side} by that name. Delete the connection and draw it again."
            )
        yield Problem(node.id, None, message)

    # -- nodes and their parameters ---------------------------------------------------------

    def node_problems(self) -> Iterator[Problem]:
        for node in self.graph.nodes:
            node_type = self.types[node.id]
            if node_type is None:
                yield Problem(
                    node.id,
                    "type",
                    f"{self.title(node)} is not a kind of step this StatusFlow knows. Delete it, "
                    "or update StatusFlow if the graph came from a newer version.",
                )
                continue
            if node_type.category is Category.CONDITION and not self.graph.outgoing(node.id):
                yield Problem(
                    node.id,
                    None,
                    f"{self.title(node)} has none of its branches connected, so nothing happens "
                    f"after it. Connect at least one of: "
                    f"{_listing(p.label for p in node_type.outputs)}.",
                    "warning",
                )
            yield from self._param_problems(node, node_type)

    def _param_problems(self, node: Node, node_type: NodeType) -> Iterator[Problem]:
        values = node_type.with_defaults(node.params)
        for param in node_type.params:
            if not all(values.get(k) in allowed for k, allowed in param.visible_when.items()):
                continue
            for message, severity in self._value_problems(param, values.get(param.name)):
                yield Problem(node.id, param.name, f"{self.title(node)}: {message}", severity)

    def _value_problems(self, param: Param, value: Any) -> Iterator[Finding]:
        """Required, shape, rules, the type's own check, then lookups on usable values."""
        if _is_empty(value):
            if param.required:
                yield f"{param.label} is required. Fill it in.", "error"
            return
        problem = shape_problem(param.kind, value) or _range_problem(param, value)
        if problem:
            yield f"{param.label}: {problem}", "error"
            return
        rule_problems = list(self._rule_problems(param, value))
        if rule_problems:
            yield from rule_problems
            return
        if param.check is not None and (problem := param.check(value)):
            yield f"{param.label}: {problem}", "error"
            return
        if param.choices or param.choices_source:
            yield from self._choice_problems(param, value)
        yield from ((message, "error") for message in self._template_problems(param, value))

    def _rule_problems(self, param: Param, value: Any) -> Iterator[Finding]:
        """Every incomplete rule at once (a type's own check stops at the first)."""
        for number, rule in enumerate(value["rules"] if param.kind is ParamKind.RULES else []):
            where = f"{param.label}, rule {number + 1}"
            operator = (
                OPERATORS.get(rule["operator"]) if isinstance(rule["operator"], str) else None
            )
            if self.record_data:
                yield from ((f"{where}: {m}", s) for m, s in self._field_problems(rule["field"]))
            if operator is None:
                known = _listing(op.label for op in OPERATORS.values())
                yield f"{where}: choose how to compare ({known}).", "error"
            elif operator.takes_value and _is_empty(rule.get("value")):
                yield f"{where}: '{operator.label}' needs a value to compare with.", "error"
            elif operator.list_value and not isinstance(rule.get("value"), list):
                yield f"{where}: '{operator.label}' needs a list of values.", "error"

    # -- choices and lookups ------------------------------------------------------------------

    def _choice_problems(self, param: Param, value: Any) -> Iterator[Finding]:
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, str):
                continue
            if param.choices and item not in {c.value for c in param.choices}:
                yield (
                    f"{param.label}: '{item}' is not one of the options "
                    f"({_listing(c.label for c in param.choices)}). Pick one of them.",
                    "error",
                )
            elif param.choices_source is not None:
                found = self._lookup_problems(param.choices_source, item)
                yield from ((f"{param.label}: {m}", s) for m, s in found)

    def _lookup_problems(self, source: ChoicesSource, item: str) -> Iterator[Finding]:
        ctx, records = self.context, self.records
        if (
            source is ChoicesSource.STATUS_CODES
            and self.record_data
            and item not in ctx.status_codes
        ):
            codes = (f"{code} ({text})" for code, text in ctx.status_codes.items())
            yield (
                f"{records} have no status code '{item}'. Known codes: {_listing(codes)}.",
                "error",
            )
        elif source is ChoicesSource.FIELDS and self.record_data:
            yield from self._field_problems(item)
        elif source is ChoicesSource.DATE_FIELDS and self.record_data:
            if item not in ctx.date_fields():
                dates = _listing(sorted(ctx.date_fields()))
                yield f"'{item}' is not a date field of {records}. Date fields: {dates}.", "error"
        elif source is ChoicesSource.LABELS and self.record_data and item not in ctx.labels:
            yield (
                f"the label '{item}' has never been used on {records}; check the spelling. "
                f"Known labels: {_listing(sorted(ctx.labels))}.",
                "warning",
            )
        elif source is ChoicesSource.USERS and ctx.lookups_known and item not in ctx.users:
            yield f"there is no user '{item}'. Users: {_listing(sorted(ctx.users))}.", "error"
        elif source is ChoicesSource.ROLES and item not in ctx.roles:
            yield f"there is no role '{item}'. Roles: {_listing(sorted(ctx.roles))}.", "error"

    def _field_problems(self, name: str) -> Iterator[Finding]:
        if name not in self.context.fields:
            yield (
                f"{self.records} have no field '{name}'. "
                f"Fields you can use: {_listing(sorted(self.context.fields))}.",
                "error",
            )

    def _template_problems(self, param: Param, value: Any) -> Iterator[str]:
        if param.kind is ParamKind.JSON_TEMPLATE:
            try:
                json_template_strings(value)
            except TemplateError as exc:
                yield f"{param.label}: {exc}"
        for text in _template_texts(param.kind, value):
            if problem := template_problem(text, None):
                yield f"{param.label}: {problem}"
        if not self.record_data:
            return
        fields = sorted(self.context.fields)
        usable = [*fields, *(name for name in BUILTIN_NAMES if name not in self.context.fields)]
        for name in sorted(_names_used(param.kind, value) - set(usable)):
            yield (
                f"the {param.label.lower()} uses {{{{ {name} }}}}, but {self.records} have no "
                f"field '{name}'. Fields you can use: {_listing(usable)}."
            )

    # -- cycles -----------------------------------------------------------------------------

    def cycle_problems(self) -> Iterator[Problem]:
        """Loops with no wait or approval in them would repeat forever without pause."""
        busy = {n.id for n in self.graph.nodes if self.category(n.id) not in _PAUSES}
        successors = {
            node_id: [e.target.node for e in self.graph.outgoing(node_id) if e.target.node in busy]
            for node_id in busy
        }
        reported: set[str] = set()
        for node in self.graph.nodes:
            cycle = [] if node.id in reported else _shortest_cycle(node.id, successors)
            if cycle:
                reported |= set(cycle)
                names = [self.title(n) for n in map(self.graph.node, cycle) if n is not None]
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


def _range_problem(param: Param, value: Any) -> str | None:
    if param.kind not in (ParamKind.INTEGER, ParamKind.NUMBER):
        return None
    if param.minimum is not None and value < param.minimum:
        return f"this must be at least {param.minimum:g}."
    if param.maximum is not None and value > param.maximum:
        return f"this must be at most {param.maximum:g}."
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_whole(value: Any) -> bool:
    return _is_number(value) and (isinstance(value, int) or value.is_integer())


def _is_texts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _rules_problem(value: Any) -> str | None:
    if not isinstance(value, dict) or value.get("match") not in ("all", "any"):
        return "choose whether all rules or any one rule must hold."
    rules = value.get("rules")
    if not isinstance(rules, list) or not rules:
        return "add at least one rule."
    for number, rule in enumerate(rules, start=1):
        if (
            not isinstance(rule, dict)
            or not isinstance(rule.get("field"), str)
            or "operator" not in rule
        ):
            return f"rule {number} is incomplete; choose its field and how to compare."
    return None


def _cases_problem(value: Any) -> str | None:
    ok = isinstance(value, list) and all(
        isinstance(case, dict) and "value" in case and isinstance(case.get("port"), str)
        for case in value
    )
    return None if ok else "the cases could not be read; set them up again."


def _check(test: Callable[[Any], bool], sentence: str) -> Callable[[Any], str | None]:
    return lambda value: None if test(value) else sentence


_TEXT = _check(lambda v: isinstance(v, str), "this should be text.")
_SHAPES: dict[ParamKind, Callable[[Any], str | None]] = {
    **{kind: _TEXT for kind in ParamKind},
    ParamKind.INTEGER: _check(_is_whole, "this should be a whole number."),
    ParamKind.NUMBER: _check(_is_number, "this should be a number."),
    ParamKind.BOOLEAN: _check(lambda v: isinstance(v, bool), "this should be yes or no."),
    ParamKind.MULTI_CHOICE: _check(_is_texts, "this should be a list of choices."),
    ParamKind.STRING_LIST: _check(_is_texts, "this should be a list of texts."),
    ParamKind.HEADERS: _check(
        lambda v: isinstance(v, dict) and _is_texts(list(v.values())),
        "each header should have a text value.",
    ),
    ParamKind.DURATION: duration_problem,
    ParamKind.RULES: _rules_problem,
    ParamKind.CASES: _cases_problem,
}


def shape_problem(kind: ParamKind, value: Any) -> str | None:
    """Why ``value`` does not have the shape a ``kind`` parameter holds, or None."""
    return _SHAPES[kind](value)
