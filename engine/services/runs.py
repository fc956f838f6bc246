"""Runs as people read and start them: a record's timeline, the run search, a start
by hand. Reading needs the "read runs" permission and starting one by hand the
publisher role, checked here for the designer and the command line alike."""

from __future__ import annotations

from typing import Any

from engine.permissions import require
from engine.runtime import timeline
from engine.runtime.run_search import FoundRun, RecordTimeline, RunQuery, load_timeline, search_runs
from engine.runtime.starts import start_manual
from engine.runtime.timeline import (
    STATE_WORDS,
    RunSummary,
    StepLine,
    format_timeline,
    parse_record_ref,
    with_attempts,
)
from engine.storage.database import Database
from engine.storage.tables import RUN_STATES

__all__ = [
    "RUN_STATES",
    "STATE_WORDS",
    "FoundRun",
    "RecordTimeline",
    "RunQuery",
    "RunSummary",
    "StepLine",
    "find_runs",
    "format_timeline",
    "load_timeline",
    "parse_record_ref",
    "record_timeline",
    "search_runs",
    "start_manual",
    "with_attempts",
]


def record_timeline(
    db: Database, actor: str, source: str, key: str
) -> list[tuple[RunSummary, list[StepLine]]]:
    """Every run of one record with its steps, oldest first."""
    with db.read() as conn:
        require(conn, actor, "runs.read")
        return timeline.record_timeline(conn, source, key)


def find_runs(db: Database, actor: str, **filters: Any) -> list[RunSummary]:
    """Runs matching every filter given (as :func:`engine.runtime.timeline.find_runs`
    takes them), newest first."""
    with db.read() as conn:
        require(conn, actor, "runs.read")
        return timeline.find_runs(conn, **filters)
