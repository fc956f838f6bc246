"""Changing a record by hand: only for those allowed, audited, and refused in words."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from engine import demo
from engine.errors import StatusFlowError
from engine.governance import audit_log, users
from engine.permissions import PermissionDenied
from engine.runtime.records import RecordStore
from engine.services import record_edits
from engine.sources import registry
from engine.storage.database import Database
from engine.storage.tables import status_events


@pytest.fixture
def shop(db: Database) -> Database:
    """The demo shop; ann is an admin, dee a designer."""
    users.add_user(db, "ann", display_name="Ann", roles=["admin"], actor="ann")
    users.add_user(db, "dee", display_name="Dee", roles=["designer"], actor="ann")
    demo.install(db, actor="ann")
    return db


def _order(db: Database, key: str) -> dict[str, Any]:
    with db.read() as conn:
        record = RecordStore().read(conn, registry.get_source(conn, "orders"), key)
    assert record is not None
    return record


def _by_hand(db: Database) -> list[audit_log.AuditEntry]:
    with db.read() as conn:
        return audit_log.query(conn, action="record.")


def _events(db: Database, key: str) -> list[tuple[str, str | None, str | None]]:
    query = select(
        status_events.c.kind, status_events.c.new_value, status_events.c.caused_by_run_id
    ).where(status_events.c.record_key == key)
    with db.read() as conn:
        return [(row.kind, row.new_value, row.caused_by_run_id) for row in conn.execute(query)]


def test_an_admin_changes_the_status_and_the_change_is_audited(shop: Database) -> None:
    before = _order(shop, "7")["status"]
    assert before != "DEL"

    said = record_edits.change_status(shop, "orders", "7", "DEL", actor="ann")

    assert said == "Status changed: the engine will react in a moment."
    assert _order(shop, "7")["status"] == "DEL"
    assert _events(shop, "7") == [("status", "DEL", None)]  # a host's change, no run
    [entry] = _by_hand(shop)
    assert (entry.actor, entry.action, entry.object_type, entry.object_id) == (
        "ann",
        "record.status",
        "record",
        "orders 7",
    )
    assert (entry.before, entry.after) == ({"status": before}, {"status": "DEL"})
    assert entry.summary == f"Changed the status of orders 7 from {before} to DEL by hand."


def test_an_admin_applies_a_label_and_the_change_is_audited(shop: Database) -> None:
    before = _order(shop, "3")["labels"]

    said = record_edits.apply_label(shop, "orders", "3", " Rush ", actor="ann")

    assert said == "Label applied: the engine will react in a moment."
    assert "Rush" in _order(shop, "3")["labels"]
    [entry] = _by_hand(shop)
    assert (entry.action, entry.object_id) == ("record.label", "orders 3")
    assert entry.before == {"labels": before}
    assert entry.after == {"labels": sorted([*before, "Rush"])}


def test_a_designer_is_refused_with_a_sentence_and_nothing_changes(shop: Database) -> None:
    before = _order(shop, "7")

    with pytest.raises(PermissionDenied) as refused:
        record_edits.change_status(shop, "orders", "7", "DEL", actor="dee")
    with pytest.raises(PermissionDenied):
        record_edits.apply_label(shop, "orders", "7", "Rush", actor="dee")

    assert str(refused.value) == (
        "dee is a designer; changing a record's status or labels by hand needs the admin "
        "role. Ask an admin to give you that role."
    )
    assert _order(shop, "7") == before
    assert _events(shop, "7") == [] and _by_hand(shop) == []
    assert not record_edits.may_edit(shop, "dee")
    assert record_edits.may_edit(shop, "ann")


def test_a_code_outside_the_catalogue_is_refused_naming_valid_ones(shop: Database) -> None:
    before = _order(shop, "7")

    with pytest.raises(StatusFlowError) as refused:
        record_edits.change_status(shop, "orders", "7", "XYZ", actor="ann")

    first = [code for code, _ in demo.ORDER_STATUSES[:3]]
    assert str(refused.value) == (
        f"'XYZ' is not a status code of orders; choose one of its codes, such as "
        f"{first[0]}, {first[1]} or {first[2]}."
    )
    assert _order(shop, "7") == before
    assert _events(shop, "7") == [] and _by_hand(shop) == []


@pytest.mark.parametrize("key", ["999", "12a"])
def test_a_missing_record_is_refused_with_a_sentence(shop: Database, key: str) -> None:
    with pytest.raises(StatusFlowError) as refused:
        record_edits.change_status(shop, "orders", key, "DEL", actor="ann")
    with pytest.raises(StatusFlowError, match=f"Record {key} no longer exists in orders"):
        record_edits.apply_label(shop, "orders", key, "Rush", actor="ann")

    assert str(refused.value) == f"Record {key} no longer exists in orders; refresh the list."
    assert _by_hand(shop) == []


def test_the_same_status_or_label_again_changes_and_audits_nothing(shop: Database) -> None:
    record_edits.apply_label(shop, "orders", "3", "Rush", actor="ann")
    current = _order(shop, "3")["status"]

    assert record_edits.change_status(shop, "orders", "3", current, actor="ann") == (
        f"Record 3 is in {current} already; nothing changed."
    )
    assert record_edits.apply_label(shop, "orders", "3", "Rush", actor="ann") == (
        "Record 3 has the label 'Rush' already; nothing changed."
    )
    assert [entry.action for entry in _by_hand(shop)] == ["record.label"]


def test_a_blank_choice_is_refused_with_a_sentence(shop: Database) -> None:
    with pytest.raises(StatusFlowError, match="Choose the new status first"):
        record_edits.change_status(shop, "orders", "7", " ", actor="ann")
    with pytest.raises(StatusFlowError, match="Type or choose a label first"):
        record_edits.apply_label(shop, "orders", "7", "", actor="ann")
