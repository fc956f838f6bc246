"""The StatusFlow graph: nodes with stable ids, edges between their ports, a layout.

This is the document the designer edits, versions store and the engine runs. It is
ours, not NodeGraphQt's session dump: node ids are UUIDs that never change across
edits, and the canvas layout is a separate, optional part so moving a box never
looks like a change in logic. Edits return a new ``Graph`` (the undo stack can keep
the old one). ``docs/graph-format.md`` describes the JSON form.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any, TypeVar

import jsonschema

from engine.errors import GraphFormatError
from engine.graph.upgrades import CURRENT_VERSION, upgrade
from engine.nodes import catalogue
from engine.nodes.spec import Category

_Item = TypeVar("_Item", "Node", "Edge")


@dataclass(frozen=True)
class PortRef:
    """One end of an edge: a port of a node."""

    node: str
    port: str


@dataclass(frozen=True)
class Node:
    """One step. ``params`` is treated as read-only: edits build a new Node."""

    id: str
    type: str
    params: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class Edge:
    """A connection from an output port to an input port."""

    id: str
    source: PortRef
    target: PortRef


@dataclass(frozen=True)
class Graph:
    """A whole automation; ``layout`` maps node ids to canvas (x, y) positions."""

    id: str
    name: str
    description: str = ""
    source: str | None = None
    nodes: tuple[Node, ...] = ()
    edges: tuple[Edge, ...] = ()
    layout: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    # -- reading and writing ----------------------------------------------------------

    @classmethod
    def from_document(cls, doc: Any) -> Graph:
        """Read a document of any supported version; GraphFormatError if unusable."""
        if not isinstance(doc, dict):
            raise GraphFormatError(
                "This is not a StatusFlow graph: the file should hold one JSON object. "
                "Export the graph again from StatusFlow."
            )
        current = upgrade(doc)
        _check_schema(current)
        return cls._build(current)

    @classmethod
    def from_stored(cls, doc: Any) -> Graph:
        """A draft or version StatusFlow stored itself, from a checked graph.

        The schema check is a third of opening a big graph, and what we wrote passed it
        when it was saved; a damaged row still gets ``from_document``'s clear error.
        """
        try:
            return cls._build(upgrade(doc))
        except (KeyError, TypeError, ValueError, AttributeError):
            return cls.from_document(doc)

    @classmethod
    def _build(cls, current: dict[str, Any]) -> Graph:
        graph = cls(
            id=current["id"],
            name=current["name"],
            description=current.get("description", ""),
            source=current.get("source"),
            nodes=tuple(_node_from(n) for n in current["nodes"]),
            edges=tuple(_edge_from(e) for e in current["edges"]),
            layout={
                node_id: (point["x"], point["y"])
                for node_id, point in current.get("layout", {"nodes": {}})["nodes"].items()
            },
        )
        _check_unique("step", [n.id for n in graph.nodes])
        _check_unique("connection", [e.id for e in graph.edges])
        return graph

    def to_document(self) -> dict[str, Any]:
        """The current-version JSON document (a fresh dict the caller may change)."""
        return {
            "format_version": CURRENT_VERSION,
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "nodes": [
                {
                    "id": n.id,
                    "type": n.type,
                    "params": copy.deepcopy(dict(n.params)),
                    "note": n.note,
                }
                for n in self.nodes
            ],
            "edges": [
                {
                    "id": e.id,
                    "from": {"node": e.source.node, "port": e.source.port},
                    "to": {"node": e.target.node, "port": e.target.port},
                }
                for e in self.edges
            ],
            "layout": {"nodes": {k: {"x": x, "y": y} for k, (x, y) in self.layout.items()}},
        }

    # -- looking things up ------------------------------------------------------------

    def node(self, node_id: str) -> Node | None:
        return next((n for n in self.nodes if n.id == node_id), None)

    def outgoing(self, node_id: str) -> tuple[Edge, ...]:
        return tuple(e for e in self.edges if e.source.node == node_id)

    def incoming(self, node_id: str) -> tuple[Edge, ...]:
        return tuple(e for e in self.edges if e.target.node == node_id)

    def triggers(self) -> tuple[Node, ...]:
        """The nodes whose type is a known trigger type."""
        return tuple(n for n in self.nodes if _category(n.type) is Category.TRIGGER)

    # -- editing (each returns a new Graph) --------------------------------------------

    def with_node(self, node: Node, position: tuple[float, float] | None = None) -> Graph:
        """Add ``node``, or replace the node with the same id."""
        nodes = _replaced(self.nodes, node) if self.node(node.id) else (*self.nodes, node)
        graph = replace(self, nodes=nodes)
        return graph.with_layout(node.id, position) if position else graph

    def without_node(self, node_id: str) -> Graph:
        """Remove a node, the edges touching it, and its position."""
        return replace(
            self,
            nodes=tuple(n for n in self.nodes if n.id != node_id),
            edges=tuple(e for e in self.edges if node_id not in (e.source.node, e.target.node)),
            layout={k: v for k, v in self.layout.items() if k != node_id},
        )

    def with_edge(self, edge: Edge) -> Graph:
        """Add ``edge``, or replace the edge with the same id."""
        known = any(e.id == edge.id for e in self.edges)
        return replace(self, edges=_replaced(self.edges, edge) if known else (*self.edges, edge))

    def without_edge(self, edge_id: str) -> Graph:
        return replace(self, edges=tuple(e for e in self.edges if e.id != edge_id))

    def with_params(self, node_id: str, params: Mapping[str, Any]) -> Graph:
        """Replace a node's parameters; KeyError if there is no such node."""
        node = self.node(node_id)
        if node is None:
            raise KeyError(node_id)
        return self.with_node(replace(node, params=copy.deepcopy(dict(params))))

    def with_layout(self, node_id: str, position: tuple[float, float]) -> Graph:
        return replace(self, layout={**self.layout, node_id: position})


def new_node(type_id: str, params: Mapping[str, Any] | None = None) -> Node:
    """A node with a fresh UUID and the type's defaults, overridden by ``params``."""
    node_type = catalogue.require(type_id)
    return Node(id=str(uuid.uuid4()), type=type_id, params=node_type.with_defaults(params or {}))


def new_edge(source: PortRef, target: PortRef) -> Edge:
    return Edge(id=str(uuid.uuid4()), source=source, target=target)


def loads(text: str) -> Graph:
    """Read a graph from JSON text; GraphFormatError if it is not a usable graph."""
    try:
        doc = json.loads(text, parse_constant=_refuse_constant)
    except (json.JSONDecodeError, ValueError) as exc:
        raise GraphFormatError(
            f"This file is not a StatusFlow graph: it is not valid JSON ({exc}). "
            "Export the graph again from StatusFlow."
        ) from exc
    return Graph.from_document(doc)


def dumps(graph: Graph) -> str:
    """Stable JSON text: sorted keys and indentation, so files and diffs are readable."""
    return json.dumps(graph.to_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _category(type_id: str) -> Category | None:
    node_type = catalogue.get(type_id)
    return node_type.category if node_type else None


def _replaced(items: tuple[_Item, ...], new: _Item) -> tuple[_Item, ...]:
    return tuple(new if item.id == new.id else item for item in items)


def _node_from(doc: dict[str, Any]) -> Node:
    return Node(doc["id"], doc["type"], copy.deepcopy(doc.get("params", {})), doc.get("note", ""))


def _edge_from(doc: dict[str, Any]) -> Edge:
    source, target = doc["from"], doc["to"]
    return Edge(
        doc["id"], PortRef(source["node"], source["port"]), PortRef(target["node"], target["port"])
    )


def _check_unique(what: str, ids: Iterable[str]) -> None:
    seen: set[str] = set()
    for item_id in ids:
        if item_id in seen:
            raise GraphFormatError(
                f"Two parts of this graph use the same {what} id '{item_id}', so they cannot "
                "be told apart. Give one of them a new id in the file, or export it again."
            )
        seen.add(item_id)


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of the current format (``resources/graph.schema.json``)."""
    text = resources.files("resources").joinpath("graph.schema.json").read_text("utf-8")
    return json.loads(text)


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema())


def _check_schema(doc: dict[str, Any]) -> None:
    errors = sorted(_validator().iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        details = "; ".join(_plain(error) for error in errors[:3])
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        raise GraphFormatError(
            f"This graph file is damaged or was changed by hand: {details}{more}. "
            "Fix the file or export the graph again from StatusFlow."
        )


def _plain(error: jsonschema.ValidationError) -> str:
    """One schema error in plain words, with where it is ("nodes[2].type")."""
    where = _json_path(error.absolute_path)
    value = error.validator_value
    if error.validator == "required":
        missing = next((k for k in value if k not in error.instance), value[0])
        return f"{where} has no '{missing}'"
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"{where} has an entry StatusFlow does not know: '{', '.join(extra)}'"
    if error.validator == "type":
        kinds = value if isinstance(value, list) else [value]
        return f"{where} should be {' or '.join(_TYPE_WORDS.get(str(k), str(k)) for k in kinds)}"
    if error.validator == "minLength":
        return f"{where} must not be empty"
    return f"{where} is not valid ({error.message})"


_TYPE_WORDS = {
    "object": "a group of named values",
    "array": "a list",
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "empty (null)",
}


def _json_path(path: Iterable[Any]) -> str:
    parts: list[str] = []
    for part in path:
        parts.append(f"[{part}]" if isinstance(part, int) else f"{'.' if parts else ''}{part}")
    return "".join(parts) or "the graph"
