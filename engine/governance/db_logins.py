"""People's own PostgreSQL logins, and the group roles the database checks them against.

``statusflow db roles`` (run once by someone allowed to create roles) makes the group
roles ``statusflow_designer``, ``statusflow_publisher``, ``statusflow_operator`` and
``statusflow_admin`` (each a member of ``statusflow_person``) and ``statusflow_engine``,
with their table grants. From then on ``statusflow user add`` also creates the person's
own login in their group roles, and the triggers of migration 0005 refuse, as the
database itself, what that login's roles may not do. A person connected with their own
login is who the database says (``session_user``): no StatusFlow password is asked.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from engine.errors import StatusFlowError
from engine.sources.registry import list_sources_in
from engine.storage.database import Database
from engine.storage.schema import VERSION_TABLE
from engine.storage.tables import ROLES

PERSON = "statusflow_person"
ENGINE = "statusflow_engine"
GROUPS = {role: f"statusflow_{role}" for role in ROLES}
ADMIN_DELETES = ("sf_user_roles", "sf_record_sources", "sf_status_codes")


def roles_sql(schema: str) -> list[str]:
    """The statements that create the group roles and grant them StatusFlow's tables
    in ``schema`` (and those later upgrades add); safe to run again."""
    create = [
        f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{name}') "
        f"THEN CREATE ROLE {name} NOLOGIN; END IF; END $$"
        for name in (PERSON, ENGINE, *GROUPS.values())
    ]
    return [
        *create,
        f"GRANT {PERSON} TO {', '.join(GROUPS.values())}",
        f"GRANT USAGE ON SCHEMA {schema} TO {PERSON}, {ENGINE}",
        f"GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA {schema} TO {PERSON}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {ENGINE}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {PERSON}, {ENGINE}",
        f"REVOKE INSERT, UPDATE, DELETE ON {schema}.{VERSION_TABLE} FROM {PERSON}, {ENGINE}",
        f"REVOKE UPDATE, DELETE ON {schema}.sf_audit_entries FROM {PERSON}, {ENGINE}",
        f"GRANT DELETE ON {', '.join(f'{schema}.{t}' for t in ADMIN_DELETES)} TO {GROUPS['admin']}",
    ]


def install_roles(db: Database) -> list[str]:
    """Run :func:`roles_sql` on ``db``; one sentence when this login may not."""
    if not db.is_postgresql or db.schema is None:
        raise StatusFlowError(
            "Database roles are for a shared PostgreSQL database; the embedded SQLite "
            "database has one person, signed in by the computer."
        )
    try:
        with db.write() as conn:
            statements = roles_sql(db.schema) + _record_reads(conn)
            for statement in statements:
                conn.execute(text(statement))
            _logins_for_accounts(conn)
    except DBAPIError as exc:
        raise StatusFlowError(
            f"The database refused to create StatusFlow's roles ({_first_line(exc)}). Run "
            "'statusflow db roles' as a login with CREATEROLE that owns StatusFlow's "
            "tables, or give 'statusflow db roles --sql' to the database administrator."
        ) from None
    return statements


def _record_reads(conn: Connection) -> list[str]:
    """People read the records of the sources in this database (previews, checks);
    writing them stays with the engine's login and the grants 'source check' lists."""
    statements = []
    for source in list_sources_in(conn):
        if source.host_url is not None:
            continue
        for table in filter(None, (source.table, source.label_table)):
            schema_name = table.split(".")[0] if "." in table else "public"
            statements.append(f'GRANT USAGE ON SCHEMA "{schema_name}" TO {PERSON}')
            statements.append(f"GRANT SELECT ON {_quoted(table)} TO {PERSON}")
    return statements


def _logins_for_accounts(conn: Connection) -> None:
    """Accounts made before the roles get a login in their group roles, without a
    password until an admin sets one ('statusflow user passwd'): nothing is lost."""
    rows = conn.execute(
        text(
            "SELECT u.username, u.is_active, array_agg(r.role) AS roles FROM sf_users u "
            "JOIN sf_user_roles r ON r.user_id = u.id "
            "WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = u.username) "
            "GROUP BY u.username, u.is_active"
        )
    ).all()
    for row in rows:
        create_login(conn, row.username, None, row.roles)
        set_login_active(conn, row.username, row.is_active)


def _quoted(table: str) -> str:
    return ".".join(f'"{part}"' for part in table.split("."))


def has_roles(conn: Connection) -> bool:
    """Whether ``statusflow db roles`` was run on this (PostgreSQL) database: the group
    roles are the server's, but only this database's grants say people use them here."""
    if conn.dialect.name != "postgresql":
        return False
    found = conn.execute(
        text(
            "SELECT 1 FROM pg_roles WHERE rolname = :r "
            "AND has_schema_privilege(:r, current_schema(), 'USAGE')"
        ),
        {"r": PERSON},
    )
    return found.first() is not None


def database_person(conn: Connection) -> str | None:
    """The person whose own login this connection is (``session_user``), or None for a
    login that is not a person's (the owner, an engine) or a database without roles."""
    if not has_roles(conn):
        return None
    return conn.execute(text("SELECT sf_person()")).scalar()


def create_login(
    conn: Connection, username: str, password: str | None, roles: Iterable[str]
) -> None:
    """The person's own login, in their group roles (in the caller's transaction)."""
    exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :u"), {"u": username})
    verb = "ALTER" if exists.first() is not None else "CREATE"
    _run(conn, f"{verb} ROLE %I LOGIN", username)
    set_login_password(conn, username, password)
    set_login_roles(conn, username, roles)


def set_login_roles(conn: Connection, username: str, roles: Iterable[str]) -> None:
    wanted = {GROUPS[role] for role in roles}
    for group in GROUPS.values():
        _run(conn, ("GRANT %I TO %I" if group in wanted else "REVOKE %I FROM %I"), group, username)


def set_login_password(conn: Connection, username: str, password: str | None) -> None:
    if password is None:
        _run(conn, "ALTER ROLE %I PASSWORD NULL", username)
    else:
        _run(conn, "ALTER ROLE %I PASSWORD %L", username, password)


def set_login_active(conn: Connection, username: str, active: bool) -> None:
    """A deactivated person's login cannot connect at all."""
    _run(conn, "ALTER ROLE %I LOGIN" if active else "ALTER ROLE %I NOLOGIN", username)


def _run(conn: Connection, template: str, *values: str) -> None:
    """DDL with quoted names and literals: PostgreSQL's own ``format`` does the quoting."""
    placeholders = ", ".join(f"CAST(:v{i} AS text)" for i in range(len(values)))
    statement = conn.execute(
        text(f"SELECT format(CAST(:template AS text), {placeholders})"),
        {"template": template, **{f"v{i}": v for i, v in enumerate(values)}},
    ).scalar_one()
    conn.exec_driver_sql(statement)


def _first_line(exc: DBAPIError) -> str:
    return str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
