"""What a reviewer sees of one graph: its versions with their notes, and what they may do.

The versions panel hides the buttons a person's role may not use; the services refuse
anyway, so this only saves people from clicking into a refusal. It is read in one go,
after every change, so the list and the buttons never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from engine.governance import versions
from engine.governance.permissions import allowed
from engine.graphs import GraphSummary, find_graph
from engine.settings import FOUR_EYES_RELAXED, get_setting
from engine.storage.database import Database
from engine.storage.tables import graph_versions

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

    info: versions.VersionInfo
    note: str
    comment: str | None
    verdict: str | None  # of the last test run stored with the version


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
            VersionRow(info, *details[info.id]) for info in versions.list_versions(conn, graph.id)
        )
        may = frozenset(action for action in REVIEW_ACTIONS if allowed(conn, actor, action))
        relaxed = bool(get_setting(conn, FOUR_EYES_RELAXED, False))
    return ReviewState(graph, rows, may, relaxed)
