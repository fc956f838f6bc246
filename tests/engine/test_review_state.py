"""What a reviewer sees of a graph: its versions with their notes, and what they may do."""

from __future__ import annotations

import pytest

from engine import demo
from engine.governance import users, versions
from engine.services.review import REVIEW_ACTIONS, load_review_state
from engine.storage.database import Database

DELIVERED = "Delivered → confirmation email"


@pytest.fixture
def shop(db: Database) -> Database:
    users.add_user(db, "root", display_name="Admin", roles=["admin"], actor="root")
    users.add_user(db, "ana", display_name="Ana", roles=["designer"], actor="root")
    users.add_user(db, "ben", display_name="Ben", roles=["publisher"], actor="root")
    demo.install(db, actor="root")
    return db


def test_versions_come_oldest_first_with_their_note_and_review_comment(shop: Database) -> None:
    first = versions.submit(shop, DELIVERED, actor="ana", note="First cut.")
    versions.reject(shop, first.id, actor="ben", comment="Say the order number.")
    versions.submit(shop, DELIVERED, actor="ana", note="Order number added.")

    state = load_review_state(shop, "ben", DELIVERED)

    assert state.graph.name == DELIVERED
    assert [(row.info.label, row.info.state) for row in state.rows] == [
        ("V1.0", "rejected"),
        ("V1.1", "in_review"),
    ]
    assert [(row.note, row.comment, row.verdict) for row in state.rows] == [
        ("First cut.", "Say the order number.", None),
        ("Order number added.", None, None),
    ]
    assert not state.four_eyes_relaxed


@pytest.mark.parametrize(
    ("actor", "may"),
    [
        ("ana", {"graph.submit"}),
        (
            "ben",
            {
                "graph.approve",
                "graph.reject",
                "graph.publish",
                "graph.rollback",
                "graph.disable",
                "graph.enable",
            },
        ),
        ("nobody", set()),
    ],
)
def test_each_role_may_do_only_its_own_review_actions(
    shop: Database, actor: str, may: set[str]
) -> None:
    assert load_review_state(shop, actor, DELIVERED).may == may


def test_an_admin_may_do_every_review_action_and_override_a_loop(shop: Database) -> None:
    assert load_review_state(shop, "root", DELIVERED).may == set(REVIEW_ACTIONS)
