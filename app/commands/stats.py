"""``statusflow stats``: how StatusFlow is used, week by week, for the people who own it.

The numbers come from ``engine.analytics_report``; this module only lays them out
as tables a person reads in a terminal.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Literal

from app.context import Context
from engine import analytics
from engine.analytics_report import Adoption, WeekRow, adoption, totals, weekly_counts
from engine.errors import StatusFlowError
from engine.nodes import catalogue
from engine.nodes.spec import Category

DEFAULT_WEEKS = 8
HEADINGS = {
    analytics.GRAPH_CREATED: "GRAPHS CREATED",
    analytics.VERSION_PUBLISHED: "VERSIONS PUBLISHED",
    analytics.RUN_STARTED: "RUNS STARTED",
    analytics.ACTION_EXECUTED: "ACTIONS DONE",
    analytics.ACTION_FAILED: "ACTIONS FAILED",
}


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("stats", help="how StatusFlow is used, week by week")
    parser.add_argument(
        "--weeks", type=int, default=DEFAULT_WEEKS, metavar="N", help="how many weeks to show"
    )
    parser.set_defaults(func=show_stats)


def show_stats(ctx: Context, args: argparse.Namespace) -> int:
    if args.weeks < 1:
        raise StatusFlowError("--weeks must be 1 or more.")
    with ctx.database().read() as conn:
        rows = weekly_counts(conn, weeks=args.weeks)
        used = adoption(conn)
    print("Use per week (UTC, weeks start on Monday; the last week is so far)")
    _print_table(_weekly_table(rows))
    _print_breakdown(rows, "trigger", "TRIGGER", _trigger_words)
    _print_breakdown(rows, "action", "ACTION", _action_words)
    print()
    for line in _adoption_lines(used):
        print(line)
    return 0


def _weekly_table(rows: list[WeekRow]) -> list[Sequence[str]]:
    by_week: dict[str, dict[str, str]] = {}
    for row in rows:
        by_week.setdefault(f"{row.week:%Y-%m-%d}", {})[row.event] = _cell(row)
    header = ("WEEK OF", *HEADINGS.values())
    return [header, *((week, *(cells[e] for e in HEADINGS)) for week, cells in by_week.items())]


def _cell(row: WeekRow) -> str:
    """'12 (+3, +33%)'; '2 (+2)' after a week with none; '0' for two quiet weeks."""
    if row.count == row.change == 0:
        return "0"
    percent = "" if row.change_percent is None else f", {row.change_percent:+.0f}%"
    return f"{row.count} ({row.change:+d}{percent})"


def _print_breakdown(
    rows: list[WeekRow],
    by: Literal["trigger", "action"],
    title: str,
    words: Callable[[str], str],
) -> None:
    """Totals over the whole window: one line per trigger kind (or action type)."""
    found = totals(rows, by)
    events = [e for e in HEADINGS if found.get(e)]
    kinds = sorted({kind for e in events for kind in found[e]}, key=words)
    if not kinds:
        return
    print(f"\nBy {title.lower()}, all {len({r.week for r in rows})} weeks together")
    table = [(title, *(HEADINGS[e] for e in events))]
    table += [(words(kind), *(str(found[e][kind]) for e in events)) for kind in kinds]
    _print_table(table)


def _trigger_words(kind: str) -> str:
    """The palette name of a trigger kind: 'status' → 'Status becomes'."""
    names = (t.label for t in catalogue.by_category(Category.TRIGGER) if t.trigger_kind == kind)
    return next(names, kind)


def _action_words(type_id: str) -> str:
    node_type = catalogue.get(type_id)
    return node_type.label if node_type else type_id


def _adoption_lines(used: Adoption) -> list[str]:
    return [
        "Adoption: published graphs that start when a record gets a status",
        "  Record sources with one: "
        + _share(used.sources_with_published_status_graph, used.sources_total),
        "  Graph creators with one: "
        + _share(used.accounts_with_published_status_graph, used.accounts_total),
    ]


def _share(part: int, whole: int) -> str:
    return f"{part} of {whole} ({100 * part / whole:.0f}%)" if whole else "0 of 0"


def _print_table(rows: Sequence[Sequence[str]]) -> None:
    """Columns padded to their widest cell; the last column is not padded."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [text.ljust(width) for text, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]))
