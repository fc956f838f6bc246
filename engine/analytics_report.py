"""What the owners of StatusFlow read from the analytics events: use per week, adoption.

Weeks are ISO weeks in UTC (Monday 00:00 to Monday 00:00), so the numbers are the
same whoever runs the report, wherever they are. The database does the counting
(grouped by week, event, trigger and action type), so a busy year of
"action executed" rows is never loaded into memory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, case, distinct, func, select

from engine import analytics
from engine.clock import SYSTEM_CLOCK
from engine.graph.model import Graph
from engine.nodes import catalogue
from engine.storage.tables import analytics_events, graph_versions, graphs, record_sources

EVENTS = (
    analytics.GRAPH_CREATED,
    analytics.VERSION_PUBLISHED,
    analytics.RUN_STARTED,
    analytics.ACTION_EXECUTED,
    analytics.ACTION_FAILED,
)


@dataclass(frozen=True)
class WeekRow:
    """How often one event happened in one week, against the week before."""

    week: date  # the Monday the week starts on
    event: str
    count: int
    change: int  # count minus the week before's
    change_percent: float | None  # None when the week before had none
    by_trigger: Mapping[str, int]  # "status", "label"...; a multi-trigger graph counts in each
    by_action: Mapping[str, int]  # "action.send_email"...


@dataclass(frozen=True)
class Adoption:
    """How many record sources and accounts use a published status-code graph."""

    sources_total: int
    sources_with_published_status_graph: int
    accounts_total: int  # distinct people who created graphs
    accounts_with_published_status_graph: int


def weekly_counts(
    conn: Connection, *, weeks: int = 8, now: datetime | None = None
) -> list[WeekRow]:
    """Each event per week for the last ``weeks`` weeks, this (unfinished) week last."""
    starts = _week_starts(now or SYSTEM_CLOCK.now(), weeks + 1)  # one more, to compare with
    counts: Counter[tuple[int, str]] = Counter()
    triggers: dict[tuple[int, str], Counter[str]] = {}
    actions: dict[tuple[int, str], Counter[str]] = {}
    for row in conn.execute(_grouped_query(starts)):
        key = (row.week, row.name)
        counts[key] += row.n
        for kind in (row.trigger_type or "").split(","):
            if kind:
                triggers.setdefault(key, Counter())[kind] += row.n
        if row.action_type:
            actions.setdefault(key, Counter())[row.action_type] += row.n
    return [
        _row(
            starts[i],
            event,
            counts[(i, event)],
            counts[(i - 1, event)],
            triggers.get((i, event)),
            actions.get((i, event)),
        )
        for i in range(1, len(starts))
        for event in EVENTS
    ]


def totals(rows: Iterable[WeekRow], by: Literal["trigger", "action"]) -> dict[str, Counter[str]]:
    """Per event, its counts over all ``rows`` by trigger kind or by action type."""
    found: dict[str, Counter[str]] = {}
    for row in rows:
        found.setdefault(row.event, Counter()).update(
            row.by_trigger if by == "trigger" else row.by_action
        )
    return found


def adoption(conn: Connection) -> Adoption:
    """Sources and accounts (graph creators) with a published status-code graph."""
    published = conn.execute(
        select(graphs.c.source_id, graphs.c.created_by, graph_versions.c.document).join(
            graph_versions, graph_versions.c.id == graphs.c.current_version_id
        )
    ).all()
    using = [row for row in published if _starts_on_status(row.document)]
    return Adoption(
        sources_total=conn.execute(select(func.count()).select_from(record_sources)).scalar_one(),
        sources_with_published_status_graph=len(
            {r.source_id for r in using if r.source_id is not None}
        ),
        accounts_total=conn.execute(select(func.count(distinct(graphs.c.created_by)))).scalar_one(),
        accounts_with_published_status_graph=len({r.created_by for r in using if r.created_by}),
    )


def _week_starts(now: datetime, weeks: int) -> list[datetime]:
    """The Mondays (00:00 UTC) of the last ``weeks`` weeks, oldest first, ending with now's."""
    day = now.astimezone(UTC).date()
    monday = datetime.combine(day - timedelta(days=day.weekday()), datetime.min.time(), UTC)
    return [monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def _grouped_query(starts: list[datetime]) -> Any:
    """Event counts grouped by week number (0 = the oldest week), event and types.

    The week is worked out in a subquery: PostgreSQL does not see two copies of an
    expression with bound values as the same, so grouping by it directly fails.
    """
    at = analytics_events.c.at
    week = case(*((at < start, i) for i, start in enumerate(starts[1:])), else_=len(starts) - 1)
    events = (
        select(
            week.label("week"),
            analytics_events.c.name,
            analytics_events.c.trigger_type,
            analytics_events.c.action_type,
        )
        .where(at >= starts[0], at < starts[-1] + timedelta(weeks=1))
        .where(analytics_events.c.name.in_(EVENTS))
        .subquery()
    )
    columns = (events.c.week, events.c.name, events.c.trigger_type, events.c.action_type)
    return select(*columns, func.count().label("n")).group_by(*columns)


def _row(
    monday: datetime,
    event: str,
    count: int,
    before: int,
    by_trigger: Counter[str] | None,
    by_action: Counter[str] | None,
) -> WeekRow:
    percent = round(100 * (count - before) / before, 1) if before else None
    return WeekRow(
        monday.date(),
        event,
        count,
        count - before,
        percent,
        dict(by_trigger or {}),
        dict(by_action or {}),
    )


def _starts_on_status(document: Any) -> bool:
    graph = Graph.from_document(document)
    return any(_trigger_kind(node.type) == "status" for node in graph.triggers())


def _trigger_kind(type_id: str) -> str | None:
    node_type = catalogue.get(type_id)
    return node_type.trigger_kind if node_type else None
