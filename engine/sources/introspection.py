"""What a business table looks like, read from the database itself.

Every table and column name a person types is checked here against what the database
reports before any SQL uses it, and the stored spelling is what the rest of StatusFlow
keeps. A name that does not exist is answered with the names that do, because the
person fixing it needs the list, not a stack trace.

A table is named ``schema.table`` or plainly. On PostgreSQL a plain name means the
``public`` schema (StatusFlow's own connections search only StatusFlow's schema), and
the name is stored qualified; SQLite has no schemas.
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
    text,
)
from sqlalchemy.types import TypeEngine

from engine.errors import SourceError

if TYPE_CHECKING:
    from engine.sources.registry import SourceInfo

FIELD_KINDS = ("text", "number", "date", "datetime", "boolean")
HOST_DEFAULT_SCHEMA = "public"


def _is_statusflow_table(name: str) -> bool:
    return name.lower().startswith("sf_") or name.lower() == "alembic_version"


def split_name(table: str) -> tuple[str | None, str]:
    """``("shop", "orders")`` for ``shop.orders``; ``(None, "orders")`` for a plain name."""
    schema, _, name = table.rpartition(".")
    return schema or None, name


def _located(conn: Connection, table: str) -> tuple[str | None, str]:
    """Schema and name as the database looks them up (PostgreSQL: public by default)."""
    schema, name = split_name(table)
    if schema is None and conn.dialect.name == "postgresql":
        schema = HOST_DEFAULT_SCHEMA
    return schema, name


def quoted(conn: Connection, table: str) -> str:
    """The table name for SQL text, each part quoted by the dialect."""
    quote = conn.dialect.identifier_preparer.quote
    return ".".join(quote(part) for part in _located(conn, table) if part is not None)


def own_schema(conn: Connection) -> str | None:
    """StatusFlow's schema on PostgreSQL (first on its connections' search path), asked of
    the server: the dialect's cached idea of it is empty when the first connection came
    before ``db upgrade`` created the schema."""
    if conn.dialect.name != "postgresql":
        return None
    return conn.scalar(text("SELECT current_schema()"))


def business_tables(conn: Connection, schema: str | None = None) -> list[str]:
    """The tables of a schema a person may register: everything but StatusFlow's own."""
    if schema is None and conn.dialect.name == "postgresql":
        schema = HOST_DEFAULT_SCHEMA
    names = inspect(conn).get_table_names(schema=schema)
    return sorted(t for t in names if not _is_statusflow_table(t))


def host_schemas(conn: Connection) -> list[str]:
    """The schemas that may hold business tables: not the system's, and StatusFlow's own
    only when it shares it with the host (a database set up before StatusFlow kept to a
    schema of its own has both in public)."""
    if conn.dialect.name != "postgresql":
        return []
    own = own_schema(conn)
    names = inspect(conn).get_schema_names()
    return [
        n
        for n in names
        if not n.startswith(("pg_", "information_schema"))
        and (n != own or business_tables(conn, n))
    ]


_MYSQL_SYSTEM = ("information_schema", "mysql", "performance_schema", "sys")


def _check_schema(conn: Connection, schema: str | None, table: str) -> str | None:
    if schema is None:
        return None
    if conn.dialect.name in ("mysql", "mariadb"):  # a schema is another database there
        names = [n for n in inspect(conn).get_schema_names() if n not in _MYSQL_SYSTEM]
        stored = _stored_name(schema, names)
        if stored is None:
            raise SourceError(
                f"There is no database '{schema}' on this server (or StatusFlow's login may "
                f"not see it). It sees: {', '.join(names) or 'none'}."
            )
        return stored
    if conn.dialect.name != "postgresql":
        raise SourceError(
            f"'{table}' names a schema, but this SQLite database has none; use the plain "
            "table name."
        )
    schemas = host_schemas(conn)
    stored = _stored_name(schema, schemas)
    if stored is not None:
        return stored
    if schema == own_schema(conn):
        raise SourceError(
            f"{schema} is StatusFlow's own schema; its tables cannot be a record source. "
            f"Choose a table in one of: {', '.join(schemas) or 'no other schema yet'}."
        )
    raise SourceError(
        f"There is no schema '{schema}' in this database (or StatusFlow may not see it). "
        f"Its schemas are: {', '.join(schemas) or 'none'}."
    )


def _stored_name(name: str, existing: Sequence[str]) -> str | None:
    """The exact match, else the only match ignoring case (PostgreSQL folds to lower)."""
    if name in existing:
        return name
    folded = [e for e in existing if e.casefold() == name.casefold()]
    return folded[0] if len(folded) == 1 else None


def check_table(conn: Connection, table: str) -> str:
    """The table's name as the database stores it (qualified on PostgreSQL); refuse
    names it does not know."""
    schema, name = _located(conn, table)
    schema = _check_schema(conn, schema, table)
    tables = business_tables(conn, schema)
    stored = _stored_name(name, tables)
    if stored is not None:
        return f"{schema}.{stored}" if schema else stored
    listing = ", ".join(tables) or "none yet"
    if _is_statusflow_table(table):
        raise SourceError(
            f"'{table}' is one of StatusFlow's own tables and cannot be a record source. "
            f"Choose one of your tables: {listing}."
        )
    where = f"the schema {schema}" if schema else "this database"
    raise SourceError(f"There is no table '{name}' in {where}. Its tables are: {listing}.")


def _columns(conn: Connection, table: str) -> list[Any]:
    schema, name = _located(conn, table)
    return list(inspect(conn).get_columns(name, schema=schema))


def column_names(conn: Connection, table: str) -> list[str]:
    """The table's columns in the order the database defines them."""
    return [c["name"] for c in _columns(conn, table)]


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
    return {c["name"]: field_kind(c["type"]) for c in _columns(conn, table)}


def foreign_key_columns(conn: Connection, table: str, referred_table: str) -> list[str]:
    """Columns of ``table`` that alone reference ``referred_table`` (a label's record key)."""
    schema, name = _located(conn, table)
    referred_schema, referred_name = _located(conn, referred_table)
    return [
        fk["constrained_columns"][0]
        for fk in inspect(conn).get_foreign_keys(name, schema=schema)
        if fk["referred_table"] == referred_name
        and (fk["referred_schema"] or schema) == referred_schema
        and len(fk["constrained_columns"]) == 1
    ]


def reflect_table(conn: Connection, table: str) -> Table:
    """A host table as SQLAlchemy sees it, found in its own schema."""
    schema, name = _located(conn, table)
    return Table(name, MetaData(), schema=schema, autoload_with=conn, resolve_fks=False)


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
    label = reflect_table(conn, source.label_table).c[source.label_column]
    query = select(label).where(label.is_not(None)).distinct().order_by(label)
    return [str(value) for value in conn.scalars(query)]
