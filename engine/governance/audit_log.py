"""Reading the audit trail: filter it, and export it for an auditor.

This is the read side of :mod:`engine.audit`. There is deliberately no way to change
or remove an entry here; the database refuses UPDATE and DELETE on the table too.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from sqlalchemy import Connection, select

from engine.governance.users import list_users
from engine.storage.tables import audit_entries

CSV_COLUMNS = ("at", "actor", "action", "object_type", "object_id", "summary", "before", "after")


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str | None
    summary: str
    before: Any
    after: Any


def query(
    conn: Connection,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    limit: int = 1000,
) -> list[AuditEntry]:
    """Entries newest first; ``since`` is inclusive, ``until`` exclusive, ``action`` a prefix."""
    table = audit_entries.c
    statement = select(audit_entries).order_by(table.at.desc(), table.id.desc()).limit(limit)
    if since is not None:
        statement = statement.where(table.at >= since)
    if until is not None:
        statement = statement.where(table.at < until)
    if actor is not None:
        statement = statement.where(table.actor == actor)
    if action is not None:
        statement = statement.where(table.action.startswith(action, autoescape=True))
    if object_type is not None:
        statement = statement.where(table.object_type == object_type)
    if object_id is not None:
        statement = statement.where(table.object_id == object_id)
    return [AuditEntry(**row._mapping) for row in conn.execute(statement)]


@dataclass(frozen=True)
class Actor:
    """Someone who may appear in the trail: an account, or a name like "engine"."""

    name: str
    display_name: str | None  # None: not a user account


def actors(conn: Connection) -> list[Actor]:
    """Every user account (even one that has done nothing yet) and every other name
    the trail holds, by name: the choices of a "who" filter."""
    found = {user.username: Actor(user.username, user.display_name) for user in list_users(conn)}
    for name in conn.execute(select(audit_entries.c.actor).distinct()).scalars():
        found.setdefault(name, Actor(name, None))
    return sorted(found.values(), key=lambda actor: actor.name)


def to_csv(entries: list[AuditEntry], file: TextIO) -> None:
    """Write entries as CSV: times in ISO UTC, before/after as compact JSON."""
    writer = csv.writer(file)
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        writer.writerow(
            (
                entry.at.astimezone(UTC).isoformat(),
                entry.actor,
                entry.action,
                entry.object_type,
                entry.object_id or "",
                entry.summary,
                _json(entry.before),
                _json(entry.after),
            )
        )


def _json(value: Any) -> str:
    if value is None:
        return ""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
