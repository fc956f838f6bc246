"""The read side of runs: what happened to a record, and why an action did or did not run.

Support staff look a record up by its key or by what they know of it (a customer's
name), so runs can be found by the record's display fields. Those live in the host's
own table, which the runs table cannot join generically; each source's table is
reflected and its matching keys become a subquery, compared as text exactly as the
event triggers wrote the record key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Text,
    and_,
    cast,
    false,
    func,
    or_,
    select,
)

from engine.errors import StatusFlowError
from engine.graphs import find_graph
from engine.runtime.runs import OUTCOME_WORDS
from engine.sources.hosts import hosts
from engine.sources.introspection import reflect_table
from engine.sources.registry import SourceInfo, get_source
from engine.storage.tables import (
    RUN_STATES,
    graph_versions,
    graphs,
    record_sources,
    run_steps,
    runs,
)
from engine.time_zone import moment_text

STATE_WORDS = {"active": "Still running", **OUTCOME_WORDS}
LIKE_ESCAPE = "\\"


@dataclass(frozen=True)
class RunSummary:
    """One run as a timeline heading or a list row shows it."""

    id: str
    graph_name: str
    version_label: str
    source: str
    record_key: str
    state: str
    outcome_reason: str | None
    started_at: datetime
    finished_at: datetime | None
    started_by: str | None

    @property
    def state_words(self) -> str:
        return STATE_WORDS[self.state]


@dataclass(frozen=True)
class StepLine:
    """One line of a run's timeline."""

    at: datetime
    kind: str
    summary: str
    node_id: str | None
    node_type: str | None
    attempt: int | None
    error_class: str | None
    error: str | None
    detail: dict[str, Any] | None


def parse_record_ref(ref: str) -> tuple[str, str]:
    """``orders:42`` as (source, key); people type records this way on the command line."""
    source, _, key = ref.partition(":")
    if not source.strip() or not key.strip():
        raise StatusFlowError(
            f"'{ref}' does not name a record. Write the record as SOURCE:KEY, "
            "for example orders:42."
        )
    return source.strip(), key.strip()


def _runs_query() -> Select[Any]:
    return (
        select(
            runs,
            graphs.c.name.label("graph_name"),
            graph_versions.c.major,
            graph_versions.c.minor,
            record_sources.c.name.label("source_name"),
        )
        .join(graphs, graphs.c.id == runs.c.graph_id)
        .join(graph_versions, graph_versions.c.id == runs.c.version_id)
        .join(record_sources, record_sources.c.id == runs.c.source_id)
    )


def _summary(row: Any) -> RunSummary:
    return RunSummary(
        id=row.id,
        graph_name=row.graph_name,
        version_label=f"V{row.major}.{row.minor}",
        source=row.source_name,
        record_key=row.record_key,
        state=row.state,
        outcome_reason=row.outcome_reason,
        started_at=row.started_at,
        finished_at=row.finished_at,
        started_by=row.started_by,
    )


def _lowercase(conn: Connection) -> Callable[[ColumnElement[Any]], ColumnElement[Any]]:
    """SQL lower-casing that folds accented letters too (SQLite's lower() is ASCII only)."""
    if conn.dialect.name != "sqlite":
        return func.lower
    conn.connection.driver_connection.create_function(  # type: ignore[union-attr]
        "sf_lower", 1, lambda v: v.lower() if isinstance(v, str) else v, deterministic=True
    )
    return func.sf_lower


def _keys_matching(conn: Connection, source: SourceInfo, text: str) -> Select[Any] | list[str]:
    """Keys (as text) of the source's records whose display fields contain ``text``: a
    subquery, or for a host database of its own the keys read there."""
    if source.host_url:
        with hosts.connect(conn, source) as host:
            return [str(key) for key in host.scalars(_matching(host, source, text))]
    return _matching(conn, source, text)


def _matching(conn: Connection, source: SourceInfo, text: str) -> Select[Any]:
    table = reflect_table(conn, source.table)
    lower = _lowercase(conn)
    escaped = text.lower()
    for special in (LIKE_ESCAPE, "%", "_"):
        escaped = escaped.replace(special, LIKE_ESCAPE + special)
    pattern = f"%{escaped}%"
    found = [
        lower(cast(table.c[column], Text)).like(pattern, escape=LIKE_ESCAPE)
        for column in source.display_columns
    ]
    return select(cast(table.c[source.key_column], Text)).where(or_(false(), *found))


def _text_filter(conn: Connection, text: str, source: str | None) -> ColumnElement[bool]:
    names = [source] if source else conn.scalars(select(record_sources.c.name)).all()
    per_source = [
        and_(runs.c.source_id == info.id, runs.c.record_key.in_(_keys_matching(conn, info, text)))
        for info in (get_source(conn, name) for name in names)
    ]
    return or_(false(), *per_source)


def _check_state(state: str) -> None:
    if state not in RUN_STATES:
        raise StatusFlowError(f"'{state}' is not a run state. Use one of: {', '.join(RUN_STATES)}.")


def find_runs(
    conn: Connection,
    *,
    source: str | None = None,
    record_key: str | None = None,
    graph: str | None = None,
    state: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    text: str | None = None,
    limit: int | None = 200,
) -> list[RunSummary]:
    """Runs matching every filter given, newest first."""
    query = _runs_query().order_by(runs.c.started_at.desc(), runs.c.id).limit(limit)
    if source is not None:
        query = query.where(runs.c.source_id == get_source(conn, source).id)
    if record_key is not None:
        query = query.where(runs.c.record_key == record_key)
    if graph is not None:
        query = query.where(runs.c.graph_id == find_graph(conn, graph).id)
    if state is not None:
        _check_state(state)
        query = query.where(runs.c.state == state)
    if since is not None:
        query = query.where(runs.c.started_at >= since)
    if until is not None:
        query = query.where(runs.c.started_at < until)
    if text:
        query = query.where(_text_filter(conn, text, source))
    return [_summary(row) for row in conn.execute(query)]


def _step(row: Any) -> StepLine:
    return StepLine(
        at=row.at,
        kind=row.kind,
        summary=row.summary,
        node_id=row.node_id,
        node_type=row.node_type,
        attempt=row.attempt,
        error_class=row.error_class,
        error=row.error,
        detail=row.detail,
    )


def record_timeline(
    conn: Connection, source: str, record_key: str
) -> list[tuple[RunSummary, list[StepLine]]]:
    """Every run of one record, oldest first, each with its steps in order."""
    source_id = get_source(conn, source).id
    rows = conn.execute(
        _runs_query()
        .where(runs.c.source_id == source_id)
        .where(runs.c.record_key == record_key)
        .order_by(runs.c.started_at, runs.c.id)
    ).all()
    found = [_summary(row) for row in rows]
    steps: dict[str, list[StepLine]] = {run.id: [] for run in found}
    if found:
        query = select(run_steps).where(run_steps.c.run_id.in_(list(steps)))
        for row in conn.execute(query.order_by(run_steps.c.id)):
            steps[row.run_id].append(_step(row))
    return [(run, steps[run.id]) for run in found]


def format_heading(run: RunSummary, zone: tzinfo = UTC) -> str:
    by = f" by {run.started_by}" if run.started_by else ""
    return (
        f"Run of '{run.graph_name}' {run.version_label} — {run.state_words}, "
        f"started {moment_text(run.started_at, zone)}{by}"
    )


def _format_step(step: StepLine, day: date, zone: tzinfo) -> list[str]:
    """A step's line (deeper for a failed attempt), plus its error when not already said."""
    at = step.at.astimezone(zone)
    when = f"{at:%H:%M:%S}" if at.date() == day else f"{at:%Y-%m-%d %H:%M:%S}"
    indent = "      " if step.kind == "retry" else "  "
    lines = [f"{indent}{when}  {step.summary}"]
    if step.error and step.error not in step.summary:
        lines.append(f"{indent}{' ' * len(when)}  The error was: {step.error}")
    return lines


def with_attempts(steps: list[StepLine]) -> list[tuple[int, list[int]]]:
    """Step indexes in order, each with the failed attempts that came before it on its node.

    People read a retry under the step it retried, not wherever it happened to fall.
    Attempts not followed by a step of their node (still retrying, or the run was
    cancelled meanwhile) stay where they happened.
    """
    grouped: list[tuple[int, list[int]]] = []
    held: list[int] = []
    for index, step in enumerate(steps):
        if step.kind == "retry":
            held.append(index)
            continue
        node = step.node_id
        grouped += [(other, []) for other in held if steps[other].node_id != node]
        grouped.append((index, [mine for mine in held if steps[mine].node_id == node]))
        held = []
    return grouped + [(attempt, []) for attempt in held]


def _step_lines(steps: list[StepLine], day: date, zone: tzinfo) -> list[str]:
    """Steps in order, except that failed attempts follow the step they retried."""
    lines: list[str] = []
    for index, attempts in with_attempts(steps):
        for shown in (index, *attempts):
            lines.extend(_format_step(steps[shown], day, zone))
    return lines


def format_timeline(
    timeline: list[tuple[RunSummary, list[StepLine]]], zone: tzinfo = UTC
) -> list[str]:
    """Plain-text lines for the command line: a heading per run, its steps under it.

    Times are in the organisation's ``zone``, named in each heading; a step on another
    day than the run started shows its date.
    """
    lines: list[str] = []
    for run, steps in timeline:
        if lines:
            lines.append("")
        lines.append(format_heading(run, zone))
        lines.extend(_step_lines(steps, run.started_at.astimezone(zone).date(), zone))
    return lines
