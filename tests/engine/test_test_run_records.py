"""Choosing the record a test run plays against: one of the source's, or one pasted."""

from __future__ import annotations

import pytest

from engine import graphs
from engine.clock import ManualClock
from engine.errors import StatusFlowError
from engine.governance.test_run_records import parse_record, record_choices
from engine.graph.model import Graph
from engine.storage.database import Database
from tests.engine.runtime.support import AUTHOR, shop

LADDER = "Salesperson not assigned → escalation ladder"


def test_the_records_of_the_graph_s_source_are_offered_by_their_display_columns(
    db: Database,
) -> None:
    shop(db, ManualClock())

    choices = record_choices(db, LADDER, limit=3)

    assert choices.source.name == "orders"
    assert [key for key, _ in choices.records] == ["1", "2", "3"]
    assert choices.records[2][1].startswith("3 – Finn Fischer – finn.fischer@example.com")
    assert "ASN" in [code.code for code in choices.codes]


def test_a_graph_that_watches_no_records_cannot_be_tested_yet(db: Database) -> None:
    shop(db, ManualClock())
    document = Graph(id="g-unwatched", name="Unwatched", source=None).to_document()
    graphs.create_graph(db, document, actor=AUTHOR)

    with pytest.raises(StatusFlowError, match="'Unwatched' does not watch any records yet"):
        record_choices(db, "Unwatched")


def test_a_pasted_record_is_read_as_one_json_object() -> None:
    assert parse_record('{"id": 999, "status": "SNA"}') == {"id": 999, "status": "SNA"}


@pytest.mark.parametrize(
    ("pasted", "says"),
    [
        ("  ", "Paste a record as JSON first, for example {"),
        ('{"id": 999 "status": "SNA"}', "not valid JSON (Expecting ',' delimiter at line 1, col"),
        ('[{"id": 999}]', "must be one JSON object in braces"),
    ],
)
def test_a_pasted_record_that_is_not_one_object_says_what_to_fix(pasted: str, says: str) -> None:
    with pytest.raises(StatusFlowError) as refused:
        parse_record(pasted)
    assert says in str(refused.value)
