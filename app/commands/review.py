"""``statusflow graph submit|approve|reject|publish|rollback|disable|enable|versions|test``.

The version lifecycle from the command line; every rule (four-eyes, roles, loop
analysis) is in the governance services, which the designer calls too.
"""

from __future__ import annotations

import argparse
import json
from datetime import tzinfo
from pathlib import Path

from app.context import Context
from engine.graphs import find_graph
from engine.services import review as versions
from engine.services.review import version_diff
from engine.services.testing import ScriptedChange, simulate
from engine.time_zone import moment_text


def register(graph_sub: argparse._SubParsersAction) -> None:
    """Adds the review actions to the ``graph`` command's sub-parsers."""
    submit = graph_sub.add_parser("submit", help="freeze the draft as a version for review")
    submit.add_argument("graph")
    submit.add_argument("--major", action="store_true", help="start a new major version")
    submit.add_argument("--note", default="", help="what changed, for the reviewer")
    submit.set_defaults(func=submit_cmd)
    for name, text in (("approve", "approve a version in review"), ("reject", "reject it")):
        review = graph_sub.add_parser(name, help=text)
        review.add_argument("graph")
        review.add_argument("version", help="e.g. V1.2")
        review.add_argument("--comment", default="", required=name == "reject")
        review.set_defaults(func=review_cmd, decision=name)
    publish = graph_sub.add_parser("publish", help="make an approved version current")
    publish.add_argument("graph")
    publish.add_argument("version")
    _override_loop(publish, "publish")
    publish.set_defaults(func=publish_cmd)
    rollback = graph_sub.add_parser("rollback", help="publish an earlier version again")
    rollback.add_argument("graph")
    rollback.add_argument("version")
    rollback.set_defaults(func=rollback_cmd)
    disable = graph_sub.add_parser("disable", help="stop new runs (the kill switch)")
    disable.add_argument("graph")
    disable.add_argument("--cancel-running", action="store_true", help="also cancel runs")
    disable.set_defaults(func=enable_cmd, enabled=False, override_loop=None)
    enable = graph_sub.add_parser("enable", help="allow new runs again")
    enable.add_argument("graph")
    _override_loop(enable, "enable it")
    enable.set_defaults(func=enable_cmd, enabled=True, cancel_running=False)
    diff = graph_sub.add_parser("diff", help="what changed between two versions (or the draft)")
    diff.add_argument("graph")
    diff.add_argument("old", help="e.g. V1.0")
    diff.add_argument("new", help="e.g. V1.1, or draft")
    diff.set_defaults(func=diff_cmd)
    listing = graph_sub.add_parser("versions", help="list a graph's versions")
    listing.add_argument("graph")
    listing.set_defaults(func=versions_cmd)
    test = graph_sub.add_parser("test", help="play the graph against a record, sending nothing")
    test.add_argument("graph")
    test.add_argument("--version", help="test this version instead of the draft")
    target = test.add_mutually_exclusive_group(required=True)
    target.add_argument("--record", metavar="KEY", help="a record's key, e.g. 42")
    target.add_argument("--record-json", type=Path, metavar="FILE", help="a record as JSON")
    test.add_argument(
        "--change",
        action="append",
        default=[],
        metavar="'+1h status becomes ASN'",
        help="a later change at a virtual time (repeatable)",
    )
    test.set_defaults(func=test_cmd)


def _override_loop(parser: argparse.ArgumentParser, doing: str) -> None:
    parser.add_argument(
        "--override-loop",
        metavar="REASON",
        help=f"admins: {doing} although graphs would start each other in a loop "
        "(the reason is audited)",
    )


def _version(ctx: Context, graph: str, label: str) -> versions.VersionInfo:
    with ctx.database().read() as conn:
        return versions.find_version(conn, find_graph(conn, graph).id, label)


def submit_cmd(ctx: Context, args: argparse.Namespace) -> int:
    version = versions.submit(
        ctx.database(), args.graph, actor=ctx.actor, major=args.major, note=args.note
    )
    print(f"Submitted {version.label} for review. Someone else approves it, then publishes it.")
    return 0


def review_cmd(ctx: Context, args: argparse.Namespace) -> int:
    version = _version(ctx, args.graph, args.version)
    act = versions.approve if args.decision == "approve" else versions.reject
    result = act(ctx.database(), version.id, actor=ctx.actor, comment=args.comment)
    print(f"{result.label} is {result.state}.")
    return 0


def publish_cmd(ctx: Context, args: argparse.Namespace) -> int:
    version = _version(ctx, args.graph, args.version)
    result = versions.publish(
        ctx.database(), version.id, actor=ctx.actor, override_loop=args.override_loop
    )
    print(f"{result.label} is now the published version; new runs use it.")
    return 0


def rollback_cmd(ctx: Context, args: argparse.Namespace) -> int:
    report = versions.rollback(ctx.database(), args.graph, args.version, actor=ctx.actor)
    running = ", ".join(f"{n} on {label}" for label, n in report.active_runs.items())
    print(f"{report.version.label} is published again; new runs use it.")
    if running:
        print(f"Runs still going (they finish on the version that started them): {running}.")
    return 0


def enable_cmd(ctx: Context, args: argparse.Namespace) -> int:
    cancelled = versions.set_enabled(
        ctx.database(),
        args.graph,
        args.enabled,
        actor=ctx.actor,
        cancel_running=args.cancel_running,
        override_loop=args.override_loop,
    )
    if args.enabled:
        print("Enabled: new status changes start runs again.")
    else:
        print(f"Disabled: no new runs.{f' Cancelled {cancelled} running.' if cancelled else ''}")
    return 0


def diff_cmd(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.database().read() as conn:
        changes = version_diff(conn, args.graph, args.old, args.new)
    if changes.is_empty:
        print(f"{args.old} and {args.new} do the same thing.")
    for line in changes.describe():
        print(line)
    return 0


def versions_cmd(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.database().read() as conn:
        rows = versions.list_versions(conn, find_graph(conn, args.graph).id)
    if not rows:
        print("No versions yet: submit the draft with 'statusflow graph submit'.")
    for v in rows:
        print(f"{v.label:<6} {v.state:<11} {_people(v, ctx.zone())}")
    return 0


def _people(v: versions.VersionInfo, zone: tzinfo) -> str:
    """Who wrote, reviewed and published a version: three people under four-eyes, so
    each is named for what they did (the author is never shown as the publisher)."""
    said = [f"submitted by {v.author} on {moment_text(v.submitted_at, zone)}"]
    if v.reviewer:
        said.append(f"{'rejected' if v.state == 'rejected' else 'approved'} by {v.reviewer}")
    if v.published_by and v.published_at:
        said.append(f"published by {v.published_by} on {moment_text(v.published_at, zone)}")
    return ", ".join(said)


def test_cmd(ctx: Context, args: argparse.Namespace) -> int:
    record = None
    if args.record_json:
        record = json.loads(args.record_json.read_text(encoding="utf-8"))
    result = simulate(
        ctx.database(),
        args.graph,
        actor=ctx.actor,
        version=args.version,
        record_key=args.record,
        record=record,
        changes=[ScriptedChange.parse(text) for text in args.change],
    )
    for line in result.timeline:
        print(f"  +{line['after']:>9}  {line['summary']}")
    print(f"Verdict: {result.verdict} (nothing was sent or changed)")
    return 0
