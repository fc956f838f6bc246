"""Reviewing a graph's versions: what a reviewer sees, what they may do, and the doing.

``load_review_state`` reads a graph's versions with, for each one, whether this
person may approve, reject, publish or roll back to it, and the sentence saying why
not (:func:`engine.governance.version_rules.version_refusal`, the rule the actions
themselves raise). The versions panel draws its buttons from that answer. It is read
in one go, after every change, so the list and the buttons never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from engine.governance.diff import GraphDiff, version_diff
from engine.governance.loop_guard import LoopRefused
from engine.governance.version_info import (
    VersionInfo,
    find_version,
    get_version,
    list_versions,
    version_graph,
)
from engine.governance.version_rules import STARTS_FROM, version_refusal
from engine.governance.versions import (
    RollbackReport,
    approve,
    publish,
    reject,
    rollback,
    set_enabled,
    submit,
)
from engine.graph.model import Graph
from engine.graphs import GraphSummary, find_graph
from engine.permissions import allowed
from engine.settings import FOUR_EYES_RELAXED, get_setting
from engine.storage.database import Database
from engine.storage.tables import graph_versions

__all__ = [
    "REVIEW_ACTIONS",
    "VERSION_ACTIONS",
    "GraphDiff",
    "LoopRefused",
    "ReviewState",
    "RollbackReport",
    "VersionInfo",
    "VersionRow",
    "approve",
    "compare",
    "find_version",
    "get_version",
    "list_versions",
    "load_review_state",
    "publish",
    "read_version_graph",
    "reject",
    "rollback",
    "set_enabled",
    "submit",
    "version_diff",
    "version_graph",
]

VERSION_ACTIONS = tuple(STARTS_FROM)  # what can be done to one version
REVIEW_ACTIONS = (
    "graph.submit",
    "graph.approve",
    "graph.reject",
    "graph.publish",
    "graph.rollback",
    "graph.disable",
    "graph.enable",
    "loop.override",
)


@dataclass(frozen=True)
class VersionRow:
    """A version with what reviewers read beside it."""

    info: VersionInfo
    note: str
    comment: str | None
    verdict: str | None  # of the last test run stored with the version
    refusals: dict[str, str | None]  # VERSION_ACTIONS -> why not (None: may)

    def may(self, action: str) -> bool:
        return self.refusals[action] is None

    @property
    def why_not(self) -> str | None:
        """The refusal worth showing next to the buttons: one the version's state does
        not explain (four-eyes, a missing role), e.g. on your own version in review."""
        for action, why in self.refusals.items():
            if why is not None and self.info.state in STARTS_FROM[action]:
                return why
        return None


@dataclass(frozen=True)
class ReviewState:
    graph: GraphSummary
    rows: tuple[VersionRow, ...]  # oldest first
    may: frozenset[str]  # the actions of REVIEW_ACTIONS this person may do
    four_eyes_relaxed: bool


def review_details(
    conn: Connection, graph_id: str
) -> dict[str, tuple[str, str | None, str | None]]:
    """Change note, review comment and last test verdict of each version, by version id."""
    rows = conn.execute(
        select(
            graph_versions.c.id,
            graph_versions.c.change_note,
            graph_versions.c.review_comment,
            graph_versions.c.last_test_run,
        ).where(graph_versions.c.graph_id == graph_id)
    )
    return {
        r.id: (r.change_note, r.review_comment, (r.last_test_run or {}).get("verdict"))
        for r in rows
    }


def load_review_state(db: Database, actor: str, graph_id: str) -> ReviewState:
    """The graph (by id or name), its versions oldest first, and what ``actor`` may do."""
    with db.read() as conn:
        graph = find_graph(conn, graph_id)
        details = review_details(conn, graph.id)
        rows = tuple(
            VersionRow(
                info,
                *details[info.id],
                {a: version_refusal(conn, info, actor, a) for a in VERSION_ACTIONS},
            )
            for info in list_versions(conn, graph.id)
        )
        may = frozenset(action for action in REVIEW_ACTIONS if allowed(conn, actor, action))
        relaxed = bool(get_setting(conn, FOUR_EYES_RELAXED, False))
    return ReviewState(graph, rows, may, relaxed)


def read_version_graph(db: Database, version_id: str) -> Graph:
    """The graph exactly as a version froze it (to show it read-only)."""
    with db.read() as conn:
        return version_graph(conn, version_id)


def compare(db: Database, graph_id: str, old: str, new: str) -> GraphDiff:
    """What changed between two versions (labels, or "draft") of one graph."""
    with db.read() as conn:
        return version_diff(conn, graph_id, old, new)
