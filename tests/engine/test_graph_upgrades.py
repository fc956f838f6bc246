"""Graphs saved in older formats still open, unchanged in meaning."""

from __future__ import annotations

import copy
import uuid

import pytest

from engine.errors import GraphFormatError
from engine.graph.model import Graph
from engine.graph.upgrades import CURRENT_VERSION, EDGE_NAMESPACE, from_version_1, upgrade

V1 = {
    "format_version": 1,
    "id": "g-1",
    "name": "Delivered → confirmation email",
    "source": "orders",
    "nodes": [
        {
            "id": "t",
            "type": "trigger.status_entered",
            "settings": {"codes": ["DEL"]},
            "position": [10, 20.5],
        },
        {"id": "mail", "type": "action.send_email", "settings": {"subject": "Hi"}, "note": "x"},
    ],
    "edges": ["t.out -> mail.in", "t.out->mail.in"],
}

EDGE_ID = str(uuid.uuid5(EDGE_NAMESPACE, "t.out -> mail.in"))

V2 = {
    "format_version": 2,
    "id": "g-1",
    "name": "Delivered → confirmation email",
    "source": "orders",
    "nodes": [
        {"id": "t", "type": "trigger.status_entered", "params": {"codes": ["DEL"]}},
        {"id": "mail", "type": "action.send_email", "params": {"subject": "Hi"}, "note": "x"},
    ],
    "edges": [
        {"id": EDGE_ID, "from": {"node": "t", "port": "out"}, "to": {"node": "mail", "port": "in"}}
    ],
    "layout": {"nodes": {"t": {"x": 10, "y": 20.5}}},
}


def test_version_1_becomes_version_2() -> None:
    assert from_version_1(V1) == V2


def test_upgrade_does_not_change_its_argument() -> None:
    before = copy.deepcopy(V1)
    upgrade(V1)
    from_version_1(V1)
    assert before == V1


def test_upgrading_twice_gives_the_same_edge_ids() -> None:
    assert upgrade(V1)["edges"][0]["id"] == upgrade(copy.deepcopy(V1))["edges"][0]["id"] == EDGE_ID


def test_a_current_document_is_left_as_it_is() -> None:
    assert upgrade(V2) == V2
    assert upgrade(V2) is not V2


def test_an_upgraded_document_opens_as_a_graph() -> None:
    graph = Graph.from_document(V1)
    assert graph.node("t").params == {"codes": ["DEL"]}
    assert graph.layout == {"t": (10, 20.5)}
    assert [(e.source.node, e.target.node) for e in graph.edges] == [("t", "mail")]


def test_a_position_that_is_not_two_numbers_is_dropped() -> None:
    doc = {**V1, "nodes": [{"id": "t", "type": "trigger.manual", "position": "left"}]}
    assert "layout" not in from_version_1(doc)
    assert "position" not in from_version_1(doc)["nodes"][0]


def test_an_unreadable_version_1_edge_is_refused_with_its_text() -> None:
    with pytest.raises(GraphFormatError, match=r"'t -> mail\.in'"):
        upgrade({**V1, "edges": ["t -> mail.in"]})


def test_a_newer_format_is_refused() -> None:
    with pytest.raises(GraphFormatError) as caught:
        upgrade({**V2, "format_version": CURRENT_VERSION + 1})
    assert str(caught.value).startswith("This graph was saved by a newer StatusFlow (format 3)")


@pytest.mark.parametrize("version", [None, "2", 0, True, 1.5])
def test_a_missing_or_odd_version_is_refused_not_guessed(version: object) -> None:
    doc = {k: v for k, v in V2.items() if k != "format_version"}
    if version is not None:
        doc["format_version"] = version
    with pytest.raises(GraphFormatError, match="format"):
        upgrade(doc)
