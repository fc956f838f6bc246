"""The designer's link to the database: who is signed in, and the engine services.

Widgets never talk SQL. They call these methods, which call engine services; slow
ones run off the GUI thread through :mod:`designer.worker`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from engine import graphs
from engine.graph.context import ValidationContext
from engine.graph.model import Graph
from engine.graphs import GraphSummary
from engine.secrets import SecretStore
from engine.services import records
from engine.services.database import Database
from engine.settings import organisation_zone
from engine.sources import registry


@dataclass
class Session:
    """A signed-in user working on one database."""

    db: Database
    actor: str
    secrets: SecretStore = field(default_factory=SecretStore)

    def time_zone(self) -> tzinfo:
        with self.db.read() as conn:
            return organisation_zone(conn)

    def list_graphs(self) -> list[GraphSummary]:
        return graphs.list_graphs(self.db)

    def source_names(self) -> list[str]:
        return [source.name for source in registry.list_sources(self.db)]

    def open_graph(self, name_or_id: str) -> Graph:
        with self.db.read() as conn:
            return graphs.load_draft(conn, graphs.find_graph(conn, name_or_id).id)

    def save(self, graph: Graph, stored: bool) -> GraphSummary:
        """Save the draft: a new graph the first time, the same graph afterwards."""
        if stored:
            return graphs.save_draft(self.db, graph.id, graph.to_document(), actor=self.actor)
        return graphs.create_graph(self.db, graph.to_document(), actor=self.actor)

    def context(self, source: str | None) -> ValidationContext:
        with self.db.read() as conn:
            return graphs.validation_context(conn, source)

    def sample_record(self, source: str | None) -> dict[str, Any] | None:
        """One record of the source, for previews (the lowest key)."""
        return None if source is None else records.sample_record(self.db, source)
