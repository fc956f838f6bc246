"""What changed between two versions of a graph, in the words a publisher reviews.

Steps are matched by their stable id, so a re-configured step shows as a change, not
as one step removed and another added. Parameters are compared after merging the
catalogue defaults, so writing a default down is not a change; canvas moves are
counted for information but change nothing the graph does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from engine import durations
from engine.errors import SourceError, StatusFlowError
from engine.graph.model import Edge, Graph, Node
from engine.graphs import GraphSummary, find_graph
from engine.nodes import catalogue
from engine.nodes.common import join_words, shorten
from engine.nodes.spec import Param, SummaryContext
from engine.sources.status_codes import list_codes
from engine.storage.tables import graph_versions, graphs

DRAFT = "draft"
_LABEL = re.compile(r"[vV]?(\d+)\.(\d+)")
_GRAPH_FIELDS = (("name", "Name"), ("description", "Description"), ("source", "Record source"))


@dataclass(frozen=True)
class NodeChange:
    """A step that was added or removed."""

    id: str
    type: str
    title: str


@dataclass(frozen=True)
class ParamChange:
    """One setting with its old and new value; ``label`` is what the form shows."""

    name: str
    label: str
    old: Any
    new: Any


@dataclass(frozen=True)
class NodeEdit:
    """A step kept in both versions whose settings or note changed."""

    id: str
    type: str
    title: str
    changes: tuple[ParamChange, ...]


@dataclass(frozen=True)
class EdgeChange:
    """A connection, described with the titles of the steps it joins."""

    id: str
    text: str  # "'Status becomes DEL – Delivered' → 'Email {{ email }}: Hello'"


@dataclass(frozen=True)
class GraphDiff:
    graph_changes: tuple[ParamChange, ...] = ()  # name, description, record source
    nodes_added: tuple[NodeChange, ...] = ()
    nodes_removed: tuple[NodeChange, ...] = ()
    nodes_changed: tuple[NodeEdit, ...] = ()
    edges_added: tuple[EdgeChange, ...] = ()
    edges_removed: tuple[EdgeChange, ...] = ()
    moved: int = 0  # steps only moved on the canvas: not a change

    @property
    def is_empty(self) -> bool:
        """True when the two versions do the same thing (moves do not count)."""
        return not (
            self.graph_changes
            or self.nodes_added
            or self.nodes_removed
            or self.nodes_changed
            or self.edges_added
            or self.edges_removed
        )

    def describe(self) -> list[str]:
        """One plain line per change, "+" added, "-" removed, "~" changed."""
        lines = [
            f"~ {c.label}: {_shown(None, c.old)} → {_shown(None, c.new)}"
            for c in self.graph_changes
        ]
        lines += [f"+ added '{n.title}'" for n in self.nodes_added]
        lines += [f"- removed '{n.title}'" for n in self.nodes_removed]
        lines += [
            _change_line(edit, change) for edit in self.nodes_changed for change in edit.changes
        ]
        lines += [f"+ connected {e.text}" for e in self.edges_added]
        lines += [f"- disconnected {e.text}" for e in self.edges_removed]
        if not lines:
            lines.append("No changes to what the graph does.")
        if self.moved:
            steps = "1 step was" if self.moved == 1 else f"{self.moved} steps were"
            lines.append(f"({steps} only moved on the canvas.)")
        return lines


def diff(old: Graph, new: Graph, context: SummaryContext | None = None) -> GraphDiff:
    """The changes from ``old`` to ``new``; ``context`` names status codes in titles."""
    context = context or SummaryContext()
    old_nodes = {n.id: n for n in old.nodes}
    new_nodes = {n.id: n for n in new.nodes}
    kept = [n for n in new.nodes if _same_kind(old_nodes.get(n.id), n)]
    kept_ids = {n.id for n in kept}
    return GraphDiff(
        graph_changes=tuple(
            ParamChange(name, label, getattr(old, name), getattr(new, name))
            for name, label in _GRAPH_FIELDS
            if getattr(old, name) != getattr(new, name)
        ),
        nodes_added=tuple(_node_change(n, context) for n in new.nodes if n.id not in kept_ids),
        nodes_removed=tuple(
            _node_change(n, context) for n in old.nodes if not _same_kind(n, new_nodes.get(n.id))
        ),
        nodes_changed=tuple(
            edit for n in kept if (edit := _node_edit(old_nodes[n.id], n, context)).changes
        ),
        edges_added=_edges_only_in(new, old, context),
        edges_removed=_edges_only_in(old, new, context),
        moved=sum(1 for i in kept_ids if old.layout.get(i) != new.layout.get(i)),
    )


def version_diff(conn: Connection, graph_name_or_id: str, label_a: str, label_b: str) -> GraphDiff:
    """The changes between two versions ("V1.0", "V1.1", or "draft") of one graph."""
    summary = find_graph(conn, graph_name_or_id)
    old = _load(conn, summary, label_a)
    new = _load(conn, summary, label_b)
    return diff(old, new, _summary_context(conn, new.source))


# -- nodes -----------------------------------------------------------------------------


def _same_kind(old: Node | None, new: Node | None) -> bool:
    """Both exist with the same type; a changed type is a different step."""
    return old is not None and new is not None and old.type == new.type


def _title(node: Node, context: SummaryContext) -> str:
    """The canvas title of a step, or its type id when this program lacks the type."""
    node_type = catalogue.get(node.type)
    return node_type.title(node.params, context) if node_type else node.type


def _node_change(node: Node, context: SummaryContext) -> NodeChange:
    return NodeChange(node.id, node.type, _title(node, context))


def _merged(node: Node) -> dict[str, Any]:
    node_type = catalogue.get(node.type)
    return node_type.with_defaults(node.params) if node_type else dict(node.params)


def _param(type_id: str, name: str) -> Param | None:
    node_type = catalogue.get(type_id)
    return next((p for p in node_type.params if p.name == name), None) if node_type else None


def _label(type_id: str, name: str) -> str:
    param = _param(type_id, name)
    return param.label if param else name


def _node_edit(old: Node, new: Node, context: SummaryContext) -> NodeEdit:
    before, after = _merged(old), _merged(new)
    names = list(dict.fromkeys([*after, *before]))
    changes = [
        ParamChange(name, _label(new.type, name), before.get(name), after.get(name))
        for name in names
        if before.get(name) != after.get(name)
    ]
    if old.note != new.note:
        changes.append(ParamChange("note", "Note", old.note, new.note))
    return NodeEdit(new.id, new.type, _title(new, context), tuple(changes))


def _change_line(edit: NodeEdit, change: ParamChange) -> str:
    param = _param(edit.type, change.name)
    old, new = _shown(param, change.old), _shown(param, change.new)
    return f"~ '{edit.title}': {change.label}: {old} → {new}"


# -- edges -----------------------------------------------------------------------------


def _edges_only_in(graph: Graph, other: Graph, context: SummaryContext) -> tuple[EdgeChange, ...]:
    """Connections of ``graph`` that ``other`` lacks, matched by their two ends."""
    ends = {(e.source, e.target) for e in other.edges}
    return tuple(
        EdgeChange(e.id, _edge_text(graph, e, context))
        for e in graph.edges
        if (e.source, e.target) not in ends
    )


def _edge_text(graph: Graph, edge: Edge, context: SummaryContext) -> str:
    source, target = graph.node(edge.source.node), graph.node(edge.target.node)
    start = f"'{_title(source, context)}'" if source else "a missing step"
    end = f"'{_title(target, context)}'" if target else "a missing step"
    if edge.source.port != "out":
        start += f" ({_port_label(source, edge.source.port)})"
    return f"{start} → {end}"


def _port_label(node: Node | None, port: str) -> str:
    node_type = catalogue.get(node.type) if node else None
    outputs = node_type.outputs if node_type else ()
    return next((p.label for p in outputs if p.name == port), port)


# -- values ----------------------------------------------------------------------------


def _shown(param: Param | None, value: Any) -> str:
    """A value the way a person reads it: quoted text, '2 hours', 'DEL, SHP', 'yes'."""
    if value is None or value == "" or value == [] or value == {}:
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    choice = next((c.label for c in param.choices if c.value == value), None) if param else None
    if choice:
        return f"'{choice}'"
    if durations.problem(value) is None:
        return durations.describe(value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return join_words(value, "and")
    if isinstance(value, str):
        return f"'{shorten(value, 60)}'"
    if isinstance(value, int | float):
        return str(value)
    return shorten(json.dumps(value, ensure_ascii=False, sort_keys=True), 60)


# -- loading versions ------------------------------------------------------------------


def _load(conn: Connection, summary: GraphSummary, label: str) -> Graph:
    """The draft, or the version numbered like "V1.2" (the "V" may be left out)."""
    if label.strip().lower() == DRAFT:
        document = conn.execute(select(graphs.c.draft).where(graphs.c.id == summary.id)).scalar()
        if document is None:
            raise StatusFlowError(f"'{summary.name}' has no draft; compare two versions instead.")
        return Graph.from_stored(document)
    match = _LABEL.fullmatch(label.strip())
    document = None
    if match:
        document = conn.execute(
            select(graph_versions.c.document)
            .where(graph_versions.c.graph_id == summary.id)
            .where(graph_versions.c.major == int(match[1]))
            .where(graph_versions.c.minor == int(match[2]))
        ).scalar()
    if document is None:
        raise StatusFlowError(
            f"'{summary.name}' has no version '{label}'. "
            f"Choose one of: {_known_labels(conn, summary.id)}."
        )
    return Graph.from_stored(document)


def _known_labels(conn: Connection, graph_id: str) -> str:
    rows = conn.execute(
        select(graph_versions.c.major, graph_versions.c.minor)
        .where(graph_versions.c.graph_id == graph_id)
        .order_by(graph_versions.c.major, graph_versions.c.minor)
    ).all()
    return ", ".join([*(f"V{r.major}.{r.minor}" for r in rows), DRAFT])


def _summary_context(conn: Connection, source: str | None) -> SummaryContext:
    """Status descriptions for titles; plain codes when the source is gone."""
    if source is None:
        return SummaryContext()
    try:
        codes = list_codes(conn, source)
    except SourceError:
        return SummaryContext()
    return SummaryContext({c.code: c.description for c in codes})
