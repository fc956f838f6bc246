"""Alembic environment: always run through engine.storage.schema with a live connection."""

from __future__ import annotations

from alembic import context

from engine.storage.schema import VERSION_TABLE
from engine.storage.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    version_table=VERSION_TABLE,  # never Alembic's default: a host may use Alembic too
)
with context.begin_transaction():
    context.run_migrations()
