"""A source's records as a person browses them: shown columns, status in words, labels.

The designer's Records panel lists these so a person can find a record and change it
the way the host application would. A search matches any shown column, the key, the
status code or the status's description; the list stops at :data:`SHOWN` rows, because
nobody scrolls further and the search narrows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, String, cast, or_, select

from engine.sources import registry, status_codes
from engine.sources.hosts import hosts
from engine.sources.introspection import label_names, reflect_table
from engine.sources.registry import SourceInfo
from engine.storage.database import Database

SHOWN = 500  # rows


@dataclass(frozen=True)
class RecordRow:
    key: str
    values: tuple[str, ...]
    status: str  # "DEL – Delivered"
    labels: tuple[str, ...]


@dataclass(frozen=True)
class RecordList:
    """One source's records as the panel shows them, with what may be chosen."""

    source: str
    headers: tuple[str, ...]
    rows: tuple[RecordRow, ...]
    codes: tuple[tuple[str, str], ...]  # (code, "DEL – Delivered")
    labels: tuple[str, ...] | None  # labels in use; None: the source has no labels
    more: bool  # there were more than SHOWN matches


def status_text(code: str, descriptions: dict[str, str]) -> str:
    description = descriptions.get(code)
    return f"{code} – {description}" if description else code


def load_records(db: Database, source_name: str, search: str = "") -> RecordList:
    """The records of a source whose shown columns or status contain ``search``."""
    with db.read() as conn:
        source = registry.get_source(conn, source_name)
        descriptions = {c.code: c.description for c in status_codes.list_codes(conn, source_name)}
        with hosts.connect(conn, source) as host:
            table = reflect_table(host, source.table)
            columns = [table.c[name] for name in source.display_columns if name in table.c]
            key, status = table.c[source.key_column], table.c[source.status_column]
            query = select(key, status, *columns).order_by(key).limit(SHOWN + 1)
            if search.strip():
                query = query.where(_matches(search.strip(), [key, status, *columns], descriptions))
            found = host.execute(query).all()
            labels = _labels_in_use(host, source)
            keys = [str(row[0]) for row in found[:SHOWN]]
            by_key = _labels_of(host, source, keys) if labels is not None else {}
    return RecordList(
        source_name,
        tuple(c.name.replace("_", " ").capitalize() for c in columns),
        tuple(_row(row, descriptions, by_key) for row in found[:SHOWN]),
        tuple((code, status_text(code, descriptions)) for code in descriptions),
        labels,
        len(found) > SHOWN,
    )


def _matches(
    search: str, columns: list[ColumnElement[Any]], descriptions: dict[str, str]
) -> ColumnElement[bool]:
    """Any shown column contains the text, or the status's description does."""
    pattern = f"%{search}%"
    described = [code for code, text in descriptions.items() if search.lower() in text.lower()]
    status = columns[1]
    return or_(*(cast(c, String).ilike(pattern) for c in columns), status.in_(described))


def _row(
    row: Sequence[Any], descriptions: dict[str, str], labels: dict[str, list[str]]
) -> RecordRow:
    key = str(row[0])
    return RecordRow(
        key,
        tuple("" if value is None else str(value) for value in row[2:]),
        status_text(str(row[1]), descriptions),
        tuple(sorted(labels.get(key, ()))),
    )


def _labels_in_use(conn: Connection, source: SourceInfo) -> tuple[str, ...] | None:
    if not (source.label_table and source.label_column):
        return None
    return tuple(label_names(conn, source))


def _labels_of(conn: Connection, source: SourceInfo, keys: list[str]) -> dict[str, list[str]]:
    """The labels of many records in one query, by record key."""
    assert source.label_table and source.label_key_column and source.label_column
    table = reflect_table(conn, source.label_table)
    owner = cast(table.c[source.label_key_column], String)
    found: dict[str, list[str]] = {}
    for key, label in conn.execute(
        select(owner, table.c[source.label_column]).where(owner.in_(keys))
    ):
        found.setdefault(str(key), []).append(str(label))
    return found
