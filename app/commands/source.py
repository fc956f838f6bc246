"""``statusflow source``: register business tables and their status codes."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.context import Context
from engine.sources import readiness, registry, status_codes

NOT_READY = 3  # 'statusflow source check': something is missing (scripts test for it)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("source", help="register business tables (record sources)")
    source_sub = parser.add_subparsers(dest="source_command", metavar="ACTION", required=True)

    add = source_sub.add_parser("add", help="watch a table's status changes")
    add.add_argument("name", help="short name, e.g. orders")
    add.add_argument("--table", required=True, help="the business table")
    add.add_argument("--key", required=True, help="its key column")
    add.add_argument("--status", required=True, help="its status column")
    add.add_argument("--labels", metavar="TABLE", help="a table of labels per record")
    add.add_argument("--label-key-column", help="the label table's record column")
    add.add_argument("--label-column", default="label", help="the label table's label column")
    add.add_argument(
        "--display", nargs="+", default=(), metavar="COLUMN", help="columns shown to people"
    )
    add.add_argument(
        "--watch", nargs="+", default=(), metavar="COLUMN", help="columns for 'field changed'"
    )
    add.add_argument(
        "--capture",
        choices=registry.CAPTURE_MODES,
        default="trigger",
        help="trigger: the database reports every change at once (needs a trigger on the "
        "table); poll: read the table every few seconds, no change to it (two changes "
        "between polls are seen as one)",
    )
    add.add_argument(
        "--changed-column", metavar="COLUMN", help="poll: the table's 'last changed at' column"
    )
    add.add_argument(
        "--poll-interval", type=float, metavar="SECONDS", help="poll: seconds between polls"
    )
    add.add_argument(
        "--host-url",
        metavar="URL",
        help="the table is in another database, e.g. mysql://statusflow@db:3306/shop "
        "(password: 'statusflow secret set db/USER@HOST:PORT' or STATUSFLOW_HOST_PASSWORD_NAME)",
    )
    add.add_argument(
        "--install-later",
        action="store_true",
        help="trigger: register only; an administrator runs 'statusflow source sql NAME'",
    )
    add.set_defaults(func=add_source)

    check = source_sub.add_parser(
        "check", help="list every grant and object a source needs (exit 3 when not ready)"
    )
    check.add_argument("name")
    check.set_defaults(func=check_source)

    source_sql_parser = source_sub.add_parser(
        "sql", help="print the capture SQL for an administrator to review and run"
    )
    source_sql_parser.add_argument("name")
    source_sql_parser.add_argument(
        "--remove", action="store_true", help="the SQL that removes it instead"
    )
    source_sql_parser.set_defaults(func=print_sql)

    source_sub.add_parser("list", help="list record sources").set_defaults(func=list_sources)

    remove = source_sub.add_parser("remove", help="stop watching a table")
    remove.add_argument("name")
    remove.set_defaults(func=remove_source)

    refresh = source_sub.add_parser(
        "refresh", help="read a source's columns again after its table changed"
    )
    refresh.add_argument("name")
    refresh.set_defaults(func=refresh_source)

    codes = source_sub.add_parser("codes", help="show or load a source's status codes")
    codes.add_argument("name")
    origin = codes.add_mutually_exclusive_group()
    origin.add_argument("--csv", type=Path, help="CSV with columns code,description")
    origin.add_argument("--from-table", metavar="TABLE", help="a table of codes")
    codes.add_argument("--code-column", default="code")
    codes.add_argument("--description-column", default="description")
    codes.set_defaults(func=codes_command)


def add_source(ctx: Context, args: argparse.Namespace) -> int:
    info = registry.add_source(
        ctx.database(),
        name=args.name,
        table=args.table,
        key_column=args.key,
        status_column=args.status,
        label_table=args.labels,
        label_key_column=args.label_key_column,
        label_column=args.label_column,
        display_columns=tuple(args.display),
        watched_columns=tuple(args.watch),
        capture=registry.Capture(
            args.capture, args.changed_column, args.poll_interval, not args.install_later
        ),
        host_url=args.host_url,
        actor=ctx.actor,
    )
    labels = f", labels from {info.label_table}" if info.label_table else ""
    where = f" in {registry.host_words(info)}" if info.host_url else ""
    print(
        f"Watching {info.table}{where} as '{info.name}' ({registry.capture_words(info)}): status "
        f"column {info.status_column}{labels}. Load its status codes with "
        f"'statusflow source codes {info.name} --csv FILE'."
    )
    if args.install_later:
        print(
            f"Nothing is captured until an administrator runs the SQL from "
            f"'statusflow source sql {info.name}'; 'statusflow source check {info.name}' "
            "tells when it is done."
        )
    elif info.polled and not info.changed_column:
        print(
            "Without --changed-column every poll reads the whole table; fine for thousands "
            "of rows, slow for millions."
        )
    return 0


def check_source(ctx: Context, args: argparse.Namespace) -> int:
    result = readiness.check_source(ctx.database(), args.name, actor=ctx.actor)
    for finding in result.findings:
        print(f"{'ok     ' if finding.ok else 'MISSING'}  {finding.sentence}")
        for statement in finding.fix:
            print(f"         {statement}")
    if result.ready:
        print(f"'{args.name}' is ready.")
        return 0
    print(f"'{args.name}' is not ready: an administrator runs the SQL above, then check again.")
    return NOT_READY


def print_sql(ctx: Context, args: argparse.Namespace) -> int:
    print(readiness.capture_script(ctx.database(), args.name, remove=args.remove, actor=ctx.actor))
    return 0


def list_sources(ctx: Context, _args: argparse.Namespace) -> int:
    sources = registry.list_sources(ctx.database())
    if not sources:
        print("No record sources yet. Add one with 'statusflow source add' or 'statusflow demo'.")
    for info in sources:
        codes = status_codes.list_codes(ctx.database(), info.name)
        labels = f"  labels: {info.label_table}" if info.label_table else ""
        where = f" in {registry.host_words(info)}" if info.host_url else ""
        print(
            f"{info.name:<14} table {info.table}{where} (key {info.key_column}, status "
            f"{info.status_column}), {len(codes)} status codes{labels}, "
            f"{registry.capture_words(info)}"
        )
    return 0


def remove_source(ctx: Context, args: argparse.Namespace) -> int:
    registry.remove_source(ctx.database(), args.name, actor=ctx.actor)
    print(f"'{args.name}' is no longer watched; nothing of StatusFlow's is left on its table.")
    return 0


def refresh_source(ctx: Context, args: argparse.Namespace) -> int:
    info = registry.refresh_fields(ctx.database(), args.name, actor=ctx.actor)
    print(f"'{info.name}' has {len(info.fields)} fields: {', '.join(info.fields)}.")
    return 0


def codes_command(ctx: Context, args: argparse.Namespace) -> int:
    db = ctx.database()
    if args.csv:
        status_codes.load_codes_from_csv(db, args.name, args.csv, actor=ctx.actor)
    elif args.from_table:
        status_codes.load_codes_from_table(
            db,
            args.name,
            args.from_table,
            code_column=args.code_column,
            description_column=args.description_column,
            actor=ctx.actor,
        )
    codes = status_codes.list_codes(db, args.name)
    if not codes:
        print(f"'{args.name}' has no status codes yet; load them with --csv or --from-table.")
    for code in codes:
        print(f"{code.code:<8} {code.description}")
    return 0
