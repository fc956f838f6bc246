"""A version of a graph as people read it: its label (V1.2), state and people.

The one place that turns a stored version row into its label, and that finds a version
by the label a person types.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from engine.errors import StatusFlowError
from engine.graph.model import Graph
from engine.storage.tables import graph_versions


@dataclass(frozen=True)
class VersionInfo:
    id: str
    graph_id: str
    label: str
    state: str
    author: str
    submitted_at: datetime
    reviewer: str | None  # who approved or rejected it
    published_at: datetime | None
    published_by: str | None = None  # who last published it (or rolled back to it)


def _info(row: Any) -> VersionInfo:
    return VersionInfo(
        row.id,
        row.graph_id,
        f"V{row.major}.{row.minor}",
        row.state,
        row.author,
        row.submitted_at,
        row.reviewer,
        row.published_at,
        row.published_by,
    )


def get_version(conn: Connection, version_id: str) -> VersionInfo:
    row = conn.execute(select(graph_versions).where(graph_versions.c.id == version_id)).first()
    if row is None:
        raise StatusFlowError(f"There is no version with id {version_id}.")
    return _info(row)


def list_versions(conn: Connection, graph_id: str) -> list[VersionInfo]:
    rows = conn.execute(
        select(graph_versions)
        .where(graph_versions.c.graph_id == graph_id)
        .order_by(graph_versions.c.major, graph_versions.c.minor)
    ).all()
    return [_info(row) for row in rows]


def find_version(conn: Connection, graph_id: str, label: str) -> VersionInfo:
    """A version of a graph by its label ("V1.0" or "1.0"), or an error listing them."""
    wanted = label.strip().upper().lstrip("V")
    for version in list_versions(conn, graph_id):
        if version.label.lstrip("V") == wanted:
            return version
    known = ", ".join(v.label for v in list_versions(conn, graph_id)) or "none yet"
    raise StatusFlowError(f"There is no version {label}. Versions: {known}.")


def version_graph(conn: Connection, version_id: str) -> Graph:
    """The graph exactly as it was frozen in a version."""
    document = conn.execute(
        select(graph_versions.c.document).where(graph_versions.c.id == version_id)
    ).scalar_one()
    return Graph.from_document(document)
