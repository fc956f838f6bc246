"""A condition on many values at once, said the way each database handles best.

An IN list of a hundred values makes a statement several kilobytes long, which
psycopg parses anew on every execution (it caches only short statements): a fifth of
the engine's time went there. On PostgreSQL the values go as one array parameter
instead (``= ANY(:values)``), a short statement parsed once. SQLite has no arrays
and gets the IN list, which costs it nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY


def one_of(conn: Connection, column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    """``column`` is one of the values passed as the parameter ``name`` (a list)."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))
