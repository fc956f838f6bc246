"""Who may do what: the bootstrap rule, then roles, with refusals people understand."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import permissions
from engine.governance import users
from engine.permissions import PERMISSIONS, PermissionDenied
from engine.storage.database import Database
from engine.storage.tables import ROLES


@pytest.fixture
def team(db: Database) -> Database:
    """ann (admin), dee (designer), pia (publisher), ben (operator)."""
    users.add_user(db, "ann", display_name="Ann", roles=["admin"], actor="setup")
    for name, role in (("dee", "designer"), ("pia", "publisher"), ("ben", "operator")):
        users.add_user(db, name, display_name=name.title(), roles=[role], actor="ann")
    return db


def test_a_database_without_accounts_allows_everything(db: Database) -> None:
    with db.read() as conn:
        for action in PERMISSIONS:
            permissions.require(conn, "anyone", action)
            assert permissions.allowed(conn, "anyone", action)


def test_once_an_account_exists_strangers_are_refused(db: Database) -> None:
    users.add_user(db, "ann", display_name="Ann", roles=["admin"], actor="anyone")
    with db.read() as conn, pytest.raises(PermissionDenied) as refused:
        permissions.require(conn, "anyone", "runs.read")
    assert str(refused.value) == (
        "There is no StatusFlow user 'anyone' in this database; ask an admin to add you "
        "with 'statusflow user add'."
    )


def test_an_operator_publishing_is_refused_with_the_sentence(team: Database) -> None:
    with team.read() as conn, pytest.raises(PermissionDenied) as refused:
        permissions.require(conn, "ben", "graph.publish")
    assert str(refused.value) == (
        "ben is an operator; publishing a version needs the publisher role. "
        "Ask an admin to give you that role."
    )


def test_the_refusal_names_all_the_roles_a_user_has(team: Database) -> None:
    users.set_roles(team, "ben", ["designer", "operator"], actor="ann")
    with team.read() as conn, pytest.raises(PermissionDenied) as refused:
        permissions.require(conn, "ben", "settings.manage")
    assert str(refused.value) == (
        "ben is a designer and an operator; changing settings needs the admin role. "
        "Ask an admin to give you that role."
    )


def test_each_role_may_do_its_own_work(team: Database) -> None:
    expected = {
        "dee": {"graph.edit", "graph.submit", "graph.test", "task.decide", "runs.read"},
        "pia": {"graph.approve", "graph.reject", "graph.publish", "graph.rollback",
                "graph.disable", "graph.enable", "graph.test", "task.decide", "runs.read",
                "runs.start", "audit.read"},
        "ben": {"task.decide", "runs.read"},
        "ann": set(PERMISSIONS),
    }  # fmt: skip
    with team.read() as conn:
        for name, may in expected.items():
            assert {a for a in PERMISSIONS if permissions.allowed(conn, name, a)} == may, name


def test_a_deactivated_account_may_do_nothing(team: Database) -> None:
    users.deactivate(team, "pia", actor="ann")
    with team.read() as conn:
        assert permissions.roles_of(conn, "pia") == frozenset()
        assert not permissions.allowed(conn, "pia", "runs.read")
        with pytest.raises(PermissionDenied) as refused:
            permissions.require(conn, "pia", "graph.publish")
    assert str(refused.value) == (
        "pia's StatusFlow account is deactivated, so publishing a version is not possible. "
        "Ask an admin to reactivate it."
    )


def test_roles_of_reads_the_account_whatever_the_case(team: Database) -> None:
    users.set_roles(team, "dee", ["designer", "publisher"], actor="ann")
    with team.read() as conn:
        assert permissions.roles_of(conn, "Dee") == {"designer", "publisher"}
        assert permissions.roles_of(conn, "nobody") == frozenset()


def test_every_action_is_worded_and_names_known_roles() -> None:
    assert set(permissions.DOING) == set(PERMISSIONS)
    assert {role for roles in PERMISSIONS.values() for role in roles} <= set(ROLES)


def test_the_permissions_page_shows_the_matrix_the_services_enforce() -> None:
    page = (Path(__file__).parents[2] / "docs" / "permissions.md").read_text(encoding="utf-8")
    assert permissions.matrix_markdown() in page
    assert "| starting a run by hand (`runs.start`) |  | yes |  | yes |" in page
