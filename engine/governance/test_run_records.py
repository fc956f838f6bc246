"""The record a test run plays against: one of the graph's source, or one pasted as JSON.

People pick a record by what they know of it, so each is offered with its display
columns ("7 – Anna Costa – anna.costa@example.com"). A pasted record is checked here,
and what is wrong with it is said in words a person can act on (where the JSON breaks).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from engine.errors import StatusFlowError
from engine.graphs import find_graph
from engine.runtime.records import RecordStore
from engine.sources import registry, status_codes
from engine.sources.registry import SourceInfo
from engine.sources.status_codes import StatusCode
from engine.storage.database import Database

RECORD_LIMIT = 200
PASTE_HINT = (
    '{"id": 999, "customer_name": "Test Person", "email": "t@example.com", "status": "NEW"}'
)


@dataclass(frozen=True)
class RecordChoices:
    """What a test run of one graph can use: its source, status codes and records."""

    source: SourceInfo
    codes: list[StatusCode]
    records: list[tuple[str, str]]  # (key, "7 – Anna Costa – anna.costa@example.com")


def record_label(source: SourceInfo, record: dict[str, Any]) -> str:
    """A record as a person recognises it: its display columns, joined by dashes."""
    columns = source.display_columns or (source.key_column,)
    parts = [str(record[c]) for c in columns if record.get(c) not in (None, "")]
    return " – ".join(parts)


def record_choices(db: Database, graph_name: str, limit: int = RECORD_LIMIT) -> RecordChoices:
    """The first ``limit`` records of the graph's source, labelled, with its status codes."""
    store = RecordStore()
    with db.read() as conn:
        summary = find_graph(conn, graph_name)
        if summary.source is None:
            raise StatusFlowError(
                f"'{summary.name}' does not watch any records yet. Choose a record type "
                "in its trigger, save, then test it."
            )
        source = registry.get_source(conn, summary.source)
        records = [
            (key, record_label(source, store.read(conn, source, key) or {}))
            for key in store.first_keys(conn, source, limit)
        ]
        return RecordChoices(source, status_codes.list_codes(conn, source.name), records)


def parse_record(text: str) -> dict[str, Any]:
    """A pasted record, or an error saying what to fix in it."""
    if not text.strip():
        raise StatusFlowError(f"Paste a record as JSON first, for example {PASTE_HINT}.")
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise StatusFlowError(
            f"The pasted record is not valid JSON ({error.msg} at line {error.lineno}, "
            f"column {error.colno}). Check the quotes, commas and braces there, then run "
            "the test again."
        ) from None
    if not isinstance(record, dict):
        raise StatusFlowError(
            f"The pasted record must be one JSON object in braces, for example {PASTE_HINT}."
        )
    return record
