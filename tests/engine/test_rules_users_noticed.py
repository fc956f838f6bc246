"""Rules users noticed (issue 10, item 4), enforced in the services so that the command
line and the designer obey them alike: a rejection says why, an approval with documents
unticked gives a recorded reason, the audit log cannot be emptied with TRUNCATE, and
passwords are hashed with OWASP's scrypt parameters (old hashes upgrade at sign-in)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import UTC, datetime

import pytest
from sqlalchemy import exc, insert, select, text, update

from engine.clock import ManualClock
from engine.errors import StatusFlowError
from engine.governance import audit_log, passwords, users
from engine.governance.sign_in import authenticate
from engine.runtime import tasks as task_service
from engine.storage.database import Database
from engine.storage.tables import audit_entries
from engine.storage.tables import users as users_table
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import engine, open_tasks, publish, set_status, shop, timeline

DOCUMENTS = ["Signed quote", "Credit check"]
SECRET = "correct horse"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def approval(db: Database, clock: ManualClock) -> int:
    with db.write() as conn:
        return task_service.create_task(
            conn, kind="approval", title="Price approval for orders 5", checklist=DOCUMENTS,
            context={"record_key": "5"}, clock=clock,
        )  # fmt: skip


def read(db: Database, task_id: int) -> task_service.TaskInfo:
    with db.read() as conn:
        return task_service.get_task(conn, task_id)


def decisions(db: Database, task_id: int) -> list[audit_log.AuditEntry]:
    with db.read() as conn:
        entries = audit_log.query(conn, object_type="task", object_id=str(task_id))
    return [e for e in entries if e.action not in ("task.tick", "task.untick")]


# -- 1. a rejection needs a comment --------------------------------------------------


@pytest.mark.parametrize("comment", ["", "   \n "], ids=["empty", "blank"])
def test_a_rejection_without_a_comment_is_refused_and_changes_nothing(
    db: Database, clock, comment: str
) -> None:
    task_id = approval(db, clock)

    with pytest.raises(StatusFlowError) as refused:
        task_service.decide(db, task_id, "reject", actor="dan", comment=comment, clock=clock)

    assert str(refused.value) == (
        f"Write a comment saying why you reject task {task_id}, so the people who asked "
        "know what to change."
    )
    assert (read(db, task_id).state, read(db, task_id).decided_by) == ("open", None)
    assert decisions(db, task_id) == []


def test_a_rejection_with_a_comment_keeps_the_comment_without_surrounding_spaces(
    db: Database, clock
) -> None:
    task_id = approval(db, clock)

    task = task_service.decide(
        db, task_id, "reject", actor="dan", comment="  too cheap \n", clock=clock
    )

    assert (task.state, task.comment) == ("rejected", "too cheap")


# -- 2. unticked documents need a recorded reason -------------------------------------


@pytest.mark.parametrize("reason", ["", "  "], ids=["none", "blank"])
def test_approving_with_a_document_unticked_and_no_reason_is_refused(
    db: Database, clock, reason: str
) -> None:
    task_id = approval(db, clock)
    task_service.tick_document(db, task_id, "Signed quote", actor="carla", clock=clock)

    with pytest.raises(StatusFlowError) as refused:
        task_service.decide(
            db, task_id, "approve", actor="carla", comment="ok", unticked_reason=reason,
            clock=clock,
        )  # fmt: skip

    assert str(refused.value) == (
        f"Tick 'Credit check' on task {task_id} first, or give the reason you go ahead "
        "without it; the reason is recorded with your decision."
    )
    assert read(db, task_id).state == "open"
    assert decisions(db, task_id) == []


def test_approving_with_every_document_ticked_needs_no_reason(db: Database, clock) -> None:
    task_id = approval(db, clock)
    for document in DOCUMENTS:
        task_service.tick_document(db, task_id, document, actor="carla", clock=clock)

    task = task_service.decide(db, task_id, "approve", actor="carla", clock=clock)

    assert (task.state, task.unticked, task.unticked_reason) == ("approved", [], None)
    assert decisions(db, task_id)[0].after == {"state": "approved"}


def test_the_reason_for_unticked_documents_is_recorded_with_the_decision(
    db: Database, clock
) -> None:
    shop(db, clock)
    g = Builder("Proposal → price approval")
    ask = g.node("human.approval", approvals=["Price approval"], documents=DOCUMENTS)
    g.line(g.node("trigger.status_entered", codes=["PRC"]), ask)
    g.link(ask, g.node("action.set_status", code="SHP"), "approved")
    publish(db, g.document(), clock)
    worker = engine(db, clock)
    set_status(db, "orders", 5, "PRC")
    worker.run_until_idle()
    [row] = open_tasks(db)
    task_service.tick_document(db, row.id, "Credit check", actor="carla", clock=clock)

    decided = task_service.decide(
        db, row.id, "approve", actor="carla", comment="ok",
        unticked_reason=" seen in the ERP ", clock=clock,
    )  # fmt: skip
    worker.run_until_idle()

    assert (decided.state, decided.unticked_reason) == ("approved", "seen in the ERP")
    assert read(db, row.id).unticked_reason == "seen in the ERP"
    assert read(db, row.id).context == {"record_key": "5", "approval": "Price approval"}
    [entry] = decisions(db, row.id)
    assert entry.summary == (
        "carla marked the approval 'Price approval for orders 5' approved without ticking "
        "'Signed quote' (reason: seen in the ERP): ok"
    )
    assert entry.after == {
        "state": "approved",
        "unticked": ["Signed quote"],
        "unticked_reason": "seen in the ERP",
    }
    assert (
        "carla marked 'Price approval for orders 5' approved without ticking 'Signed quote' "
        "(reason: seen in the ERP) (ok)."
    ) in timeline(db, "5")
    assert any("Set the status from PRC to SHP" in step for step in timeline(db, "5"))


def test_a_rejection_needs_no_reason_for_unticked_documents(db: Database, clock) -> None:
    task_id = approval(db, clock)

    task = task_service.decide(db, task_id, "reject", actor="dan", comment="no", clock=clock)

    assert (task.state, task.unticked_reason) == ("rejected", None)
    assert decisions(db, task_id)[0].after == {"state": "rejected"}


# -- 4. the audit log refuses TRUNCATE -----------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_truncating_the_audit_log_is_refused_and_the_entries_stay(db: Database) -> None:
    with db.write() as conn:
        conn.execute(
            insert(audit_entries).values(
                at=datetime.now(UTC),
                actor="ana",
                action="graph.publish",
                object_type="graph",
                summary="Published V1.0",
            )
        )

    for statement in ("TRUNCATE sf_audit_entries", "TRUNCATE sf_audit_entries CASCADE"):
        with (
            pytest.raises(exc.DatabaseError, match="audit entries are append-only"),
            db.write() as conn,
        ):
            conn.execute(text(statement))

    with db.read() as conn:
        assert [row.actor for row in conn.execute(select(audit_entries))] == ["ana"]


# -- 5. password hashing: OWASP parameters, old hashes upgraded at sign-in ------------


def old_hash(password: str) -> str:
    """A hash as StatusFlow made them before: scrypt with N=2^14."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    encoded = (base64.b64encode(part).decode() for part in (salt, digest))
    return "$".join(("scrypt", "16384", "8", "1", *encoded))


def with_old_hash(db: Database) -> str:
    """Ann (admin) and Ben, whose password was hashed by an earlier StatusFlow."""
    users.add_user(db, "ann", display_name="Ann", roles=["admin"], actor="ann")
    users.add_user(db, "ben", display_name="Ben", roles=["operator"], actor="ann")
    stored = old_hash(SECRET)
    with db.write() as conn:
        conn.execute(
            update(users_table).where(users_table.c.username == "ben").values(password_hash=stored)
        )
    return stored


def stored_hash(db: Database, name: str) -> str:
    with db.read() as conn:
        query = select(users_table.c.password_hash).where(users_table.c.username == name)
        return str(conn.execute(query).scalar_one())


def test_a_new_hash_carries_the_owasp_scrypt_parameters() -> None:
    stored = passwords.hash_password(SECRET)

    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**17, 8, 1)
    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(digest)) == 64
    assert passwords.verify_password(SECRET, stored)
    assert not passwords.verify_password("wrong password", stored)


def test_an_old_hash_still_verifies_and_is_upgraded_at_the_next_sign_in(db: Database) -> None:
    old = with_old_hash(db)
    assert passwords.verify_password(SECRET, old)

    assert authenticate(db, "ben", SECRET).username == "ben"

    upgraded = stored_hash(db, "ben")
    assert upgraded != old
    assert upgraded.split("$")[:4] == ["scrypt", str(2**17), "8", "1"]
    assert passwords.verify_password(SECRET, upgraded)
    assert authenticate(db, "ben", SECRET).username == "ben"
    assert stored_hash(db, "ben") == upgraded  # a current hash is left as it is


def test_a_wrong_password_upgrades_nothing(db: Database) -> None:
    old = with_old_hash(db)

    with pytest.raises(StatusFlowError, match=r"^Wrong user name or password\.$"):
        authenticate(db, "ben", "wrong password")

    assert stored_hash(db, "ben") == old


def test_a_deactivated_account_with_an_old_hash_is_not_upgraded(db: Database) -> None:
    old = with_old_hash(db)
    users.deactivate(db, "ben", actor="ann")

    with pytest.raises(StatusFlowError, match=r"^Wrong user name or password\.$"):
        authenticate(db, "ben", SECRET)

    assert stored_hash(db, "ben") == old
