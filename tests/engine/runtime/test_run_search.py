"""Finding runs as support staff ask for them, and one record's timeline with versions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.clock import ManualClock
from engine.graphs import find_graph
from engine.runtime.run_search import (
    RunQuery,
    describe_record,
    load_timeline,
    search_runs,
)
from engine.sources.registry import get_source
from engine.storage.database import Database
from tests.engine.runtime.graphs import NOTE, note_graph
from tests.engine.runtime.support import engine, publish, set_status, shop


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def delivered(db: Database, clock: ManualClock, *keys: int) -> str:
    """Publish the note graph, deliver the orders an hour apart; returns the version id."""
    version = publish(db, note_graph(), clock)
    worker = engine(db, clock)
    for key in keys:
        set_status(db, "orders", key, "DEL")
        worker.run_until_idle()
        clock.advance(timedelta(hours=1))
    worker.stop()
    return version


def test_a_run_is_found_by_customer_name_or_order_number_and_says_whose_it_is(
    db: Database, clock: ManualClock
) -> None:
    shop(db, clock)
    delivered(db, clock, 7, 9)

    [by_name] = search_runs(db, "ana", RunQuery("anna cost"))
    [by_key] = search_runs(db, "ana", RunQuery("7"))

    assert by_name == by_key
    assert by_name.run.record_key == "7"
    assert by_name.run.graph_name == NOTE
    assert by_name.record.startswith("orders 7 — Anna Costa, anna.costa@example.com")


def test_an_empty_search_lists_every_run_newest_first_within_the_filters(
    db: Database, clock: ManualClock
) -> None:
    shop(db, clock)
    delivered(db, clock, 7, 9)
    with db.read() as conn:
        graph_id = find_graph(conn, NOTE).id

    def keys(query: RunQuery) -> list[str]:
        return [found.run.record_key for found in search_runs(db, "ana", query)]

    assert keys(RunQuery()) == ["9", "7"]
    assert keys(RunQuery(graph_id=graph_id, state="succeeded")) == ["9", "7"]
    assert keys(RunQuery(state="failed")) == []
    assert keys(RunQuery(since=clock.now() - timedelta(hours=1))) == ["9"]


def test_a_record_timeline_knows_each_run_s_version_and_path(
    db: Database, clock: ManualClock
) -> None:
    shop(db, clock)
    version = delivered(db, clock, 7)

    timeline = load_timeline(db, "ana", "orders", "7")

    [(run, steps)] = timeline.runs
    assert timeline.record.startswith("orders 7 — Anna Costa")
    assert not timeline.active
    graph_id, version_id, path = timeline.path(run.id)
    with db.read() as conn:
        assert (graph_id, version_id) == (find_graph(conn, NOTE).id, version)
    assert path == list(dict.fromkeys(step.node_id for step in steps if step.node_id))
    assert len(path) == 2  # the trigger and the note


def test_a_record_that_left_the_table_is_still_named(db: Database, clock: ManualClock) -> None:
    shop(db, clock)
    with db.read() as conn:
        orders = get_source(conn, "orders")

    assert describe_record(orders, "404", None) == "orders 404 (no longer in the table)"
    assert describe_record(orders, "5", {"id": 5, "customer_name": "", "email": None}) == (
        "orders 5"
    )
