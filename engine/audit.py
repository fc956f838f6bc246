"""The audit trail: who changed what, when, with the state before and after.

Entries are written on the caller's connection, inside the transaction that makes the
change, so an audited change and its entry commit (or vanish) together. The table
refuses UPDATE and DELETE at the database level; this module only appends.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert

from engine.storage.tables import audit_entries


def record(
    conn: Connection,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | None,
    summary: str,
    before: Any = None,
    after: Any = None,
    at: datetime | None = None,
) -> None:
    """Append one audit entry; ``summary`` is the sentence people read in the audit view."""
    conn.execute(
        insert(audit_entries).values(
            at=at or datetime.now(UTC),
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            summary=summary,
            before=before,
            after=after,
        )
    )
