"""Finding runs the way support staff ask, and reading one record's whole timeline.

People know a record by its key or by what it shows (a customer's name), so every run
found comes with the record described in words, and a record's timeline comes with the
version each run used, so the designer can mark a run's path on that version's canvas.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from engine.permissions import require
from engine.runtime.records import RecordStore
from engine.runtime.runs import get_run
from engine.runtime.timeline import RunSummary, StepLine, find_runs, record_timeline
from engine.sources.registry import SourceInfo, get_source
from engine.storage.database import Database


@dataclass(frozen=True)
class RunQuery:
    """What a person searched for; empty parts do not filter."""

    text: str = ""
    graph_id: str | None = None
    state: str | None = None
    since: datetime | None = None


@dataclass(frozen=True)
class FoundRun:
    run: RunSummary
    record: str  # the record as people know it: "orders 42 — Anna Berg, …"


@dataclass(frozen=True)
class RecordTimeline:
    """Every run of one record, and the version each ran, for the canvas."""

    source: str
    key: str
    record: str
    runs: list[tuple[RunSummary, list[StepLine]]]
    versions: dict[str, tuple[str, str]]  # run id → (graph id, version id)

    @property
    def active(self) -> bool:
        return any(run.state == "active" for run, _ in self.runs)

    def path(self, run_id: str) -> tuple[str, str, list[str]]:
        """The run's graph, version and the steps it went through, in order."""
        steps = next(steps for run, steps in self.runs if run.id == run_id)
        nodes = dict.fromkeys(step.node_id for step in steps if step.node_id)
        return (*self.versions[run_id], list(nodes))


def describe_record(source: SourceInfo, key: str, record: Mapping[str, Any] | None) -> str:
    """The record as people know it, by its display fields: "orders 42 — Anna Berg, …"."""
    if record is None:
        return f"{source.name} {key} (no longer in the table)"
    shown = [
        str(record[column])
        for column in source.display_columns
        if column != source.key_column and record.get(column) not in (None, "")
    ]
    return f"{source.name} {key}" + (f" — {', '.join(shown)}" if shown else "")


def record_labels(
    conn: Connection, records: Iterable[tuple[SourceInfo, str]]
) -> dict[tuple[str, str], str]:
    """Each (source name, key) described by its display fields, each record read once."""
    store = RecordStore()
    unique = {(source.name, key): (source, key) for source, key in records}
    return {
        name_and_key: describe_record(source, key, store.read(conn, source, key))
        for name_and_key, (source, key) in unique.items()
    }


def search_runs(db: Database, actor: str, query: RunQuery) -> list[FoundRun]:
    """Runs whose record key is the text or whose display fields contain it, newest first
    (``actor`` needs the "read runs" permission)."""
    filters: dict[str, Any] = {"graph": query.graph_id, "state": query.state, "since": query.since}
    with db.read() as conn:
        require(conn, actor, "runs.read")
        found = find_runs(conn, text=query.text or None, **filters)
        if query.text:
            seen = {run.id for run in found}
            by_key = find_runs(conn, record_key=query.text, **filters)
            found += [run for run in by_key if run.id not in seen]
            found.sort(key=lambda run: run.started_at, reverse=True)
        sources = {name: get_source(conn, name) for name in {run.source for run in found}}
        labels = record_labels(conn, ((sources[run.source], run.record_key) for run in found))
    return [FoundRun(run, labels[(run.source, run.record_key)]) for run in found]


def load_timeline(db: Database, actor: str, source: str, key: str) -> RecordTimeline:
    """Every run of the record with its steps, the record in words and each run's version
    (``actor`` needs the "read runs" permission)."""
    with db.read() as conn:
        require(conn, actor, "runs.read")
        info = get_source(conn, source)
        runs = record_timeline(conn, source, key)
        versions = {}
        for run, _ in runs:
            row = get_run(conn, run.id)
            versions[run.id] = (row.graph_id, row.version_id)
        record = describe_record(info, key, RecordStore().read(conn, info, key))
    return RecordTimeline(source, key, record, runs, versions)
