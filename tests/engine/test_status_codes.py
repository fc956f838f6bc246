"""The status-code catalogue of a source: loaded from CSV, a table or a list, and audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text

from engine.errors import SourceError
from engine.sources.registry import add_source
from engine.sources.status_codes import (
    StatusCode,
    list_codes,
    load_codes_from_csv,
    load_codes_from_table,
    set_codes,
)
from engine.storage.database import Database
from engine.storage.tables import audit_entries
from tests.host import as_host


@pytest.fixture
def shipments(db: Database) -> Database:
    with as_host(db) as conn:
        conn.execute(text("CREATE TABLE shipments (id INTEGER PRIMARY KEY, stage TEXT)"))
    add_source(db, name="shipments", table="shipments", key_column="id", status_column="stage")
    return db


def write_csv(tmp_path: Path, content: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "codes.csv"
    path.write_text(content, encoding=encoding)
    return path


def test_a_spreadsheet_export_with_bom_and_semicolons_is_loaded_in_its_sort_order(
    shipments: Database, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path,
        "Code;Description;Sort_Order\r\nDEL;Delivered;30\r\nNEW;New order;10\r\n\r\n"
        "SHP;Shipped;20\r\n",
        encoding="utf-8-sig",
    )
    loaded = load_codes_from_csv(shipments, "shipments", path, actor="ana")
    expected = [
        StatusCode("NEW", "New order", 10),
        StatusCode("SHP", "Shipped", 20),
        StatusCode("DEL", "Delivered", 30),
    ]
    assert loaded == expected
    assert list_codes(shipments, "shipments") == expected


def test_without_a_sort_order_the_files_order_is_kept(shipments: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path, 'code,description\nZZZ,"Waiting, on customer"\nAAA,Archived\n')
    load_codes_from_csv(shipments, "shipments", path)
    assert [(c.code, c.description) for c in list_codes(shipments, "shipments")] == [
        ("ZZZ", "Waiting, on customer"),
        ("AAA", "Archived"),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("code,description\nNEW,New\n,Nameless\n", "Line 3 of codes.csv has no code"),
        (
            "code,description\nNEW,New\nDEL,Delivered\nNEW,Renewed\n",
            r"Line 4 of codes.csv repeats the code 'NEW' \(line 2 of codes.csv has it too\)",
        ),
        ("code;label\nNEW;New\n", "Line 1 of codes.csv has no 'description' column"),
        ("code,description,sort_order\nNEW,New,first\n", "Line 2 of codes.csv: the sort order"),
        ("code,description\n", "codes.csv holds no status codes"),
    ],
)
def test_a_faulty_file_is_refused_with_its_line_and_changes_nothing(
    shipments: Database, tmp_path: Path, content: str, message: str
) -> None:
    set_codes(shipments, "shipments", [("OLD", "Kept")])
    with pytest.raises(SourceError, match=message):
        load_codes_from_csv(shipments, "shipments", write_csv(tmp_path, content))
    assert list_codes(shipments, "shipments") == [StatusCode("OLD", "Kept", 1)]


def test_a_missing_file_is_named(shipments: Database, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"There is no file .*nope.csv"):
        load_codes_from_csv(shipments, "shipments", tmp_path / "nope.csv")


def test_replacing_the_catalogue_is_audited_with_before_and_after(shipments: Database) -> None:
    set_codes(shipments, "shipments", [("NEW", "New")], actor="ana")
    replaced = set_codes(shipments, "shipments", [(" DEL ", "Delivered"), ("NEW", "New")], "bo")
    assert [c.code for c in replaced] == ["DEL", "NEW"]
    with shipments.read() as conn:
        query = select(audit_entries).where(audit_entries.c.action == "status_codes.replace")
        last = conn.execute(query.order_by(audit_entries.c.id.desc())).first()
    assert last is not None
    assert (last.actor, last.object_id) == ("bo", "shipments")
    assert [c["code"] for c in last.before] == ["NEW"]
    assert [c["code"] for c in last.after] == ["DEL", "NEW"]


def test_codes_are_loaded_from_a_table_of_the_host_application(shipments: Database) -> None:
    with as_host(shipments) as conn:
        conn.execute(text("CREATE TABLE stage_codes (stage_code TEXT, label TEXT)"))
        conn.execute(text("INSERT INTO stage_codes VALUES ('SHP', 'Shipped'), ('DEL', NULL)"))
    with pytest.raises(SourceError, match=r"stage_codes has no column 'code'.*stage_code, label"):
        load_codes_from_table(shipments, "shipments", "stage_codes")
    loaded = load_codes_from_table(
        shipments, "shipments", "stage_codes", code_column="stage_code", description_column="label"
    )
    assert loaded == [StatusCode("DEL", "", 1), StatusCode("SHP", "Shipped", 2)]


def test_codes_of_an_unknown_source_are_refused(shipments: Database) -> None:
    with pytest.raises(SourceError, match="no record source named 'orders'"):
        list_codes(shipments, "orders")
