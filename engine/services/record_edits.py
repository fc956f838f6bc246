"""Changing a record by hand, as the host application would: status and labels.

The designer's Records panel writes the organisation's real records on a shared
database, so these writes are not a free-for-all: only someone allowed
``records.edit`` may make them, a status must be one of the source's codes when the
source has a catalogue, and each change is audited in the same transaction as the
write. The write carries no run id, so the engine treats it like the host's own change
and reacts to it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from engine import audit
from engine.errors import StatusFlowError
from engine.permissions import allowed, require
from engine.runtime.records import RecordStore
from engine.sources.registry import SourceInfo, get_source
from engine.sources.status_codes import list_codes
from engine.storage.database import Database

REACTING = "the engine will react in a moment."
CODES_NAMED = 3  # how many valid codes a refusal names


def may_edit(db: Database, actor: str) -> bool:
    """Whether ``actor`` may change records by hand (the panel hides what they may not)."""
    with db.read() as conn:
        return allowed(conn, actor, "records.edit")


def change_status(db: Database, source_name: str, key: str, code: str, *, actor: str) -> str:
    """Set the record's status; returns the sentence saying what happened."""
    code = code.strip()
    if not code:
        raise StatusFlowError("Choose the new status first.")
    with db.write() as conn:
        require(conn, actor, "records.edit")
        source = get_source(conn, source_name)
        _check_code(conn, source, code)
        store = RecordStore()
        before = _record(conn, store, source, key)[source.status_column]
        if str(before) == code:
            return f"Record {key} is in {code} already; nothing changed."
        store.write_fields(conn, source, key, {source.status_column: code}, run_id=None)
        was = "no status" if before is None else before
        audit.record(
            conn,
            actor=actor,
            action="record.status",
            object_type="record",
            object_id=f"{source_name} {key}",
            summary=f"Changed the status of {source_name} {key} from {was} to {code} by hand.",
            before={"status": before},
            after={"status": code},
        )
    return f"Status changed: {REACTING}"


def apply_label(db: Database, source_name: str, key: str, label: str, *, actor: str) -> str:
    """Add a label to the record; returns the sentence saying what happened."""
    label = label.strip()
    if not label:
        raise StatusFlowError("Type or choose a label first, for example VIP.")
    with db.write() as conn:
        require(conn, actor, "records.edit")
        source = get_source(conn, source_name)
        store = RecordStore()
        _record(conn, store, source, key)
        before = store.labels(conn, source, key)
        if not store.set_label(conn, source, key, label, present=True, run_id=None):
            return f"Record {key} has the label '{label}' already; nothing changed."
        audit.record(
            conn,
            actor=actor,
            action="record.label",
            object_type="record",
            object_id=f"{source_name} {key}",
            summary=f"Applied the label '{label}' to {source_name} {key} by hand.",
            before={"labels": before},
            after={"labels": sorted([*before, label])},
        )
    return f"Label applied: {REACTING}"


def _check_code(conn: Connection, source: SourceInfo, code: str) -> None:
    """Refuse a code the source's catalogue does not hold (any code, without one)."""
    codes = [status.code for status in list_codes(conn, source.name)]
    if codes and code not in codes:
        *first, last = codes[:CODES_NAMED]
        some = f"{', '.join(first)} or {last}" if first else last
        raise StatusFlowError(
            f"'{code}' is not a status code of {source.name}; choose one of its codes, "
            f"such as {some}."
        )


def _record(conn: Connection, store: RecordStore, source: SourceInfo, key: str) -> dict[str, Any]:
    record = store.read(conn, source, key)
    if record is None:
        raise StatusFlowError(f"Record {key} no longer exists in {source.name}; refresh the list.")
    return record
