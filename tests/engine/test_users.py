"""User accounts as an admin manages them: passwords, roles, the last admin, the audit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from engine.errors import StatusFlowError
from engine.governance import audit_log, users
from engine.governance.sign_in import authenticate
from engine.permissions import PermissionDenied
from engine.storage.database import Database
from engine.storage.tables import users as users_table
from tests.password_cost import fast_password_hashing

SECRET = "correct horse"


@pytest.fixture
def fast_hashing() -> Iterator[None]:
    """TEST ONLY: cheap hashes for tests about sign-in rules, not about the hashing cost
    (test_passwords_are_salted_scrypt_and_verify keeps the real cost)."""
    with fast_password_hashing():
        yield


def admin(db: Database, name: str = "ann") -> users.UserInfo:
    return users.add_user(db, name, display_name=name.title(), roles=["admin"], actor=name)


def stored_hash(db: Database, name: str) -> str:
    with db.read() as conn:
        query = select(users_table.c.password_hash).where(users_table.c.username == name)
        return conn.execute(query).scalar_one()


def test_passwords_are_salted_scrypt_and_verify(db: Database) -> None:
    admin(db)
    for name in ("ben", "cai"):
        users.add_user(
            db, name, display_name=name, password=SECRET, roles=["designer"], actor="ann"
        )
    ben, cai = stored_hash(db, "ben"), stored_hash(db, "cai")
    assert ben.split("$")[:4] == ["scrypt", "131072", "8", "1"]  # OWASP: N=2^17, r=8, p=1
    assert ben != cai and ben.split("$")[4] != cai.split("$")[4]
    assert SECRET not in ben
    assert authenticate(db, "ben", SECRET).username == "ben"
    assert authenticate(db, " Ben ", SECRET).roles == ("designer",)


@pytest.mark.usefixtures("fast_hashing")
@pytest.mark.parametrize(
    ("name", "password"),
    [("ben", "wrong password"), ("nobody", SECRET), ("ann", SECRET)],
    ids=["wrong password", "unknown user", "no password set"],
)
def test_every_failed_sign_in_says_the_same_sentence(db: Database, name, password) -> None:
    admin(db)
    users.add_user(db, "ben", display_name="Ben", password=SECRET, roles=["operator"], actor="ann")
    with pytest.raises(StatusFlowError, match=r"^Wrong user name or password\.$"):
        authenticate(db, name, password)


@pytest.mark.usefixtures("fast_hashing")
def test_a_deactivated_user_can_no_longer_sign_in(db: Database) -> None:
    admin(db)
    users.add_user(db, "ben", display_name="Ben", password=SECRET, roles=["operator"], actor="ann")
    users.deactivate(db, "ben", actor="ann")
    with pytest.raises(StatusFlowError, match="Wrong user name or password"):
        authenticate(db, "ben", SECRET)
    users.reactivate(db, "ben", actor="ann")
    assert authenticate(db, "ben", SECRET).is_active


@pytest.mark.parametrize(
    ("name", "roles", "password", "message"),
    [
        ("Ann Smith", ["admin"], None, "'Ann Smith' cannot be a user name; use 2 to 40"),
        ("9lives", ["admin"], None, "starting with a letter"),
        ("ann", ["boss"], None, "'boss' is not a StatusFlow role; choose from designer, "),
        ("ann", [], None, "Give the user at least one role"),
        ("ann", ["admin"], "short", "The password is too short; use at least 8 characters."),
        ("ann", ["designer"], None, "The first StatusFlow user must be an admin"),
    ],
)
def test_add_user_refuses_with_a_sentence(db: Database, name, roles, password, message) -> None:
    with pytest.raises(StatusFlowError, match=message):
        users.add_user(db, name, display_name="Ann", password=password, roles=roles, actor="x")
    with db.read() as conn:
        assert users.list_users(conn) == []


def test_a_user_name_is_taken_only_once(db: Database) -> None:
    admin(db)
    with pytest.raises(StatusFlowError, match=r"There is already a StatusFlow user 'ann'\."):
        users.add_user(db, "ANN", display_name="Another Ann", roles=["designer"], actor="ann")


def test_only_an_admin_manages_users(db: Database) -> None:
    admin(db)
    users.add_user(db, "dee", display_name="Dee", roles=["designer", "publisher"], actor="ann")
    with pytest.raises(PermissionDenied, match="managing users needs the admin role"):
        users.add_user(db, "eve", display_name="Eve", roles=["admin"], actor="dee")
    with pytest.raises(PermissionDenied):
        users.set_roles(db, "dee", ["admin"], actor="dee")
    with db.read() as conn:
        assert [u.username for u in users.list_users(conn)] == ["ann", "dee"]
        assert users.get_user(conn, "dee").roles == ("designer", "publisher")


def test_the_last_active_admin_cannot_be_removed(db: Database) -> None:
    admin(db)
    with pytest.raises(StatusFlowError, match="ann is the last active admin"):
        users.deactivate(db, "ann", actor="ann")
    with pytest.raises(StatusFlowError, match="Make someone else an admin first"):
        users.set_roles(db, "ann", ["designer"], actor="ann")
    users.add_user(db, "bob", display_name="Bob", roles=["admin"], actor="ann")
    assert users.set_roles(db, "ann", ["designer"], actor="bob").roles == ("designer",)
    with pytest.raises(StatusFlowError, match="bob is the last active admin"):
        users.deactivate(db, "bob", actor="bob")


def test_a_deactivated_admin_does_not_count_as_the_other_admin(db: Database) -> None:
    admin(db)
    users.add_user(db, "bob", display_name="Bob", roles=["admin"], actor="ann")
    users.deactivate(db, "bob", actor="ann")
    with pytest.raises(StatusFlowError, match="ann is the last active admin"):
        users.set_roles(db, "ann", ["publisher"], actor="ann")


def test_unknown_users_are_named_in_the_error(db: Database) -> None:
    admin(db)
    with pytest.raises(StatusFlowError, match="There is no StatusFlow user 'zed'; 'statusflow"):
        users.set_password(db, "zed", SECRET, actor="ann")


@pytest.mark.usefixtures("fast_hashing")
def test_every_user_change_is_audited_without_the_password(db: Database) -> None:
    admin(db)
    users.add_user(
        db, "ben", display_name="Ben", email="ben@example.com", roles=["operator"], actor="ann"
    )
    users.set_roles(db, "ben", ["operator", "publisher"], actor="ann")
    users.set_password(db, "ben", SECRET, actor="ann")
    users.deactivate(db, "ben", actor="ann")
    with db.read() as conn:
        entries = audit_log.query(conn, object_type="user", object_id="ben")
    assert [(e.action, e.actor) for e in entries] == [
        ("user.deactivate", "ann"),
        ("user.password", "ann"),
        ("user.roles", "ann"),
        ("user.add", "ann"),
    ]
    deactivated, password, roles, added = entries
    assert added.after == {"display_name": "Ben", "email": "ben@example.com", "roles": ["operator"]}
    assert (roles.before, roles.after) == (
        {"roles": ["operator"]},
        {"roles": ["publisher", "operator"]},
    )
    assert (password.before, password.after) == ({"has_password": False}, {"has_password": True})
    assert (deactivated.before, deactivated.after) == ({"is_active": True}, {"is_active": False})
    stored = stored_hash(db, "ben")
    for entry in entries:
        text = f"{entry.summary} {entry.before} {entry.after}"
        assert SECRET not in text and stored.split("$")[-1] not in text


def test_the_local_admin_is_created_once_on_an_empty_database(db: Database) -> None:
    first = users.ensure_local_admin(db, "Ann")
    again = users.ensure_local_admin(db, "ann")
    assert first == again
    assert (first.username, first.roles, first.has_password) == ("ann", ("admin",), False)
    with db.read() as conn:
        assert len(audit_log.query(conn, action="user.add")) == 1


def test_the_local_admin_is_not_made_on_a_shared_database(db: Database) -> None:
    admin(db)
    with pytest.raises(StatusFlowError, match="There is no StatusFlow user 'bob' in this"):
        users.ensure_local_admin(db, "bob")
    assert users.ensure_local_admin(db, "ann").roles == ("admin",)
