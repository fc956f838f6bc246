"""What a MariaDB/MySQL login may do, read from the server's own privilege tables.

MySQL has no ``has_table_privilege``; ``information_schema`` lists the current login's
privileges at the server, database and table level, which is what a ``GRANT`` gives.
(Privileges that come only through a MariaDB role that is not the default are not
seen; ``source check`` then reports them missing, and the SQL it prints still works.)
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from engine.sources.introspection import split_name

_PRIVILEGES = text(
    "SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = :g "
    "UNION SELECT PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES "
    "WHERE GRANTEE = :g AND TABLE_SCHEMA = :s "
    "UNION SELECT PRIVILEGE_TYPE FROM information_schema.TABLE_PRIVILEGES "
    "WHERE GRANTEE = :g AND TABLE_SCHEMA = :s AND TABLE_NAME = :t"
)


def login(conn: Connection) -> str:
    """The login as GRANT names it: ``'statusflow'@'%'``."""
    user, _, host = str(conn.scalar(text("SELECT CURRENT_USER()"))).rpartition("@")
    return f"'{user}'@'{host}'"


def _located(conn: Connection, table: str) -> tuple[str, str]:
    schema, name = split_name(table)
    return schema or str(conn.scalar(text("SELECT DATABASE()"))), name


def privileges(conn: Connection, table: str) -> set[str]:
    """Everything the current login may do to ``table`` (``db.table`` or plain)."""
    schema, name = _located(conn, table)
    rows = conn.execute(_PRIVILEGES, {"g": login(conn), "s": schema, "t": name})
    return {str(row[0]).upper() for row in rows}


def grant_sql(conn: Connection, privilege: str, table: str) -> str:
    quote = conn.dialect.identifier_preparer.quote
    schema, name = _located(conn, table)
    return f"GRANT {privilege} ON {quote(schema)}.{quote(name)} TO {login(conn)};"
