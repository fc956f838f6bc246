"""Reading the audit log: who did what, for publishers and admins."""

from __future__ import annotations

from typing import Any

from engine.governance import audit_log
from engine.governance.audit_log import Actor, AuditEntry, to_csv
from engine.permissions import require
from engine.storage.database import Database

__all__ = ["Actor", "AuditEntry", "audit_page", "read_audit", "to_csv"]


def read_audit(db: Database, reader: str, **filters: Any) -> list[AuditEntry]:
    """Entries matching ``filters`` (as :func:`engine.governance.audit_log.query` takes
    them), newest first; ``reader`` needs the "read the audit log" permission."""
    with db.read() as conn:
        require(conn, reader, "audit.read")
        return audit_log.query(conn, **filters)


def audit_page(db: Database, reader: str, **filters: Any) -> tuple[list[AuditEntry], list[Actor]]:
    """The designer's audit panel: the entries matching ``filters`` (as
    :func:`engine.governance.audit_log.query` takes them, ``actor`` among them) and
    everyone who acted; ``reader`` is the person looking."""
    with db.read() as conn:
        require(conn, reader, "audit.read")
        return audit_log.query(conn, **filters), audit_log.actors(conn)
