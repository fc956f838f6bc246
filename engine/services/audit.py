"""Reading the audit log: who did what, for publishers and admins."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.governance import audit_log
from engine.governance.audit_log import Actor, AuditEntry, to_csv
from engine.permissions import require
from engine.storage.database import Database

__all__ = ["Actor", "AuditEntry", "audit_page", "read_audit", "to_csv"]


def read_audit(
    db: Database,
    actor: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    user: str | None = None,
    action: str | None = None,
    limit: int = 1000,
) -> list[AuditEntry]:
    """Entries matching every filter given, newest first; needs the "read the audit
    log" permission (publishers and admins)."""
    with db.read() as conn:
        require(conn, actor, "audit.read")
        return audit_log.query(
            conn, since=since, until=until, actor=user, action=action, limit=limit
        )


def audit_page(db: Database, reader: str, **filters: Any) -> tuple[list[AuditEntry], list[Actor]]:
    """The designer's audit panel: the entries matching ``filters`` (as
    :func:`engine.governance.audit_log.query` takes them, ``actor`` among them) and
    everyone who acted; ``reader`` is the person looking."""
    with db.read() as conn:
        require(conn, reader, "audit.read")
        return audit_log.query(conn, **filters), audit_log.actors(conn)
