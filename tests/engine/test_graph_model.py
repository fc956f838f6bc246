"""The graph document: read, written, edited, and refused in plain words when unusable."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import GraphFormatError
from engine.graph.model import Edge, Graph, Node, PortRef, dumps, loads, new_edge, new_node, schema
from engine.nodes import catalogue

DOC: dict[str, Any] = {
    "format_version": 2,
    "id": "6d7b2a52-2c52-4a43-9d43-0d7c1c4f8a10",
    "name": "Delivered → confirmation email",
    "description": "Thank the customer",
    "source": "orders",
    "nodes": [
        {
            "id": "n-trigger",
            "type": "trigger.status_entered",
            "params": {"codes": ["DEL"]},
            "note": "",
        },
        {"id": "n-mail", "type": "action.send_email", "params": {"subject": "Hi"}, "note": "VIP"},
    ],
    "edges": [
        {
            "id": "e-1",
            "from": {"node": "n-trigger", "port": "out"},
            "to": {"node": "n-mail", "port": "in"},
        }
    ],
    "layout": {"nodes": {"n-trigger": {"x": 0, "y": 0}, "n-mail": {"x": 240.5, "y": -10}}},
}


def test_a_current_document_round_trips_exactly() -> None:
    assert Graph.from_document(DOC).to_document() == DOC


def test_a_stored_document_reads_the_same_and_a_damaged_one_still_says_why() -> None:
    assert Graph.from_stored(DOC) == Graph.from_document(DOC)
    damaged = {key: value for key, value in DOC.items() if key != "nodes"}
    with pytest.raises(GraphFormatError, match=r"damaged or was changed by hand.*'nodes'"):
        Graph.from_stored(damaged)


def test_dumps_is_stable_sorted_and_readable() -> None:
    text = dumps(Graph.from_document(DOC))
    assert text == dumps(loads(text))
    assert text.index('"description"') < text.index('"edges"') < text.index('"format_version"')
    assert "\n  " in text and text.endswith("\n")


def test_optional_parts_get_their_defaults() -> None:
    minimal = {"format_version": 2, "id": "g", "name": "n", "nodes": [], "edges": []}
    graph = Graph.from_document(minimal)
    assert (graph.description, graph.source, dict(graph.layout)) == ("", None, {})


def test_the_schema_is_draft_2020_12_and_accepts_the_documented_example() -> None:
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(schema())
    assert schema()["$schema"].endswith("2020-12/schema")
    jsonschema.validate(DOC, schema())


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "one JSON object"),
        ('{"format_version": 2, "n": NaN}', "not valid JSON"),
    ],
)
def test_loads_refuses_what_is_not_a_graph(text: str, words: str) -> None:
    with pytest.raises(GraphFormatError, match=words):
        loads(text)


def test_a_structure_error_is_reported_with_where_it_is() -> None:
    doc = copy.deepcopy(DOC)
    del doc["nodes"][1]["type"]
    doc["edges"][0]["from"]["port"] = 7
    with pytest.raises(GraphFormatError) as caught:
        Graph.from_document(doc)
    message = str(caught.value)
    assert "edges[0].from.port should be text" in message
    assert "nodes[1] has no 'type'" in message
    assert "export the graph again" in message


def test_an_unexpected_entry_is_named() -> None:
    with pytest.raises(GraphFormatError, match="does not know: 'colour'"):
        Graph.from_document({**DOC, "colour": "red"})


def test_two_steps_with_the_same_id_are_refused() -> None:
    doc = copy.deepcopy(DOC)
    doc["nodes"][1]["id"] = "n-trigger"
    with pytest.raises(GraphFormatError, match="same step id 'n-trigger'"):
        Graph.from_document(doc)


def test_new_node_has_a_fresh_uuid_and_the_type_defaults() -> None:
    first, second = new_node("wait.duration"), new_node("action.set_status", {"code": "DEL"})
    assert uuid.UUID(first.id).version == 4 and first.id != second.id
    assert first.params == catalogue.require("wait.duration").defaults()
    assert second.params["code"] == "DEL" and "retry_attempts" in second.params


def test_lookups() -> None:
    graph = Graph.from_document(DOC)
    assert graph.node("n-mail").note == "VIP"
    assert graph.node("missing") is None
    assert [e.id for e in graph.outgoing("n-trigger")] == ["e-1"]
    assert [e.id for e in graph.incoming("n-mail")] == ["e-1"]
    assert [n.id for n in graph.triggers()] == ["n-trigger"]


def test_edits_return_new_graphs_and_keep_node_ids() -> None:
    graph = Graph.from_document(DOC)
    wait = Node("n-wait", "wait.duration", {"duration": {"amount": 2, "unit": "hours"}})
    edited = (
        graph.with_node(wait, position=(5, 6))
        .with_edge(Edge("e-2", PortRef("n-mail", "out"), PortRef("n-wait", "in")))
        .with_params("n-mail", {"subject": "Thanks"})
    )
    assert graph.to_document() == DOC
    assert [n.id for n in edited.nodes] == ["n-trigger", "n-mail", "n-wait"]
    assert edited.node("n-mail").params == {"subject": "Thanks"}
    assert edited.layout["n-wait"] == (5, 6)
    assert len(edited.without_edge("e-2").edges) == 1


def test_without_node_also_drops_its_edges_and_position() -> None:
    graph = Graph.from_document(DOC).without_node("n-mail")
    assert [n.id for n in graph.nodes] == ["n-trigger"]
    assert graph.edges == () and "n-mail" not in graph.layout


def test_replacing_a_node_or_edge_keeps_its_place() -> None:
    graph = Graph.from_document(DOC)
    renamed = graph.with_node(Node("n-trigger", "trigger.manual"))
    assert [n.type for n in renamed.nodes] == ["trigger.manual", "action.send_email"]
    edge = new_edge(PortRef("n-trigger", "out"), PortRef("n-mail", "in"))
    assert len(graph.with_edge(edge).with_edge(edge).edges) == 2


def test_with_params_on_a_missing_node_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        Graph.from_document(DOC).with_params("nope", {})


# -- malformed documents: from_document returns a Graph or raises GraphFormatError ---------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
KEYS = ["format_version", "id", "name", "description", "source", "nodes", "edges", "layout"]


@st.composite
def damaged_documents(draw: st.DrawFn) -> Any:
    doc = copy.deepcopy(DOC)
    doc["format_version"] = draw(st.sampled_from([1, 2, 2, 2, 3]))
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=3)):
        if draw(st.booleans()):
            doc.pop(key, None)
        else:
            doc[key] = draw(json_values)
    nodes = doc.get("nodes")
    if draw(st.booleans()) and isinstance(nodes, list) and nodes and isinstance(nodes[0], dict):
        node = nodes[0]
        node[draw(st.sampled_from(["id", "type", "params", "settings", "position", "x"]))] = draw(
            json_values
        )
    if draw(st.booleans()) and isinstance(doc.get("edges"), list):
        doc["edges"].append(draw(json_values | st.text(max_size=20)))
    return doc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(json_values, damaged_documents()))
def test_from_document_returns_a_graph_or_raises_graph_format_error(doc: Any) -> None:
    try:
        graph = Graph.from_document(doc)
    except GraphFormatError as exc:
        assert str(exc)
        return
    assert isinstance(graph, Graph)
    assert Graph.from_document(json.loads(dumps(graph))) == graph


def test_connections_that_make_no_sense_are_refused() -> None:
    from engine.graph.connections import connection_problem

    trigger = new_node("trigger.status_entered", {"codes": ["DEL"]})
    email = new_node("action.send_email", {"subject": "Hi"})
    other = new_node("trigger.manual")
    graph = Graph(id="g", name="g").with_node(trigger).with_node(email).with_node(other)
    assert connection_problem(graph, PortRef(trigger.id, "out"), PortRef(email.id, "in")) is None
    assert "is a trigger" in connection_problem(
        graph, PortRef(email.id, "out"), PortRef(other.id, "in")
    )
    assert "into itself" in connection_problem(
        graph, PortRef(email.id, "out"), PortRef(email.id, "in")
    )
    assert "no output 'true'" in connection_problem(
        graph, PortRef(trigger.id, "true"), PortRef(email.id, "in")
    )
    linked = graph.with_edge(new_edge(PortRef(trigger.id, "out"), PortRef(email.id, "in")))
    assert "already connected" in connection_problem(
        linked, PortRef(trigger.id, "out"), PortRef(email.id, "in")
    )
