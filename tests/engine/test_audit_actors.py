"""The people an auditor may filter the trail by: every account, and every other name."""

from __future__ import annotations

from engine import audit
from engine.governance import audit_log, users
from engine.storage.database import Database


def test_every_account_and_every_other_actor_in_the_trail_is_offered(db: Database) -> None:
    users.add_user(db, "ann", display_name="Ann Admin", roles=["admin"], actor="setup")
    users.add_user(db, "zed", display_name="Zed", roles=["operator"], actor="ann")
    users.deactivate(db, "zed", actor="ann")
    with db.write() as conn:
        audit.record(
            conn,
            actor="engine",
            action="engine.loop_guard",
            object_type="run",
            object_id="r1",
            summary="Stopped a run.",
        )

    with db.read() as conn:
        found = audit_log.actors(conn)

    assert found == [
        audit_log.Actor("ann", "Ann Admin"),
        audit_log.Actor("engine", None),
        audit_log.Actor("setup", None),
        audit_log.Actor("zed", "Zed"),  # deactivated, and never acted: still someone to look up
    ]


def test_an_empty_database_offers_nobody(db: Database) -> None:
    with db.read() as conn:
        assert audit_log.actors(conn) == []
