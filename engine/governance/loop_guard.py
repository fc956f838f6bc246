"""The loop guard: no version goes live that makes graphs start each other for ever.

Checked when a version is published and when a disabled graph is enabled again (its
published version rejoins the others, which may have changed meanwhile). An admin may
go ahead anyway with a reason, which the audit log keeps.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from engine import audit
from engine.analysis.loops import find_cycles
from engine.errors import StatusFlowError
from engine.governance.version_info import VersionInfo, version_graph
from engine.permissions import require


class LoopRefused(StatusFlowError):
    """Going live was refused because graphs would start each other in a loop; an
    admin may go ahead with a reason. ``cycles`` says each loop in words."""

    def __init__(self, message: str, cycles: tuple[str, ...]) -> None:
        super().__init__(message)
        self.cycles = cycles


def check_loops(
    conn: Connection,
    version: VersionInfo,
    actor: str,
    override: str | None,
    now: datetime,
    enabling: str | None = None,
) -> None:
    """Refuse a version that closes a chain of graphs triggering each other, unless an
    admin overrides with a reason (audited). ``enabling`` names the graph when it is
    switched back on: its published version rejoins the others, so the same check holds."""
    cycles = find_cycles(conn, version.graph_id, version_graph(conn, version.id))
    if not cycles:
        return
    chains = " Also: ".join(cycle.describe() for cycle in cycles[:3])
    doing, verb = (
        (f"Enabling '{enabling}'", "enable it")
        if enabling
        else (f"Publishing {version.label}", "publish")
    )
    if not override:
        raise LoopRefused(
            f"{doing} would make graphs trigger each other in a loop: "
            f"{chains}. Change one of them, or (admins) {verb} anyway with a reason.",
            tuple(cycle.describe() for cycle in cycles),
        )
    require(conn, actor, "loop.override")
    done = f"Enabled '{enabling}' ({version.label})" if enabling else f"Published {version.label}"
    audit.record(
        conn,
        actor=actor,
        action="graph.loop_override",
        object_type="graph_version",
        object_id=version.id,
        summary=f"{done} despite a loop ({chains}). Reason: {override}",
        at=now,
    )
