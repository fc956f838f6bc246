"""What the engine runs: the current published versions, indexed by trigger.

Versions are immutable, so a parsed version is cached for good (runs keep executing
on the version that started them, even after a rollback). The trigger index is
rebuilt only when the publish generation (bumped by publish, rollback, disable)
changes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import Connection, select

from engine.graph.model import Graph, Node
from engine.nodes import catalogue
from engine.settings import get_setting
from engine.sources.registry import SourceInfo, get_source
from engine.storage.tables import graph_versions, graphs, record_sources

PUBLISHED_GENERATION = "engine.published_generation"


@dataclass(frozen=True)
class Version:
    """One immutable version, parsed, with its graph's identity."""

    id: str
    graph_id: str
    graph_name: str
    label: str
    graph: Graph
    source: SourceInfo


@dataclass(frozen=True)
class Entry:
    """A trigger node of a current version."""

    version: Version
    node: Node
    kind: str  # status | label | created | field | schedule | manual

    @cached_property
    def params(self) -> dict[str, Any]:
        """The trigger's parameters with defaults (read for every event it may match)."""
        return catalogue.require(self.node.type).with_defaults(self.node.params)


@dataclass
class TriggerIndex:
    """Current versions' triggers by (source id, trigger kind)."""

    generation: int = -1
    entries: dict[tuple[int, str], list[Entry]] = field(default_factory=dict)

    def matching(self, source_id: int, kind: str) -> list[Entry]:
        return self.entries.get((source_id, kind), [])

    def all(self, kind: str) -> list[Entry]:
        return [e for (_, k), entries in self.entries.items() if k == kind for e in entries]

    def of_graph(self, graph_id: str) -> list[Entry]:
        return [
            e
            for entries in self.entries.values()
            for e in entries
            if e.version.graph_id == graph_id
        ]


class Versions:
    """A cache of parsed versions and the trigger index of the current ones."""

    def __init__(self) -> None:
        self._versions: dict[str, Version] = {}
        self.index = TriggerIndex()

    def get(self, conn: Connection, version_id: str) -> Version:
        version = self._versions.get(version_id)
        if version is None:
            version = self._load(conn, version_id)
            self._versions[version_id] = version
        return version

    def _load(self, conn: Connection, version_id: str) -> Version:
        row = conn.execute(
            select(
                graph_versions.c.id,
                graph_versions.c.graph_id,
                graph_versions.c.major,
                graph_versions.c.minor,
                graph_versions.c.document,
                graphs.c.name,
                record_sources.c.name.label("source"),
            )
            .join(graphs, graphs.c.id == graph_versions.c.graph_id)
            .join(record_sources, record_sources.c.id == graphs.c.source_id)
            .where(graph_versions.c.id == version_id)
        ).one()
        return Version(
            row.id,
            row.graph_id,
            row.name,
            f"V{row.major}.{row.minor}",
            Graph.from_document(row.document),
            get_source(conn, row.source),
        )

    def refresh(self, conn: Connection) -> bool:
        """Rebuild the trigger index if publishing changed anything; True if rebuilt."""
        generation = int(get_setting(conn, PUBLISHED_GENERATION, 0))
        if generation == self.index.generation:
            return False
        current = conn.execute(
            select(graphs.c.current_version_id)
            .where(graphs.c.enabled.is_(True))
            .where(graphs.c.current_version_id.is_not(None))
        ).scalars()
        entries: dict[tuple[int, str], list[Entry]] = defaultdict(list)
        for version_id in current:
            version = self.get(conn, version_id)
            for node in version.graph.triggers():
                kind = catalogue.require(node.type).trigger_kind or "manual"
                entries[(version.source.id, kind)].append(Entry(version, node, kind))
        self.index = TriggerIndex(generation, dict(entries))
        return True
