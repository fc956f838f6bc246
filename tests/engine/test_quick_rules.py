"""Quick rules and template copies: new graphs that are stored, valid and run as asked."""

from __future__ import annotations

import pytest

from engine import graphs
from engine.clock import ManualClock
from engine.demo import demo_graph_document
from engine.errors import StatusFlowError
from engine.governance.test_run import simulate
from engine.graph.model import Graph
from engine.quick_rules import (
    QUICK_ACTIONS,
    build_quick_rule,
    copy_as_new,
    name_problem,
    unique_name,
)
from engine.storage.database import Database
from tests.engine.runtime.support import shop

DELIVERED = "Delivered → confirmation email"


def thanks_rule(name: str = "Delivered → thanks") -> dict:
    return build_quick_rule(
        name=name,
        source="orders",
        codes=["DEL"],
        action_type="action.send_email",
        params={"subject": "Thanks", "body_text": "Thank you for order {{ record_key }}."},
    )


def test_quick_rule_is_stored_valid_and_emails_when_delivered(db: Database) -> None:
    clock = ManualClock()
    shop(db, clock)

    stored = graphs.create_graph(db, thanks_rule(), actor="ana", clock=clock)
    with db.read() as conn:
        graph = graphs.load_draft(conn, stored.id)
    _, problems = graphs.check_document(db, graph.to_document())
    result = simulate(
        db, stored.name, actor="ana", record={"id": 7, "email": "a@example.com", "status": "DEL"}
    )

    assert [p for p in problems if p.severity == "error"] == []
    assert (stored.name, stored.source) == ("Delivered → thanks", "orders")
    assert [line["summary"] for line in result.timeline if "Would email" in line["summary"]] == [
        "Would email a@example.com: 'Thanks'."
    ]


def test_quick_rule_connects_trigger_to_action_left_to_right() -> None:
    graph = Graph.from_document(thanks_rule())
    trigger, action = graph.nodes

    assert (trigger.type, trigger.params["codes"]) == ("trigger.status_entered", ["DEL"])
    assert action.params["to"] == "{{ email }}"  # the form's default: the record's email
    assert [(e.source.node, e.target.node) for e in graph.edges] == [(trigger.id, action.id)]
    assert graph.layout[trigger.id][0] < graph.layout[action.id][0]


@pytest.mark.parametrize("action", QUICK_ACTIONS, ids=lambda a: a.type_id)
def test_every_quick_action_asks_for_parameters_its_step_has(action) -> None:
    document = build_quick_rule(
        name="x", source="orders", codes=["DEL"], action_type=action.type_id, params={}
    )
    params = Graph.from_document(document).nodes[1].params
    assert set(action.fields) <= set(params)


def test_quick_rule_refuses_an_action_it_cannot_build() -> None:
    with pytest.raises(StatusFlowError, match="Draw the graph on the canvas"):
        build_quick_rule(
            name="x", source="orders", codes=["DEL"], action_type="action.webhook", params={}
        )


def test_copy_has_new_ids_and_keeps_the_drawing() -> None:
    original = Graph.from_document(demo_graph_document("salesperson_escalation"))
    copy = Graph.from_document(copy_as_new(original.to_document(), "Escalation (copy)"))

    old_ids = {n.id for n in original.nodes} | {e.id for e in original.edges} | {original.id}
    new_ids = {n.id for n in copy.nodes} | {e.id for e in copy.edges} | {copy.id}
    assert old_ids.isdisjoint(new_ids)
    assert copy.name == "Escalation (copy)"
    renamed = {old.id: new.id for old, new in zip(original.nodes, copy.nodes, strict=True)}
    assert {renamed[k]: v for k, v in original.layout.items()} == dict(copy.layout)
    assert [(renamed[e.source.node], renamed[e.target.node]) for e in original.edges] == [
        (e.source.node, e.target.node) for e in copy.edges
    ]
    assert [n.params for n in original.nodes] == [n.params for n in copy.nodes]


def test_copy_of_an_installed_template_can_be_stored_next_to_it(db: Database) -> None:
    clock = ManualClock()
    shop(db, clock)
    taken = [g.name for g in graphs.list_graphs(db)]

    name = unique_name(DELIVERED, taken)
    graphs.create_graph(db, copy_as_new(demo_graph_document("delivered_email"), name), actor="ana")

    assert name == f"{DELIVERED} (copy)"
    assert [g.name for g in graphs.list_graphs(db)].count(name) == 1


def test_unique_name_counts_up_past_existing_copies() -> None:
    assert unique_name("A", []) == "A"
    assert unique_name("A", ["A", "A (copy)", "A (copy 2)"]) == "A (copy 3)"


def test_name_problem_asks_for_a_free_name() -> None:
    assert name_problem("  ", []) == (
        "Give the automation a name, for example 'Delivered → thank-you email'."
    )
    assert "already exists" in (name_problem("A ", ["A"]) or "")
    assert name_problem("B", ["A"]) is None
