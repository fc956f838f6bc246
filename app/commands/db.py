"""``statusflow db``: create or upgrade the schema, and say which database is in use."""

from __future__ import annotations

import argparse

from app.context import Context
from engine.errors import StatusFlowError
from engine.services.database import describe, roles_sql, schema
from engine.services.database import install_roles as install
from engine.sources import registry


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("db", help="create or upgrade the database schema")
    db_sub = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_sub.add_parser("upgrade", help="create the tables or bring them up to date").set_defaults(
        func=upgrade
    )
    db_sub.add_parser("info", help="show which database is used and its schema").set_defaults(
        func=info
    )
    roles = db_sub.add_parser(
        "roles",
        help="PostgreSQL: create the group roles that make the database enforce each "
        "person's role (needs CREATEROLE)",
    )
    roles.add_argument("--sql", action="store_true", help="print the SQL instead of running it")
    roles.set_defaults(func=install_roles)


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


def install_roles(ctx: Context, args: argparse.Namespace) -> int:
    db = ctx.database()
    if args.sql:
        if db.schema is None:
            raise StatusFlowError("Database roles are for a shared PostgreSQL database.")
        print(";\n".join(roles_sql(db.schema)) + ";")
        return 0
    install(db)
    print(
        "Created StatusFlow's group roles (statusflow_designer, statusflow_publisher, "
        "statusflow_operator, statusflow_admin, statusflow_engine) and their grants. "
        "'statusflow user add' now also creates each person's own login."
    )
    return 0
