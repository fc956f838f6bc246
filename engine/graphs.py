"""Graphs and their drafts in the database: create, save, find, validate.

A graph row holds the editable draft (StatusFlow JSON); versions, review and
publishing build on it (governance). Every change is audited in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from engine import analytics, audit
from engine.clock import SYSTEM_CLOCK, Clock
from engine.errors import StatusFlowError
from engine.graph.context import ValidationContext
from engine.graph.model import Graph
from engine.graph.validation import Problem, validate
from engine.nodes import catalogue
from engine.permissions import require
from engine.sources.hosts import hosts
from engine.sources.introspection import label_names
from engine.sources.registry import get_source
from engine.sources.status_codes import list_codes
from engine.storage.database import Database
from engine.storage.tables import graph_versions, graphs, record_sources, users
from engine.storage.types import new_id


@dataclass(frozen=True)
class GraphSummary:
    """A graph as lists show it."""

    id: str
    name: str
    description: str
    source: str | None
    enabled: bool
    current_version: str | None  # "V1.2"
    updated_at: datetime | None
    updated_by: str | None


def _summaries_query():  # type: ignore[no-untyped-def]
    current = graph_versions.alias("current")
    return (
        select(
            graphs.c.id,
            graphs.c.name,
            graphs.c.description,
            record_sources.c.name.label("source"),
            graphs.c.enabled,
            current.c.major,
            current.c.minor,
            graphs.c.draft_updated_at,
            graphs.c.draft_updated_by,
        )
        .select_from(graphs)
        .outerjoin(record_sources, record_sources.c.id == graphs.c.source_id)
        .outerjoin(current, current.c.id == graphs.c.current_version_id)
    )


def _summary(row: Any) -> GraphSummary:
    version = f"V{row.major}.{row.minor}" if row.major is not None else None
    return GraphSummary(
        row.id,
        row.name,
        row.description,
        row.source,
        row.enabled,
        version,
        row.draft_updated_at,
        row.draft_updated_by,
    )


def list_graphs(db: Database) -> list[GraphSummary]:
    with db.read() as conn:
        rows = conn.execute(_summaries_query().order_by(graphs.c.name)).all()
    return [_summary(row) for row in rows]


def find_graph(conn: Connection, name_or_id: str) -> GraphSummary:
    """The graph with this name or id, or an error listing the names there are."""
    query = _summaries_query()
    row = conn.execute(
        query.where((graphs.c.name == name_or_id) | (graphs.c.id == name_or_id))
    ).first()
    if row is None:
        names = conn.execute(select(graphs.c.name).order_by(graphs.c.name)).scalars().all()
        known = ", ".join(names) if names else "none yet"
        raise StatusFlowError(f"There is no graph named '{name_or_id}'. Graphs: {known}.")
    return _summary(row)


def load_draft(conn: Connection, graph_id: str) -> Graph:
    draft = conn.execute(select(graphs.c.draft).where(graphs.c.id == graph_id)).scalar_one()
    return Graph.from_stored(draft)


def _source_id(conn: Connection, source: str | None) -> int | None:
    return None if source is None else get_source(conn, source).id


def _trigger_kinds(graph: Graph) -> str | None:
    kinds = sorted(
        {
            t.trigger_kind
            for n in graph.triggers()
            if (t := catalogue.get(n.type)) and t.trigger_kind
        }
    )
    return ",".join(kinds) or None


def create_graph(
    db: Database, document: dict[str, Any], *, actor: str, clock: Clock = SYSTEM_CLOCK
) -> GraphSummary:
    """Store a new graph with ``document`` as its draft (a new id if the id is taken)."""
    graph = Graph.from_document(document)
    now = clock.now()
    with db.write() as conn:
        require(conn, actor, "graph.edit")
        if conn.execute(select(graphs.c.id).where(graphs.c.name == graph.name)).first():
            raise StatusFlowError(
                f"A graph named '{graph.name}' already exists; choose another name."
            )
        if conn.execute(select(graphs.c.id).where(graphs.c.id == graph.id)).first():
            graph = Graph.from_document({**graph.to_document(), "id": new_id()})
        source_id = _source_id(conn, graph.source)
        conn.execute(
            insert(graphs).values(
                id=graph.id,
                name=graph.name,
                description=graph.description,
                source_id=source_id,
                draft=graph.to_document(),
                draft_updated_at=now,
                draft_updated_by=actor,
                created_at=now,
                created_by=actor,
            )
        )
        audit.record(
            conn,
            actor=actor,
            action="graph.create",
            object_type="graph",
            object_id=graph.id,
            summary=f"Created graph '{graph.name}'",
            at=now,
        )
        analytics.record(
            conn,
            analytics.row(
                analytics.GRAPH_CREATED,
                source_id=source_id,
                graph_id=graph.id,
                trigger_type=_trigger_kinds(graph),
                clock=clock,
            ),
        )
        return find_graph(conn, graph.id)


def save_draft(
    db: Database,
    graph_id: str,
    document: dict[str, Any],
    *,
    actor: str,
    clock: Clock = SYSTEM_CLOCK,
) -> GraphSummary:
    """Replace the draft of an existing graph (its id must match the document's)."""
    graph = Graph.from_document(document)
    if graph.id != graph_id:
        raise StatusFlowError("This document belongs to another graph; import it instead.")
    now = clock.now()
    with db.write() as conn:
        require(conn, actor, "graph.edit")
        before = find_graph(conn, graph_id)
        conn.execute(
            update(graphs)
            .where(graphs.c.id == graph_id)
            .values(
                name=graph.name,
                description=graph.description,
                source_id=_source_id(conn, graph.source),
                draft=graph.to_document(),
                draft_updated_at=now,
                draft_updated_by=actor,
            )
        )
        audit.record(
            conn,
            actor=actor,
            action="graph.edit",
            object_type="graph",
            object_id=graph_id,
            summary=f"Saved the draft of '{graph.name}'",
            before={"name": before.name},
            after={"name": graph.name, "nodes": len(graph.nodes)},
            at=now,
        )
        return find_graph(conn, graph_id)


def validation_context(conn: Connection, source: str | None) -> ValidationContext:
    """What validation checks names against: the source's codes, fields and labels."""
    usernames = frozenset(conn.execute(select(users.c.username)).scalars())
    if source is None:
        return ValidationContext(users=usernames, lookups_known=True)
    info = get_source(conn, source)
    with hosts.connect(conn, info) as host:
        labels = frozenset(label_names(host, info))
    return ValidationContext(
        source=info.name,
        status_codes={c.code: c.description for c in list_codes(conn, info.name)},
        fields=dict(info.fields),
        labels=labels,
        users=usernames,
        lookups_known=True,
    )


def check_document(db: Database, document: dict[str, Any]) -> tuple[Graph, list[Problem]]:
    """Read a document and validate it against the database it would run on."""
    graph = Graph.from_document(document)
    with db.read() as conn:
        return graph, validate(graph, validation_context(conn, graph.source))
