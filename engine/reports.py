"""The process optimisation report: where automations fail, and what that costs people.

Operations managers use it to decide what to fix first: which step fails most, whether
retrying helps or only delays the manual task, how long people take to do by hand what
an automation could not, and how much the automations do each week. The database does
the counting; only small per-group rows (and the decision times of manual tasks, for
the median) come back to Python.
"""

from __future__ import annotations

import csv
import dataclasses
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TextIO

from sqlalchemy import Connection, and_, case, func, select

from engine import analytics
from engine.analytics_report import weekly_counts
from engine.graph.model import Graph
from engine.nodes import catalogue
from engine.runtime.timeline import STATE_WORDS
from engine.storage.tables import (
    graph_versions,
    graphs,
    record_sources,
    run_steps,
    runs,
    tasks,
)

ERROR_WORDS = {
    "smtp_connect": "Could not reach the mail server",
    "smtp_auth": "The mail server refused the sign-in",
    "smtp_refused": "The mail server refused the message",
    "smtp_timeout": "The mail server did not answer in time",
    "http_connect": "Could not reach the web service",
    "http_timeout": "The web service did not answer in time",
    "http_5xx": "The web service had an error",
    "http_429": "The web service asked to slow down",
    "http_4xx": "The web service refused the request",
    "config": "A setting is missing or wrong",
    "secret_missing": "A password or token is missing",
    "template": "The message text could not be filled in",
    "lease_expired": "The engine stopped during the step",
    "internal": "An unexpected error in StatusFlow",
}
TRIGGER_GROUPS = {"status": "status", "label": "label"}  # every other trigger kind: "other"


def error_words(error_class: str | None) -> str:
    """An error class as an operations manager reads it."""
    return ERROR_WORDS.get(error_class or "", error_class or "Unknown")


@dataclass(frozen=True)
class FailureRow:
    """Failed attempts of one step; ``gave_up`` counts those after which no retry came."""

    graph: str
    node_title: str
    action_type: str
    action: str  # the action's name as the palette shows it
    error_class: str
    error: str  # the error class in words
    failed_attempts: int
    gave_up: int


@dataclass(frozen=True)
class RetryRate:
    """What became of the steps that needed at least one retry."""

    needed_retry: int
    succeeded_later: int
    handed_to_person: int
    failed: int
    still_trying: int
    stopped: int  # the run was cancelled (e.g. the status changed) before a verdict

    @property
    def rate(self) -> float | None:
        """Share (0-1) that succeeded of those that reached a verdict; None if none did."""
        decided = self.succeeded_later + self.handed_to_person + self.failed
        return self.succeeded_later / decided if decided else None


@dataclass(frozen=True)
class InterventionRow:
    """Manual compensation tasks of one graph and how long people took to decide them."""

    graph: str
    tasks: int
    decided: int
    still_open: int
    median_time: timedelta | None
    max_time: timedelta | None


@dataclass(frozen=True)
class LoopStop:
    at: datetime
    graph: str
    source: str
    record_key: str
    reason: str


@dataclass(frozen=True)
class ActionsWeek:
    """Actions executed in one week by what started their run, against the week before."""

    week: date  # the Monday the week starts on (UTC)
    status: int
    label: int
    other: int
    total: int
    change: int
    change_percent: float | None  # None when the week before had none


@dataclass(frozen=True)
class OutcomeRow:
    state: str
    outcome: str  # the state in words
    runs: int


def failures_by_node(conn: Connection, since: datetime) -> list[FailureRow]:
    """Failed attempts per graph, step and error class, most first."""
    gave_up = case((run_steps.c.kind != "retry", 1), else_=0)
    query = (
        select(
            graphs.c.name,
            runs.c.version_id,
            run_steps.c.node_id,
            run_steps.c.node_type,
            run_steps.c.error_class,
            func.count().label("attempts"),
            func.sum(gave_up).label("gave_up"),
        )
        .join(runs, runs.c.id == run_steps.c.run_id)
        .join(graphs, graphs.c.id == runs.c.graph_id)
        .where(run_steps.c.error_class.is_not(None), run_steps.c.at >= since)
        .group_by(
            graphs.c.name,
            runs.c.version_id,
            run_steps.c.node_id,
            run_steps.c.node_type,
            run_steps.c.error_class,
        )
    )
    found = conn.execute(query).all()
    titles = _node_titles(conn, {row.version_id for row in found})
    merged: dict[tuple[str, str, str, str], list[int]] = {}
    for row in found:
        title = titles.get((row.version_id, row.node_id), "A removed step")
        key = (row.name, title, row.node_type or "", row.error_class)
        counts = merged.setdefault(key, [0, 0])
        counts[0] += row.attempts
        counts[1] += int(row.gave_up or 0)
    rows = [_failure(key, counts) for key, counts in merged.items()]
    return sorted(rows, key=lambda r: (-r.failed_attempts, r.graph, r.node_title))


def _failure(key: tuple[str, str, str, str], counts: list[int]) -> FailureRow:
    graph, title, type_id, error_class = key
    node_type = catalogue.get(type_id)
    action = node_type.label if node_type else type_id
    return FailureRow(graph, title, type_id, action, error_class, error_words(error_class), *counts)


def _node_titles(conn: Connection, version_ids: set[str]) -> dict[tuple[str, str], str]:
    """Each step's canvas title in the version that ran it, by (version id, node id)."""
    if not version_ids:
        return {}
    query = select(graph_versions.c.id, graph_versions.c.document).where(
        graph_versions.c.id.in_(version_ids)
    )
    titles: dict[tuple[str, str], str] = {}
    for version_id, document in conn.execute(query):
        for node in Graph.from_stored(document).nodes:
            node_type = catalogue.get(node.type)
            titles[(version_id, node.id)] = node_type.title(node.params) if node_type else node.type
    return titles


def retry_success_rate(conn: Connection, since: datetime) -> RetryRate:
    """Of the steps retried since ``since``, how many succeeded later, went to a person,
    failed the run, are still trying, or were stopped with their run."""
    step = run_steps.c
    retried = (
        select(
            step.run_id,
            step.node_id,
            func.max(
                case((and_(step.kind != "retry", step.error_class.is_not(None)), 1), else_=0)
            ).label("gave_up"),
            func.max(
                case(
                    (
                        and_(
                            step.kind.not_in(("retry", "task", "cancel")),
                            step.error_class.is_(None),
                        ),
                        1,
                    ),
                    else_=0,
                )
            ).label("done"),
        )
        .where(step.node_id.is_not(None))
        .group_by(step.run_id, step.node_id)
        .having(func.sum(case((step.kind == "retry", 1), else_=0)) > 0)
        .having(func.min(step.at) >= since)
        .subquery()
    )
    person = (
        select(func.count())
        .where(tasks.c.run_id == retried.c.run_id, tasks.c.node_id == retried.c.node_id)
        .where(tasks.c.kind == "compensation")
        .scalar_subquery()
    )
    query = select(retried.c.gave_up, retried.c.done, person.label("person"), runs.c.state).join(
        runs, runs.c.id == retried.c.run_id
    )
    verdicts = [_verdict(row) for row in conn.execute(query)]
    return RetryRate(
        len(verdicts),
        *(verdicts.count(v) for v in ("succeeded", "person", "failed", "trying", "stopped")),
    )


def _verdict(row: Any) -> str:
    if row.person:
        return "person"
    if row.gave_up:
        return "failed"
    if row.done:
        return "succeeded"
    if row.state == "active":
        return "trying"
    return "failed" if row.state == "failed" else "stopped"


def interventions(conn: Connection, since: datetime) -> list[InterventionRow]:
    """Manual compensation tasks created since ``since``, by graph, busiest first."""
    query = (
        select(graphs.c.name, tasks.c.created_at, tasks.c.decided_at)
        .join(runs, runs.c.id == tasks.c.run_id)
        .join(graphs, graphs.c.id == runs.c.graph_id)
        .where(tasks.c.kind == "compensation", tasks.c.created_at >= since)
    )
    by_graph: dict[str, list[timedelta | None]] = {}
    for name, created, decided in conn.execute(query):
        by_graph.setdefault(name, []).append(decided - created if decided else None)
    rows = [_intervention(name, times) for name, times in by_graph.items()]
    return sorted(rows, key=lambda r: (-r.tasks, r.graph))


def _intervention(graph: str, times: list[timedelta | None]) -> InterventionRow:
    taken = [t for t in times if t is not None]
    median = (
        timedelta(seconds=statistics.median(t.total_seconds() for t in taken)) if taken else None
    )
    return InterventionRow(
        graph,
        len(times),
        len(taken),
        len(times) - len(taken),
        median,
        max(taken) if taken else None,
    )


def loop_stops(conn: Connection, since: datetime) -> list[LoopStop]:
    """Runs the loop guard stopped since ``since``, newest first."""
    query = (
        select(
            runs.c.started_at,
            graphs.c.name,
            record_sources.c.name.label("source"),
            runs.c.record_key,
            runs.c.outcome_reason,
        )
        .join(graphs, graphs.c.id == runs.c.graph_id)
        .join(record_sources, record_sources.c.id == runs.c.source_id)
        .where(runs.c.state == "stopped_loop_guard", runs.c.started_at >= since)
        .order_by(runs.c.started_at.desc(), runs.c.id)
    )
    return [
        LoopStop(row.started_at, row.name, row.source, row.record_key, row.outcome_reason or "")
        for row in conn.execute(query)
    ]


def actions_per_week(
    conn: Connection, weeks: int, now: datetime | None = None
) -> list[ActionsWeek]:
    """Actions executed per week (oldest first, this week last) by trigger kind."""
    rows = weekly_counts(conn, weeks=weeks, now=now)
    return [_week(row) for row in rows if row.event == analytics.ACTION_EXECUTED]


def _week(row: Any) -> ActionsWeek:
    groups = {"status": 0, "label": 0, "other": 0}
    for kind, count in row.by_trigger.items():
        groups[TRIGGER_GROUPS.get(kind, "other")] += count
    return ActionsWeek(
        row.week, **groups, total=row.count, change=row.change, change_percent=row.change_percent
    )


def runs_by_outcome(conn: Connection, since: datetime) -> list[OutcomeRow]:
    """Runs started since ``since`` per state, most first."""
    query = (
        select(runs.c.state, func.count().label("n"))
        .where(runs.c.started_at >= since)
        .group_by(runs.c.state)
    )
    rows = [OutcomeRow(state, STATE_WORDS[state], n) for state, n in conn.execute(query)]
    return sorted(rows, key=lambda r: (-r.runs, r.state))


def to_csv(rows: Sequence[Any], file: TextIO, kind: type | None = None) -> None:
    """Write report rows (dataclasses of one kind) as CSV, their field names as header.

    ``kind`` gives the header when there are no rows, so an empty export still says
    what it would hold. Times are ISO UTC, durations whole seconds; empty is unknown.
    """
    names = [f.name for f in dataclasses.fields(kind or rows[0])] if kind or rows else []
    writer = csv.writer(file)
    if names:
        writer.writerow(names)
    for row in rows:
        writer.writerow([_cell(getattr(row, name)) for name in names])


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    return value
