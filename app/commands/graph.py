"""``statusflow graph``: import, export, list and validate StatusFlow JSON graphs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from app.commands import review
from app.context import Context
from engine import graphs
from engine.errors import GraphFormatError, StatusFlowError
from engine.graph.model import dumps
from engine.graph.validation import Problem

EXIT_PROBLEMS = 3


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("graph", help="import, export, list and validate graphs")
    graph_sub = parser.add_subparsers(dest="graph_command", metavar="ACTION", required=True)

    imp = graph_sub.add_parser("import", help="store a StatusFlow JSON file as a new draft")
    imp.add_argument("file", type=Path)
    imp.add_argument("--name", help="store it under another name")
    imp.set_defaults(func=import_graph)

    exp = graph_sub.add_parser("export", help="write a graph's draft as StatusFlow JSON")
    exp.add_argument("graph", help="graph name or id")
    exp.add_argument("-o", "--output", type=Path, help="file to write (default: print)")
    exp.set_defaults(func=export_graph)

    val = graph_sub.add_parser(
        "validate",
        help="list a graph's problems in plain words (exit 3 when there are errors)",
    )
    val.add_argument("target", help="a .json file, or the name of a stored graph")
    val.set_defaults(func=validate_graph)

    graph_sub.add_parser("list", help="list graphs").set_defaults(func=list_graphs)
    review.register(graph_sub)


def read_document(path: Path) -> dict[str, Any]:
    """A JSON file's content, or one clear sentence on why it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StatusFlowError(f"There is no file {path}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StatusFlowError(f"{path} cannot be read: {exc}.") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GraphFormatError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
        ) from None
    if not isinstance(document, dict):
        raise GraphFormatError(f"{path} does not hold a StatusFlow graph (a JSON object).")
    return document


def import_graph(ctx: Context, args: argparse.Namespace) -> int:
    document = read_document(args.file)
    if args.name:
        document["name"] = args.name
    summary = graphs.create_graph(ctx.database(), document, actor=ctx.actor)
    print(f"Imported '{summary.name}' as a draft (id {summary.id}).")
    _, problems = graphs.check_document(ctx.database(), document)
    if problems:
        print(f"It has {_count(problems)} to fix before it can be submitted:")
        _print_problems(problems)
    return 0


def export_graph(ctx: Context, args: argparse.Namespace) -> int:
    db = ctx.database()
    with db.read() as conn:
        summary = graphs.find_graph(conn, args.graph)
        text = dumps(graphs.load_draft(conn, summary.id))
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
        print(f"Wrote '{summary.name}' to {args.output}.")
    else:
        sys.stdout.write(text + "\n")
    return 0


def validate_graph(ctx: Context, args: argparse.Namespace) -> int:
    path = Path(args.target)
    if path.suffix.lower() == ".json" or path.exists():
        document = read_document(path)
    else:
        with ctx.database().read() as conn:
            draft = graphs.load_draft(conn, graphs.find_graph(conn, args.target).id)
        document = draft.to_document()
    graph, problems = graphs.check_document(ctx.database(), document)
    if not problems:
        print(f"'{graph.name}' is valid.")
        return 0
    print(f"'{graph.name}' has {_count(problems)}:")
    _print_problems(problems)
    return EXIT_PROBLEMS if any(p.severity == "error" for p in problems) else 0


def list_graphs(ctx: Context, _args: argparse.Namespace) -> int:
    rows = graphs.list_graphs(ctx.database())
    if not rows:
        print(
            "No graphs yet. Import one with 'statusflow graph import FILE' "
            "or run 'statusflow demo'."
        )
    for row in rows:
        version = row.current_version or "draft only"
        state = "" if row.enabled else " (disabled)"
        print(f"{row.name:<44} {row.source or '-':<10} {version}{state}")
    return 0


def _count(problems: list[Problem]) -> str:
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    parts = [f"{errors} error{'s' * (errors != 1)}"] if errors else []
    parts += [f"{warnings} warning{'s' * (warnings != 1)}"] if warnings else []
    return " and ".join(parts)


def _print_problems(problems: list[Problem]) -> None:
    for problem in problems:
        where = f" [node {problem.node_id[:8]}" if problem.node_id else " [graph"
        where += f", {problem.field}]" if problem.field else "]"
        print(f"  {problem.severity:<8}{problem.message}{where}")
