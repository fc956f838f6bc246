"""Opening a StatusFlow database: SQLite (embedded) or PostgreSQL (shared).

On PostgreSQL, StatusFlow's tables live in a schema of their own (``statusflow`` unless
the URL says ``?schema=NAME``), never mixed with a host application's: every connection
has that schema alone on its ``search_path``, so StatusFlow's names resolve there and a
host table is always named with its schema.

SQLite runs in WAL mode with ``synchronous=FULL`` (a committed step survives a power
cut) and a busy timeout. Transactions that will write should use :meth:`Database.write`:
on SQLite it begins with ``BEGIN IMMEDIATE`` so two writers queue on the busy timeout
instead of failing half-way through a read-then-write.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from engine.errors import DatabaseError

SQLITE_BUSY_TIMEOUT_MS = 10_000
DEFAULT_SCHEMA = "statusflow"
SCHEMA_PARAMETER = "schema"
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def parse_url(url: str | URL) -> URL:
    """Parse a database URL, naming the problem when it is not one."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise DatabaseError(
            f"'{url}' is not a database URL. Use sqlite:///path/to/file.db or "
            "postgresql://user@host:5432/database."
        ) from None
    if parsed.drivername == "postgres":  # libpq's short form
        parsed = parsed.set(drivername="postgresql")
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if SCHEMA_PARAMETER in parsed.query and backend != "postgresql":
        raise DatabaseError(
            f"'?{SCHEMA_PARAMETER}=' is for PostgreSQL URLs; SQLite keeps everything in its file."
        )
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseError(
            f"StatusFlow works with SQLite or PostgreSQL, not '{backend}'. "
            "Use sqlite:///path/to/file.db or postgresql://user@host:5432/database."
        )
    return parsed


def own_schema(url: URL) -> str:
    """StatusFlow's schema in a PostgreSQL database: ``?schema=NAME`` or ``statusflow``."""
    value = url.query.get(SCHEMA_PARAMETER, DEFAULT_SCHEMA)
    name = value if isinstance(value, str) else value[-1]
    if not _SCHEMA_NAME.match(name):
        raise DatabaseError(
            f"'{name}' cannot be StatusFlow's schema. Use lowercase letters, digits and "
            f"underscores, e.g. ?{SCHEMA_PARAMETER}={DEFAULT_SCHEMA}."
        )
    return name


def describe(url: URL) -> str:
    """The URL as it may be shown to a person: never with its password."""
    return url.render_as_string(hide_password=True)


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = FULL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get("sf_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """One database a StatusFlow program works on, and its connection pool."""

    def __init__(self, url: str | URL, *, echo: bool = False) -> None:
        self.url = parse_url(url)
        self.dialect = self.url.get_backend_name()
        self.schema: str | None = None
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.is_sqlite:
            database = self.url.database or ""
            if not database or database == ":memory:":
                raise DatabaseError(
                    "An in-memory SQLite database cannot be shared by the designer and the "
                    "engine; give a file: sqlite:///path/to/statusflow.db"
                )
            folder = Path(database).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(
                    f"Cannot create the folder {folder} for the database: {exc.strerror}. "
                    "Choose a folder you may write to."
                ) from None
            kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        else:
            self.schema = own_schema(self.url)
            kwargs["pool_pre_ping"] = True
            kwargs["connect_args"] = {
                "connect_timeout": 10,
                "options": f"-c search_path={self.schema}",
            }
        self.engine = create_engine(self.url.difference_update_query([SCHEMA_PARAMETER]), **kwargs)
        if self.is_sqlite:
            _sqlite_setup(self.engine)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def is_postgresql(self) -> bool:
        return self.dialect == "postgresql"

    def __repr__(self) -> str:
        return f"Database({describe(self.url)})"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A transaction that only reads (it never blocks writers on SQLite in WAL)."""
        with self._connect() as conn, _refusals_in_words(), conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that writes; it commits when the block ends without error."""
        with self._connect() as conn, _refusals_in_words():
            conn = conn.execution_options(sf_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        try:
            conn = self.engine.connect()
        except OperationalError as exc:
            raise DatabaseError(connection_problem(self.url, exc)) from None
        with conn:
            yield conn

    def check_reachable(self) -> None:
        """Open and close one connection, raising a clear error if that fails."""
        with self.read():
            pass

    def dispose(self) -> None:
        self.engine.dispose()


INSUFFICIENT_PRIVILEGE = "42501"  # SQLSTATE: the role lacks a grant


@contextmanager
def _refusals_in_words() -> Iterator[None]:
    """A missing grant becomes one sentence saying what to do, not a stack of SQL: on a
    customer's database it is the commonest thing to go wrong and an administrator fixes
    it. A person's role refused by the database's guards (migration 0005) already says
    it in one sentence. (The transaction has rolled back by the time this sees the error.)"""
    try:
        yield
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) != INSUFFICIENT_PRIVILEGE:
            raise
        said = first_line(exc)
        if not said.lower().startswith("permission denied"):  # a role guard's own sentence
            raise DatabaseError(said) from exc
        raise DatabaseError(
            f"The database refused StatusFlow's role: {first_line(exc)}. An administrator "
            "grants what is missing ('statusflow source check NAME' lists what a record "
            "source needs, with the SQL)."
        ) from exc


def connection_problem(url: URL, exc: Exception) -> str:
    """One sentence saying why a connection failed and what to try."""
    detail = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else ""
    where = describe(url)
    lowered = detail.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        hint = (
            "The password was refused or missing: store it with "
            f"'statusflow secret set {database_secret_name(url)}'."
        )
    elif "permission denied for database" in lowered:
        hint = (
            f"An administrator runs: GRANT CONNECT ON DATABASE {url.database} TO "
            f"{url.username or 'postgres'};"
        )
    elif "does not exist" in lowered and "database" in lowered:
        hint = "Create the database first (createdb), then run 'statusflow db upgrade'."
    elif "connection refused" in lowered or "could not translate host" in lowered:
        hint = "Check that the server is running and that host and port are right."
    elif "unable to open database file" in lowered:
        hint = "Check that the folder exists and that you may write to it."
    else:
        hint = "Check the URL in --database, STATUSFLOW_DATABASE_URL or the config file."
    return f"Cannot connect to {where}: {detail.rstrip('.')}. {hint}"


def first_line(exc: Exception) -> str:
    """The database's own first line of an error, without the SQL it was running."""
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


def database_secret_name(url: URL) -> str:
    """The keyring entry that holds the password for a PostgreSQL URL."""
    return f"db/{url.username or 'postgres'}@{url.host or 'localhost'}:{url.port or 5432}"
