"""Publishing from the designer, with a refusal caused by a loop told apart.

The publish service refuses a version that would make graphs trigger each other in a
loop. Only that refusal may be overridden, by an admin, with a reason kept in the audit
log; so the panel must know it from the others (a permission, a wrong state).
"""

from __future__ import annotations

from designer.diff_view import version_graph
from engine.analysis.loops import find_cycles
from engine.errors import StatusFlowError
from engine.governance import versions
from engine.governance.permissions import PermissionDenied
from engine.storage.database import Database


class LoopRefused(StatusFlowError):
    """Publishing was refused because graphs would trigger each other in a loop."""


def publish(db: Database, actor: str, version_id: str, reason: str | None) -> versions.VersionInfo:
    """Publish; a refusal caused by a loop is told apart so an admin can override it."""
    try:
        return versions.publish(db, version_id, actor=actor, override_loop=reason)
    except PermissionDenied:
        raise
    except StatusFlowError as refused:
        if reason is None and _closes_loop(db, version_id):
            raise LoopRefused(str(refused)) from refused
        raise


def _closes_loop(db: Database, version_id: str) -> bool:
    with db.read() as conn:
        version = versions.get_version(conn, version_id)
        return bool(find_cycles(conn, version.graph_id, version_graph(conn, version_id)))
