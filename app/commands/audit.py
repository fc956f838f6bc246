"""``statusflow audit``: who changed what and when, as a table or a CSV file."""

from __future__ import annotations

import argparse
from datetime import date, datetime, time, timedelta
from pathlib import Path

from app.context import Context
from engine.services import audit
from engine.time_zone import moment_text


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("audit", help="show or export the audit log")
    parser.add_argument("--since", type=_day, metavar="YYYY-MM-DD", help="from this day")
    parser.add_argument(
        "--until", type=_day, metavar="YYYY-MM-DD", help="up to and including this day"
    )
    parser.add_argument("--user", metavar="USER", help="only what this user did")
    parser.add_argument("--action", metavar="PREFIX", help='e.g. "graph." or "user.add"')
    parser.add_argument("--limit", type=int, default=1000, help="at most this many (newest)")
    parser.add_argument("--csv", type=Path, metavar="FILE", help="write CSV to FILE instead")
    parser.set_defaults(func=show_audit)


def _day(value: str) -> date:
    """A day typed as YYYY-MM-DD; argparse shows the refusal sentence."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{value}' is not a date; write it as YYYY-MM-DD, for example 2026-01-31."
        ) from None


def show_audit(ctx: Context, args: argparse.Namespace) -> int:
    zone = ctx.zone()  # days are the organisation's days

    def start(day: date) -> datetime:
        return datetime.combine(day, time(), tzinfo=zone)

    since = start(args.since) if args.since else None
    until = start(args.until + timedelta(days=1)) if args.until else None
    entries = audit.read_audit(
        ctx.database(),
        ctx.actor,
        since=since,
        until=until,
        actor=args.user,
        action=args.action,
        limit=args.limit,
    )
    if args.csv:
        with args.csv.open("w", newline="", encoding="utf-8") as file:
            audit.to_csv(entries, file)
        count = f"{len(entries)} audit {'entry' if len(entries) == 1 else 'entries'}"
        print(f"Wrote {count} to {args.csv}.")
        return 0
    if not entries:
        print("No audit entries match.")
    for entry in entries:
        when = moment_text(entry.at, zone, seconds=True)
        print(f"{when}  {entry.actor:<14} {entry.action:<18} {entry.summary}")
    return 0
