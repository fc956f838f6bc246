"""StatusFlow's own database as the designer and the command line open it: the
connection, its schema, how a URL is shown without its password, and (on PostgreSQL)
the group roles that make the database enforce each person's role."""

from __future__ import annotations

from engine.governance.db_logins import install_roles, roles_sql
from engine.storage import schema
from engine.storage.database import Database, database_secret_name, describe, parse_url
from engine.storage.types import new_id

__all__ = [
    "Database",
    "database_secret_name",
    "describe",
    "install_roles",
    "new_id",
    "parse_url",
    "roles_sql",
    "schema",
]
