"""``statusflow db``: create or upgrade the schema, and say which database is in use."""

from __future__ import annotations

import argparse

from app.context import Context
from engine.sources import registry
from engine.storage import schema
from engine.storage.database import describe


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("db", help="create or upgrade the database schema")
    db_sub = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_sub.add_parser("upgrade", help="create the tables or bring them up to date").set_defaults(
        func=upgrade
    )
    db_sub.add_parser("info", help="show which database is used and its schema").set_defaults(
        func=info
    )


def upgrade(ctx: Context, _args: argparse.Namespace) -> int:
    db = ctx.database(check_schema=False)
    before, after = schema.upgrade(db)
    registry.renew_capture(db)
    where = describe(db.url)
    if before == after:
        print(f"{where} is up to date (schema {after}).")
    else:
        print(f"{where} upgraded from schema {before or 'empty'} to {after}.")
    if db.schema is not None:
        print(f"StatusFlow's tables are in the PostgreSQL schema {db.schema}.")
    return 0


def info(ctx: Context, _args: argparse.Namespace) -> int:
    db = ctx.database(check_schema=False)
    revision = schema.current_revision(db)
    print(f"Database: {describe(db.url)}")
    print(f"Chosen by: {ctx.choice.origin}")
    print(f"Schema:   {revision or 'none yet'} (this program: {schema.head_revision()})")
    if db.schema is not None:
        print(f"Tables:   in the PostgreSQL schema {db.schema} (choose another with ?schema=NAME)")
    return 0
