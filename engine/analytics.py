"""Product analytics: what the owners of StatusFlow measure, one row per event.

Events are written in the same transaction as the change they describe, so a
counted "version published" is a version that really was published.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert

from engine.clock import SYSTEM_CLOCK, Clock
from engine.storage.tables import analytics_events

GRAPH_CREATED = "graph_created"
VERSION_PUBLISHED = "version_published"
RUN_STARTED = "run_started"
ACTION_EXECUTED = "action_executed"
ACTION_FAILED = "action_failed"


def record(conn: Connection, event: dict[str, Any]) -> None:
    """Store one event (a ``row``)."""
    conn.execute(insert(analytics_events), event)


def row(
    name: str,
    *,
    source_id: int | None = None,
    graph_id: str | None = None,
    trigger_type: str | None = None,
    action_type: str | None = None,
    properties: dict[str, Any] | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> dict[str, Any]:
    """One event as a row, for callers that insert many at once (the engine)."""
    return {
        "at": clock.now(),
        "name": name,
        "source_id": source_id,
        "graph_id": graph_id,
        "trigger_type": trigger_type,
        "action_type": action_type,
        "properties": properties,
    }
