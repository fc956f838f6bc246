"""What a business table looks like, read from the database itself.

Every table and column name a person types is checked here against what the database
reports before any SQL uses it, and the stored spelling is what the rest of StatusFlow
keeps. A name that does not exist is answered with the names that do, because the
person fixing it needs the list, not a stack trace.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    Numeric,
    Table,
    inspect,
    select,
)
from sqlalchemy.types import TypeEngine

from engine.errors import SourceError

if TYPE_CHECKING:
    from engine.sources.registry import SourceInfo

FIELD_KINDS = ("text", "number", "date", "datetime", "boolean")


def _is_statusflow_table(name: str) -> bool:
    return name.lower().startswith("sf_") or name.lower() == "alembic_version"


def business_tables(conn: Connection) -> list[str]:
    """The tables a person may register: everything except StatusFlow's own."""
    return sorted(t for t in inspect(conn).get_table_names() if not _is_statusflow_table(t))


def _stored_name(name: str, existing: Sequence[str]) -> str | None:
    """The exact match, else the only match ignoring case (PostgreSQL folds to lower)."""
    if name in existing:
        return name
    folded = [e for e in existing if e.casefold() == name.casefold()]
    return folded[0] if len(folded) == 1 else None


def check_table(conn: Connection, table: str) -> str:
    """The table's name as the database stores it; refuse names it does not know."""
    tables = business_tables(conn)
    stored = _stored_name(table, tables)
    if stored is not None:
        return stored
    listing = ", ".join(tables) or "none yet"
    if _is_statusflow_table(table):
        raise SourceError(
            f"'{table}' is one of StatusFlow's own tables and cannot be a record source. "
            f"Choose one of your tables: {listing}."
        )
    raise SourceError(f"There is no table '{table}' in this database. Its tables are: {listing}.")


def column_names(conn: Connection, table: str) -> list[str]:
    """The table's columns in the order the database defines them."""
    return [c["name"] for c in inspect(conn).get_columns(table)]


def check_columns(conn: Connection, table: str, columns: Iterable[str]) -> list[str]:
    """The columns' names as stored; refuse the first one the table does not have."""
    existing = column_names(conn, table)
    stored = []
    for column in columns:
        name = _stored_name(column, existing)
        if name is None:
            raise SourceError(
                f"{table} has no column '{column}'. Its columns are: {', '.join(existing)}."
            )
        stored.append(name)
    return stored


def field_kind(type_: TypeEngine[Any]) -> str:
    """How conditions and templates treat a column: one of :data:`FIELD_KINDS`."""
    if isinstance(type_, Boolean):
        return "boolean"
    if isinstance(type_, DateTime):
        return "datetime"
    if isinstance(type_, Date):
        return "date"
    if isinstance(type_, Integer | Numeric | Float):
        return "number"
    return "text"


def table_fields(conn: Connection, table: str) -> dict[str, str]:
    """Each column of the table and its field kind, in the table's column order."""
    return {c["name"]: field_kind(c["type"]) for c in inspect(conn).get_columns(table)}


def foreign_key_columns(conn: Connection, table: str, referred_table: str) -> list[str]:
    """Columns of ``table`` that alone reference ``referred_table`` (a label's record key)."""
    return [
        fk["constrained_columns"][0]
        for fk in inspect(conn).get_foreign_keys(table)
        if fk["referred_table"] == referred_table and len(fk["constrained_columns"]) == 1
    ]


def _reflect(conn: Connection, table: str) -> Table:
    return Table(table, MetaData(), autoload_with=conn, resolve_fks=False)


def key_value(column: Column[Any], key: str) -> Any:
    """A key as events carry it (text) in the column's Python type, so both backends
    compare like with like; ValueError when it cannot be one ("12a" for a number)."""
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return key
    return python_type(key) if python_type in (int, float, Decimal) else key


def label_names(conn: Connection, source: SourceInfo) -> list[str]:
    """The distinct labels records of this source carry now, sorted."""
    if source.label_table is None or source.label_column is None:
        return []
    label = _reflect(conn, source.label_table).c[source.label_column]
    query = select(label).where(label.is_not(None)).distinct().order_by(label)
    return [str(value) for value in conn.scalars(query)]
