"""The permission matrix at the command line: for each command that does one of the
matrix's actions, a role the matrix leaves out is refused in one line (the service's
sentence, exit 2) and a role it names gets through. The CLI decides nothing itself:
changing the matrix changes what it allows."""

from __future__ import annotations

import pytest

from engine.clock import ManualClock
from engine.permissions import DOING, PERMISSIONS
from engine.runtime import tasks as task_store
from engine.storage.database import Database
from tests.app.conftest import Statusflow, member
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import publish, shop

CALL = "Call the customer"
# action -> the command that does it
COMMANDS = {
    "runs.start": ("run", "start", CALL, "--record", "orders:1"),
    "runs.read": ("runs", "list"),
    "audit.read": ("audit",),
    "task.reassign": ("task", "reassign", "1", "--to-role", "operator"),
    "graph.disable": ("graph", "disable", CALL),
    "users.manage": ("user", "add", "newbie", "--name", "New", "--role", "operator"),
    "settings.manage": ("settings", "time-zone", "Europe/Oslo"),
}


@pytest.fixture
def team(db: Database) -> Database:
    clock = ManualClock()
    shop(db, clock)
    g = Builder(CALL, "orders")
    g.line(g.node("trigger.manual"), g.node("action.add_note", note="Call them."))
    publish(db, g.graph.to_document(), clock)
    with db.write() as conn:
        task_store.create_task(conn, kind="follow_up", title="Call back", clock=clock)
    member(db, "root", "admin")
    for role in ("designer", "publisher", "operator"):
        member(db, role[:3], role)  # des, pub, ope
    return db


@pytest.mark.parametrize("action", sorted(COMMANDS))
def test_each_command_refuses_the_roles_the_matrix_leaves_out(
    team: Database, statusflow: Statusflow, action: str
) -> None:
    allowed = PERMISSIONS[action] or ("admin",)
    refused = [r for r in ("designer", "publisher", "operator") if r not in allowed]
    who = {"designer": "des", "publisher": "pub", "operator": "ope", "admin": "root"}

    for role in refused:
        code, out, err = statusflow("--as", who[role], *COMMANDS[action])
        article = "an" if role == "operator" else "a"
        assert (code, out) == (2, ""), role
        assert err.startswith(f"statusflow: {who[role]} is {article} {role}; {DOING[action]} needs")
        assert err.count("\n") == 1  # one line

    code, _, err = statusflow("--as", who[allowed[0]], *COMMANDS[action])
    assert (code, err) == (0, ""), err
