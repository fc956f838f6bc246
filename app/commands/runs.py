"""``statusflow runs`` and ``statusflow run``: read a record's timeline, find runs, start one.

Support staff answer "what happened to order 42?" with ``runs show orders:42``;
``run start`` lets a person start a graph for one record by hand.
"""

from __future__ import annotations

import argparse
from datetime import datetime, tzinfo

from app.context import Context
from engine.errors import StatusFlowError
from engine.services import runs
from engine.time_zone import moment_text

DEFAULT_LIST_LIMIT = 50


def register(sub: argparse._SubParsersAction) -> None:
    _register_runs(sub)
    parser = sub.add_parser("run", help="start a graph for one record by hand")
    run_sub = parser.add_subparsers(dest="run_command", metavar="ACTION", required=True)
    start = run_sub.add_parser("start", help="start a published graph for one record now")
    start.add_argument("graph", help="graph name or id")
    start.add_argument("--record", required=True, metavar="SOURCE:KEY", help="e.g. orders:42")
    start.set_defaults(func=start_run)


def _register_runs(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("runs", help="what the automations did to a record, and why")
    runs_sub = parser.add_subparsers(dest="runs_command", metavar="ACTION", required=True)

    show = runs_sub.add_parser("show", help="the timeline of every run of one record")
    show.add_argument("record", metavar="SOURCE:KEY", help="e.g. orders:42")
    show.set_defaults(func=show_runs)

    listing = runs_sub.add_parser("list", help="find runs, newest first")
    listing.add_argument("--graph", metavar="NAME", help="runs of this graph")
    listing.add_argument("--state", choices=runs.RUN_STATES, help="runs in this state")
    listing.add_argument("--record", metavar="SOURCE:KEY", help="runs of this record")
    listing.add_argument(
        "--search", metavar="TEXT", help="records whose shown fields contain TEXT, e.g. a name"
    )
    listing.add_argument("--since", metavar="YYYY-MM-DD", help="runs started on or after")
    listing.add_argument("--limit", type=int, default=DEFAULT_LIST_LIMIT, metavar="N")
    listing.set_defaults(func=list_runs)


def parse_day(text: str, zone: tzinfo) -> datetime:
    """Midnight starting a date typed as YYYY-MM-DD, in the organisation's ``zone``."""
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=zone)
    except ValueError:
        raise StatusFlowError(
            f"'{text}' is not a date. Write it as YYYY-MM-DD, for example 2026-01-05."
        ) from None


def show_runs(ctx: Context, args: argparse.Namespace) -> int:
    source, key = runs.parse_record_ref(args.record)
    found = runs.record_timeline(ctx.database(), ctx.actor, source, key)
    if not found:
        print(f"No automation has run for {source} {key} yet.")
    for line in runs.format_timeline(found, ctx.zone()):
        print(line)
    return 0


def list_runs(ctx: Context, args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise StatusFlowError("--limit must be 1 or more.")
    source, key = runs.parse_record_ref(args.record) if args.record else (None, None)
    since = parse_day(args.since, ctx.zone()) if args.since else None
    found = runs.find_runs(
        ctx.database(),
        ctx.actor,
        source=source,
        record_key=key,
        graph=args.graph,
        state=args.state,
        since=since,
        text=args.search,
        limit=args.limit,
    )
    if not found:
        print("No runs match.")
        return 0
    _print_table(found, ctx.zone())
    if len(found) == args.limit:
        print(f"Showing the newest {args.limit}; use --limit to see more.")
    return 0


def _print_table(found: list[runs.RunSummary], zone: tzinfo) -> None:
    header = ("STARTED", "GRAPH", "VERSION", "RECORD", "STATE")
    rows = [
        (
            moment_text(run.started_at, zone),
            run.graph_name,
            run.version_label,
            f"{run.source}:{run.record_key}",
            run.state_words,
        )
        for run in found
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header) - 1)]
    for row in (header, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]))


def start_run(ctx: Context, args: argparse.Namespace) -> int:
    source, key = runs.parse_record_ref(args.record)
    runs.start_manual(ctx.database(), args.graph, source, key, actor=ctx.actor)
    print(
        f"Started '{args.graph}' for {source} {key}; the engine carries it out when it next "
        f"runs. Follow it with 'statusflow runs show {source}:{key}'."
    )
    return 0
