"""What changed between two versions, as a publisher reads it before approving."""

from __future__ import annotations

from dataclasses import replace

import pytest

from engine import graphs
from engine.clock import ManualClock
from engine.errors import StatusFlowError
from engine.governance import versions
from engine.governance.diff import diff, version_diff
from engine.graph.model import Graph, Node, PortRef, new_edge
from engine.nodes import catalogue
from engine.nodes.spec import SummaryContext
from engine.storage.database import Database
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import AUTHOR, shop

STATUSES = SummaryContext({"DEL": "Delivered"})


def delivered_email(subject: str = "Hello") -> tuple[Graph, Node, Node]:
    g = Builder("Delivered email")
    trigger = g.node("trigger.status_entered", codes=["DEL"])
    email = g.node("action.send_email", to="{{ email }}", subject=subject, body_text="Thanks")
    g.link(trigger, email)
    return g.graph, trigger, email


def test_the_same_graph_has_no_changes() -> None:
    graph, _, _ = delivered_email()

    found = diff(graph, graph)

    assert found.is_empty
    assert found.describe() == ["No changes to what the graph does."]


def test_moving_steps_on_the_canvas_is_not_a_change_but_is_counted() -> None:
    graph, trigger, email = delivered_email()
    moved = graph.with_layout(trigger.id, (10, 10)).with_layout(email.id, (300, 0))

    found = diff(graph, moved)

    assert found.is_empty and found.moved == 2
    assert found.describe() == [
        "No changes to what the graph does.",
        "(2 steps were only moved on the canvas.)",
    ]


def test_writing_down_a_default_value_is_not_a_change() -> None:
    graph, _, email = delivered_email()
    explicit = graph.with_params(
        email.id, catalogue.require(email.type).with_defaults(email.params)
    )

    assert diff(graph, explicit).is_empty


def test_a_changed_setting_shows_its_form_label_and_both_values() -> None:
    graph, _, email = delivered_email("Hello")
    changed = graph.with_params(email.id, {**email.params, "subject": "Hi", "retry_attempts": 5})

    found = diff(graph, changed)

    assert [(c.name, c.label, c.old, c.new) for c in found.nodes_changed[0].changes] == [
        ("subject", "Subject", "Hello", "Hi"),
        ("retry_attempts", "Attempts", 3, 5),
    ]
    assert found.describe() == [
        "~ 'Email ‹email›: Hi': Subject: 'Hello' → 'Hi'",
        "~ 'Email ‹email›: Hi': Attempts: 3 → 5",
    ]


def test_choices_durations_and_notes_read_as_words() -> None:
    g = Builder("Reminder")
    wait = g.node("wait.duration", duration={"amount": 2, "unit": "hours"})
    before = g.graph
    after = before.with_node(
        replace(
            wait,
            params={
                **wait.params,
                "duration": {"amount": 6, "unit": "hours"},
                "skip_if_changed": "status",
            },
            note="Manager asked for 6",
        )
    )

    assert diff(before, after).describe() == [
        "~ 'Wait 6 hours': How long: 2 hours → 6 hours",
        "~ 'Wait 6 hours': Skip this step if: 'never (always run it)' → "
        "'the status changed since the run started'",
        "~ 'Wait 6 hours': Note: (empty) → 'Manager asked for 6'",
    ]


def test_added_and_removed_steps_and_connections_are_named_by_their_titles() -> None:
    graph, trigger, email = delivered_email()
    wait = Node("wait-1", "wait.duration", {"duration": {"amount": 2, "unit": "hours"}})
    changed = (
        graph.without_node(email.id)
        .with_node(wait)
        .with_edge(new_edge(PortRef(trigger.id, "out"), PortRef(wait.id, "in")))
    )

    found = diff(graph, changed, STATUSES)

    assert [n.title for n in found.nodes_added] == ["Wait 2 hours"]
    assert [(n.id, n.type) for n in found.nodes_removed] == [(email.id, "action.send_email")]
    assert found.describe() == [
        "+ added 'Wait 2 hours'",
        "- removed 'Email ‹email›: Hello'",
        "+ connected 'Status becomes DEL – Delivered' → 'Wait 2 hours'",
        "- disconnected 'Status becomes DEL – Delivered' → 'Email ‹email›: Hello'",
    ]


def test_a_connection_from_a_branch_names_the_branch() -> None:
    g = Builder("Big orders")
    check = g.node("condition.rules")
    note = g.node("action.add_note", note="Small order")
    before = g.graph
    g.link(check, note, port="false")

    assert diff(before, g.graph).describe()[-1].endswith("(No) → 'Note: Small order'")


def test_redrawing_the_same_connection_is_not_a_change() -> None:
    graph, trigger, email = delivered_email()
    redrawn = graph.without_edge(graph.edges[0].id).with_edge(
        new_edge(PortRef(trigger.id, "out"), PortRef(email.id, "in"))
    )

    assert diff(graph, redrawn).is_empty


def test_name_description_and_source_changes_are_listed_first() -> None:
    graph, _, email = delivered_email()
    changed = replace(graph, name="Delivered mail", description="Thank the client", source=None)
    changed = changed.with_params(email.id, {**email.params, "subject": "Hi"})

    assert diff(graph, changed).describe()[:3] == [
        "~ Name: 'Delivered email' → 'Delivered mail'",
        "~ Description: (empty) → 'Thank the client'",
        "~ Record source: 'orders' → (empty)",
    ]


# -- versions in the database -------------------------------------------------------------


@pytest.fixture
def two_versions(db: Database) -> Database:
    """'Delivered email' V1.0 with subject Hello, V1.1 with Hi, and a draft with Thanks."""
    clock = ManualClock()
    shop(db, clock)
    graph, _, email = delivered_email("Hello")
    graphs.create_graph(db, graph.to_document(), actor=AUTHOR, clock=clock)
    versions.submit(db, graph.name, actor=AUTHOR, clock=clock)
    for subject in ("Hi", "Thanks"):
        graph = graph.with_params(email.id, {**email.params, "subject": subject})
        graphs.save_draft(db, graph.id, graph.to_document(), actor=AUTHOR, clock=clock)
        if subject == "Hi":
            versions.submit(db, graph.name, actor=AUTHOR, clock=clock)
    return db


def test_two_versions_are_compared_by_their_numbers(two_versions: Database) -> None:
    with two_versions.read() as conn:
        lines = version_diff(conn, "Delivered email", "V1.0", "v1.1").describe()

    assert lines == ["~ 'Email ‹email›: Hi': Subject: 'Hello' → 'Hi'"]


def test_a_version_is_compared_with_the_draft(two_versions: Database) -> None:
    with two_versions.read() as conn:
        lines = version_diff(conn, "Delivered email", "1.1", "draft").describe()

    assert lines == ["~ 'Email ‹email›: Thanks': Subject: 'Hi' → 'Thanks'"]


def test_an_unknown_version_lists_the_ones_there_are(two_versions: Database) -> None:
    with two_versions.read() as conn, pytest.raises(StatusFlowError) as raised:
        version_diff(conn, "Delivered email", "V1.0", "V2.0")

    assert str(raised.value) == (
        "'Delivered email' has no version 'V2.0'. Choose one of: V1.0, V1.1, draft."
    )
