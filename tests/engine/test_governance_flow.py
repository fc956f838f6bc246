"""Governance end to end: roles, four-eyes, loop analysis at publish, audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import demo, graphs
from engine.clock import ManualClock
from engine.errors import StatusFlowError
from engine.governance import users, versions
from engine.governance.test_run import simulate
from engine.permissions import PermissionDenied
from engine.storage.database import Database
from engine.storage.tables import audit_entries, graph_versions
from tests.engine.runtime.graphs import Builder

WELCOME = "New customer → welcome journey"


@pytest.fixture
def team(db: Database) -> ManualClock:
    """A shop with an admin, a designer, a publisher and an operator."""
    clock = ManualClock()
    users.add_user(db, "root", display_name="Admin", roles=["admin"], actor="root")
    for name, roles in (
        ("ana", ["designer"]),
        ("ben", ["publisher"]),
        ("olga", ["operator"]),
        ("pat", ["designer", "publisher"]),
    ):
        users.add_user(db, name, display_name=name.title(), roles=roles, actor="root")

    demo.install(db, actor="root", clock=clock)
    return clock


def audit_actions(db: Database) -> list[tuple[str, str, str]]:
    with db.read() as conn:
        return [
            (r.action, r.actor, r.summary)
            for r in conn.execute(select(audit_entries).order_by(audit_entries.c.id))
        ]


def test_design_test_submit_approve_publish(db: Database, team) -> None:
    result = simulate(db, WELCOME, actor="ana", record_key="1", clock=team)
    assert result.verdict == "Succeeded"
    version = versions.submit(db, WELCOME, actor="ana", clock=team)
    versions.approve(db, version.id, actor="ben", comment="looks right", clock=team)
    published = versions.publish(db, version.id, actor="ben", clock=team)
    assert (published.label, published.state) == ("V1.0", "published")
    assert ("graph.publish", "ben", f"Published '{WELCOME}' V1.0") in audit_actions(db)
    with db.read() as conn:
        stored = conn.execute(
            select(graph_versions.c.last_test_run).where(graph_versions.c.id == version.id)
        ).scalar_one()
    assert stored["verdict"] == "Succeeded"  # shown at review


def test_refusals_by_role_change_nothing(db: Database, team) -> None:
    own = versions.submit(db, WELCOME, actor="pat", clock=team)
    with pytest.raises(StatusFlowError, match="someone else must approve it"):
        versions.approve(db, own.id, actor="pat", clock=team)  # may publish, but not alone
    versions.reject(db, own.id, actor="ben", comment="redo", clock=team)
    version = versions.submit(db, WELCOME, actor="ana", clock=team)
    with pytest.raises(PermissionDenied, match="olga is an operator"):
        versions.approve(db, version.id, actor="olga", clock=team)
    versions.approve(db, version.id, actor="ben", clock=team)
    with pytest.raises(PermissionDenied, match="publisher role"):
        versions.publish(db, version.id, actor="olga", clock=team)
    versions.publish(db, version.id, actor="ben", clock=team)
    second = versions.submit(db, WELCOME, actor="ana", clock=team)
    versions.approve(db, second.id, actor="ben", clock=team)
    versions.publish(db, second.id, actor="ben", clock=team)
    before = audit_actions(db)
    with pytest.raises(PermissionDenied, match="ana is a designer"):
        versions.rollback(db, WELCOME, "V1.1", actor="ana", clock=team)
    with pytest.raises(PermissionDenied):
        versions.submit(db, WELCOME, actor="mallory", clock=team)
    assert audit_actions(db) == before
    with db.read() as conn:
        current = versions.find_version(conn, version.graph_id, "V1.2")
    assert current.state == "published"


def flip(name: str, when: str, then: str) -> dict:
    g = Builder(name)
    g.line(g.node("trigger.status_entered", codes=[when]), g.node("action.set_status", code=then))
    return g.document()


def test_a_loop_is_refused_at_publish_then_overridden_by_an_admin(db: Database, team) -> None:
    for document in (flip("Graph A", "PRC", "SHP"), flip("Graph B", "SHP", "PRC")):
        graphs.create_graph(db, document, actor="ana", clock=team)
        version = versions.submit(db, document["name"], actor="ana", clock=team)
        versions.approve(db, version.id, actor="ben", clock=team)
    with db.read() as conn:
        a = versions.find_version(conn, graphs.find_graph(conn, "Graph A").id, "V1.0")
        b = versions.find_version(conn, graphs.find_graph(conn, "Graph B").id, "V1.0")
    versions.publish(db, a.id, actor="ben", clock=team)

    with pytest.raises(StatusFlowError) as refused:
        versions.publish(db, b.id, actor="ben", clock=team)
    assert "Graph B sets PRC → Graph A starts on PRC and sets SHP → Graph B starts on SHP" in str(
        refused.value
    )
    with pytest.raises(PermissionDenied):
        versions.publish(db, b.id, actor="ben", override_loop="I know", clock=team)
    versions.publish(db, b.id, actor="root", override_loop="the guard stops it", clock=team)
    overrides = [a for a in audit_actions(db) if a[0] == "graph.loop_override"]
    assert len(overrides) == 1 and overrides[0][1] == "root"
    assert "Reason: the guard stops it" in overrides[0][2]
