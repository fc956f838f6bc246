"""Loops between graphs, found before publishing, in the words a publisher reads."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.analysis.loops import MAX_CYCLES, Step, cycles_among, find_cycles
from engine.clock import ManualClock
from engine.graph.model import Graph
from engine.storage.database import Database
from engine.storage.tables import graphs
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import publish, shop


def status_graph(
    name: str, starts: str, *sets: str, source: str = "orders", **trigger: Any
) -> Graph:
    """Starts on status ``starts`` and sets each of ``sets`` one after the other."""
    g = Builder(name, source)
    steps = [g.node("action.set_status", code=code) for code in sets]
    g.line(g.node("trigger.status_entered", codes=[starts], **trigger), *steps)
    return g.graph


def entry(graph: Graph) -> tuple[str, str, Graph]:
    return (graph.id, graph.name, graph)


def descriptions(*graphs: Graph, through: Graph | None = None) -> list[str]:
    found = cycles_among([entry(g) for g in graphs], through=through.id if through else None)
    return [cycle.describe() for cycle in found]


def test_two_graphs_that_start_each_other_are_a_loop() -> None:
    a = status_graph("Graph A", "ASN", "DEL")
    b = status_graph("Graph B", "DEL", "ASN")

    found = cycles_among([entry(b), entry(a)])

    assert [c.describe() for c in found] == [
        "Graph A sets DEL → Graph B starts on DEL and sets ASN → Graph A starts on ASN"
    ]
    assert found[0].steps == (Step("Graph A", "ASN", "DEL"), Step("Graph B", "DEL", "ASN"))


def test_a_loop_through_three_graphs_is_listed_once() -> None:
    a = status_graph("A", "NEW", "SNA")
    b = status_graph("B", "SNA", "ASN")
    c = status_graph("C", "ASN", "NEW")

    assert descriptions(c, a, b) == [
        "A sets SNA → B starts on SNA and sets ASN → C starts on ASN and sets NEW → A starts on NEW"
    ]


def test_labels_can_make_a_loop() -> None:
    vip = Builder("VIP welcome")
    vip.line(
        vip.node("trigger.label_applied", label="VIP"), vip.node("action.set_status", code="PRC")
    )
    a = status_graph("Busy", "PRC", "SHP")
    b = Builder("Ship bonus")
    b.line(
        b.node("trigger.status_entered", codes=["SHP"]), b.node("action.apply_label", label="VIP")
    )

    assert descriptions(vip.graph, a, b.graph) == [
        "Busy sets SHP → Ship bonus starts on SHP and sets label 'VIP' → "
        "VIP welcome starts on label 'VIP' and sets PRC → Busy starts on PRC"
    ]


def test_taking_a_label_off_starts_nothing() -> None:
    g = Builder("Unflag")
    g.line(
        g.node("trigger.label_applied", label="VIP"),
        g.node("action.apply_label", label="VIP", remove=True),
    )

    assert descriptions(g.graph) == []


def test_a_chain_that_ends_is_not_a_loop() -> None:
    a = status_graph("A", "NEW", "SNA")
    b = status_graph("B", "SNA", "ASN")
    c = status_graph("C", "ASN", "PRC")

    assert descriptions(a, b, c) == []


def test_an_action_no_trigger_reaches_does_not_count() -> None:
    a = status_graph("A", "ASN", "DEL")
    b = Builder("B")
    b.node("trigger.status_entered", codes=["DEL"])  # not connected to the action
    b.node("action.set_status", code="ASN")

    assert descriptions(a, b.graph) == []


def test_a_graph_that_sets_the_status_it_starts_on_loops_on_itself() -> None:
    a = status_graph("Reopen", "PRC", "SHP", "PRC")

    assert descriptions(a) == ["Reopen sets PRC → Reopen starts on PRC"]


def test_graphs_on_different_record_sources_do_not_start_each_other() -> None:
    a = status_graph("Orders", "NEW", "ACT")
    b = status_graph("Customers", "ACT", "NEW", source="customers")

    assert descriptions(a, b) == []


def test_only_when_it_was_breaks_a_loop_the_status_cannot_come_from() -> None:
    a = status_graph("A", "ASN", "DEL")
    b = status_graph("B", "DEL", "ASN", from_code="SHP")
    b_from_asn = status_graph("B", "DEL", "ASN", from_code="ASN")

    assert descriptions(a, b) == []
    assert len(descriptions(a, b_from_asn)) == 1


def test_each_trigger_only_counts_what_its_own_run_writes() -> None:
    a = status_graph("A", "ASN", "DEL")
    b = Builder("B")
    b.line(b.node("trigger.status_entered", codes=["DEL"]), b.node("action.add_note", note="Done"))
    b.line(b.node("trigger.status_entered", codes=["NEW"]), b.node("action.set_status", code="ASN"))

    assert descriptions(a, b.graph) == []


def test_through_lists_only_the_loops_of_that_graph_starting_with_it() -> None:
    a = status_graph("A", "ASN", "DEL")
    b = status_graph("B", "DEL", "ASN")
    c = status_graph("C", "PRC", "PRC")

    assert descriptions(a, b, c, through=b) == [
        "B sets ASN → A starts on ASN and sets DEL → B starts on DEL"
    ]
    assert descriptions(a, b, c) == [
        "A sets DEL → B starts on DEL and sets ASN → A starts on ASN",
        "C sets PRC → C starts on PRC",
    ]


def test_a_densely_linked_set_of_graphs_stops_at_the_limit() -> None:
    codes = ["NEW", "SNA", "ASN", "PRC", "SHP", "DEL", "CAN"]
    graphs = []
    for i in range(12):
        g = Builder(f"G{i:02d}")
        trigger = g.node("trigger.status_entered", codes=codes)
        for code in codes:
            g.link(trigger, g.node("action.set_status", code=code))
        graphs.append(g.graph)

    assert len(descriptions(*graphs)) == MAX_CYCLES


def test_publishing_checks_the_candidate_against_the_published_graphs(db: Database) -> None:
    clock = ManualClock()
    shop(db, clock)
    a = status_graph("Graph A", "ASN", "DEL")
    publish(db, a.to_document(), clock)
    b_v1 = status_graph("Graph B", "DEL", "SHP")
    publish(db, b_v1.to_document(), clock)
    with db.read() as conn:
        b_id = conn.execute(_graph_id_query("Graph B")).scalar_one()
        b_v2 = Graph.from_document(
            {**status_graph("Graph B", "DEL", "ASN").to_document(), "id": b_id}
        )

        assert find_cycles(conn, b_id, b_v1) == []
        assert [c.describe() for c in find_cycles(conn, b_id, b_v2)] == [
            "Graph B sets ASN → Graph A starts on ASN and sets DEL → Graph B starts on DEL"
        ]


def test_a_disabled_graph_is_not_part_of_a_loop(db: Database) -> None:
    clock = ManualClock()
    shop(db, clock)
    publish(db, status_graph("Graph A", "ASN", "DEL").to_document(), clock)
    candidate = status_graph("Graph B", "DEL", "ASN")
    with db.write() as conn:
        conn.execute(graphs.update().values(enabled=False))
    with db.read() as conn:
        assert find_cycles(conn, candidate.id, candidate) == []


def _graph_id_query(name: str):  # type: ignore[no-untyped-def]
    return select(graphs.c.id).where(graphs.c.name == name)
