"""Versions of a graph: submit, review, publish.

A version is an immutable snapshot of the draft, numbered V1.0, V1.1 … (a major bump
is the author's choice). States: in review → approved or rejected → published
(current) → superseded. Publishing bumps a generation counter the engines watch, so
they reload their trigger index without polling every graph.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from engine import analytics, audit
from engine.clock import SYSTEM_CLOCK, Clock
from engine.errors import StatusFlowError
from engine.governance.loop_guard import check_loops
from engine.governance.version_info import VersionInfo, find_version, get_version
from engine.governance.version_rules import version_refusal
from engine.graph.model import Graph
from engine.graph.validation import validate
from engine.graphs import find_graph, validation_context
from engine.permissions import require
from engine.runtime.index import PUBLISHED_GENERATION
from engine.runtime.runs import finish_run
from engine.settings import get_setting, set_setting_in
from engine.storage.database import Database
from engine.storage.tables import graph_versions, graphs, runs
from engine.storage.types import new_id


def _next_number(conn: Connection, graph_id: str, major: bool) -> tuple[int, int]:
    last = conn.execute(
        select(graph_versions.c.major, graph_versions.c.minor)
        .where(graph_versions.c.graph_id == graph_id)
        .order_by(graph_versions.c.major.desc(), graph_versions.c.minor.desc())
        .limit(1)
    ).first()
    if last is None:
        return 1, 0
    return (last.major + 1, 0) if major else (last.major, last.minor + 1)


def fingerprint(document: dict[str, Any]) -> str:
    """Identifies the logic a test run saw (layout excluded), to tell if it still applies."""
    logic = {k: v for k, v in document.items() if k != "layout"}
    return hashlib.sha256(json.dumps(logic, sort_keys=True, default=str).encode()).hexdigest()


def _still_valid(test_run: dict[str, Any] | None, graph: Graph) -> dict[str, Any] | None:
    """The draft's last test run, if it tested exactly the logic being submitted."""
    if test_run and test_run.get("fingerprint") == fingerprint(graph.to_document()):
        return test_run
    return None


def submit(
    db: Database,
    graph_name_or_id: str,
    *,
    actor: str,
    major: bool = False,
    note: str = "",
    clock: Clock = SYSTEM_CLOCK,
) -> VersionInfo:
    """Freeze the draft as a numbered version in review; refused while it has errors."""
    now = clock.now()
    with db.write() as conn:
        require(conn, actor, "graph.submit")
        summary = find_graph(conn, graph_name_or_id)
        row = conn.execute(
            select(graphs.c.draft, graphs.c.draft_test_run).where(graphs.c.id == summary.id)
        ).one()
        graph = Graph.from_document(row.draft)
        errors = [
            p
            for p in validate(graph, validation_context(conn, graph.source))
            if p.severity == "error"
        ]
        if errors:
            listed = " ".join(p.message for p in errors[:3])
            more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
            raise StatusFlowError(
                f"'{summary.name}' cannot be submitted while it has problems: {listed}{more}"
            )
        major_no, minor_no = _next_number(conn, summary.id, major)
        version_id = new_id()
        conn.execute(
            insert(graph_versions).values(
                id=version_id,
                graph_id=summary.id,
                major=major_no,
                minor=minor_no,
                document=graph.to_document(),
                state="in_review",
                author=actor,
                submitted_at=now,
                change_note=note,
                last_test_run=_still_valid(row.draft_test_run, graph),
            )
        )
        label = f"V{major_no}.{minor_no}"
        audit.record(
            conn,
            actor=actor,
            action="graph.submit",
            object_type="graph_version",
            object_id=version_id,
            summary=f"Submitted '{summary.name}' {label} for review",
            at=now,
        )
        return get_version(conn, version_id)


def _review(
    db: Database, version_id: str, *, actor: str, approve: bool, comment: str, clock: Clock
) -> VersionInfo:
    now = clock.now()
    with db.write() as conn:
        version = get_version(conn, version_id)
        _refuse(conn, version, actor, "graph.approve" if approve else "graph.reject")
        state = "approved" if approve else "rejected"
        conn.execute(
            update(graph_versions)
            .where(graph_versions.c.id == version_id)
            .values(state=state, reviewer=actor, reviewed_at=now, review_comment=comment)
        )
        name = find_graph(conn, version.graph_id).name
        audit.record(
            conn,
            actor=actor,
            action=f"graph.{'approve' if approve else 'reject'}",
            object_type="graph_version",
            object_id=version_id,
            summary=f"{state.capitalize()} '{name}' {version.label}"
            + (f": {comment}" if comment else ""),
            at=now,
        )
        return get_version(conn, version_id)


def _refuse(conn: Connection, version: VersionInfo, actor: str, action: str) -> None:
    require(conn, actor, action)
    denied = version_refusal(conn, version, actor, action)
    if denied is not None:
        raise StatusFlowError(denied)


def approve(
    db: Database, version_id: str, *, actor: str, comment: str = "", clock: Clock = SYSTEM_CLOCK
) -> VersionInfo:
    return _review(db, version_id, actor=actor, approve=True, comment=comment, clock=clock)


def reject(
    db: Database, version_id: str, *, actor: str, comment: str, clock: Clock = SYSTEM_CLOCK
) -> VersionInfo:
    return _review(db, version_id, actor=actor, approve=False, comment=comment, clock=clock)


def bump_generation(conn: Connection, actor: str) -> None:
    """Tell every engine that the set of published versions changed."""
    current = int(get_setting(conn, PUBLISHED_GENERATION, 0))
    set_setting_in(conn, PUBLISHED_GENERATION, current + 1, actor=actor, audited=False)


def publish(
    db: Database,
    version_id: str,
    *,
    actor: str,
    clock: Clock = SYSTEM_CLOCK,
    action: str = "graph.publish",
    override_loop: str | None = None,
) -> VersionInfo:
    """Make an approved (or earlier published) version the graph's current one."""
    now = clock.now()
    with db.write() as conn:
        version = get_version(conn, version_id)
        _refuse(conn, version, actor, action)
        check_loops(conn, version, actor, override_loop, now)
        conn.execute(
            update(graph_versions)
            .where(graph_versions.c.graph_id == version.graph_id)
            .where(graph_versions.c.state == "published")
            .values(state="superseded")
        )
        conn.execute(
            update(graph_versions)
            .where(graph_versions.c.id == version_id)
            .values(state="published", published_at=now, published_by=actor)
        )
        conn.execute(
            update(graphs)
            .where(graphs.c.id == version.graph_id)
            .values(current_version_id=version_id)
        )
        bump_generation(conn, actor)
        summary = find_graph(conn, version.graph_id)
        audit.record(
            conn,
            actor=actor,
            action=action,
            object_type="graph_version",
            object_id=version_id,
            summary=f"Rolled back '{summary.name}' to {version.label}"
            if action == "graph.rollback"
            else f"Published '{summary.name}' {version.label}",
            at=now,
        )
        published = analytics.VERSION_PUBLISHED
        analytics.record(conn, analytics.row(published, graph_id=version.graph_id, clock=clock))
        return get_version(conn, version_id)


def active_runs_by_version(conn: Connection, graph_id: str) -> dict[str, int]:
    """How many runs are still going on each version ("V1.1": 3): a rollback leaves
    them to finish on the version that started them."""
    rows = conn.execute(
        select(graph_versions.c.major, graph_versions.c.minor, func.count(runs.c.id))
        .join(runs, runs.c.version_id == graph_versions.c.id)
        .where(graph_versions.c.graph_id == graph_id)
        .where(runs.c.state == "active")
        .group_by(graph_versions.c.major, graph_versions.c.minor)
        .order_by(graph_versions.c.major, graph_versions.c.minor)
    ).all()
    return {f"V{r.major}.{r.minor}": int(r[2]) for r in rows}


@dataclass(frozen=True)
class RollbackReport:
    version: VersionInfo
    previous: str | None
    active_runs: dict[str, int]


def rollback(
    db: Database,
    graph: str,
    label: str,
    *,
    actor: str,
    clock: Clock = SYSTEM_CLOCK,
    override_loop: str | None = None,
) -> RollbackReport:
    """Publish an earlier version again; runs in progress finish on their own version."""
    with db.read() as conn:
        summary = find_graph(conn, graph)
        target = find_version(conn, summary.id, label)
    version = publish(
        db,
        target.id,
        actor=actor,
        clock=clock,
        action="graph.rollback",
        override_loop=override_loop,
    )
    with db.read() as conn:
        runs_now = active_runs_by_version(conn, summary.id)
    return RollbackReport(version, summary.current_version, runs_now)


def set_enabled(
    db: Database,
    graph: str,
    enabled: bool,
    *,
    actor: str,
    cancel_running: bool = False,
    override_loop: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> int:
    """The kill switch: no new runs while disabled; running ones continue or are
    cancelled, as the publisher chooses. Returns how many runs were cancelled.

    Enabling runs the publish-time loop check again: graphs published while this one
    was off may now close a loop with it."""
    now = clock.now()
    with db.write() as conn:
        require(conn, actor, "graph.enable" if enabled else "graph.disable")
        summary = find_graph(conn, graph)
        current_id = conn.execute(
            select(graphs.c.current_version_id).where(graphs.c.id == summary.id)
        ).scalar_one()
        if enabled and not summary.enabled and current_id is not None:
            current = get_version(conn, current_id)
            check_loops(conn, current, actor, override_loop, now, enabling=summary.name)
        conn.execute(update(graphs).where(graphs.c.id == summary.id).values(enabled=enabled))
        bump_generation(conn, actor)
        cancelled = 0
        if not enabled and cancel_running:
            active = conn.execute(
                select(runs.c.id)
                .where(runs.c.graph_id == summary.id)
                .where(runs.c.state == "active")
            ).scalars()
            reason = f"'{summary.name}' was disabled by {actor}"
            cancelled = sum(
                finish_run(conn, run_id, "cancelled", reason, clock=clock) for run_id in active
            )
        word = "Enabled" if enabled else "Disabled"
        extra = f"; cancelled {cancelled} running" if cancelled else ""
        audit.record(
            conn,
            actor=actor,
            action="graph.enable" if enabled else "graph.disable",
            object_type="graph",
            object_id=summary.id,
            summary=f"{word} '{summary.name}'{extra}",
            before={"enabled": summary.enabled},
            after={"enabled": enabled},
            at=now,
        )
        return cancelled
