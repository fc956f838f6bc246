"""Host databases that are not StatusFlow's own: where a source's records live.

A MariaDB or MySQL order system cannot hold StatusFlow's tables, and some teams keep
StatusFlow in a database of its own even for a PostgreSQL host. Such a source stores
the host's URL (never with a password); the password comes from the environment
variable ``STATUSFLOW_HOST_PASSWORD_<SOURCE>`` or the keyring entry
``db/user@host:port``. Every read and write of a source's records goes through
:func:`connect`, which hands out StatusFlow's own connection for a source in its
database and a short transaction on the host's pool for any other.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from engine.errors import SecretStoreError, SourceError
from engine.secrets import SecretStore
from engine.storage.database import describe, first_line

if TYPE_CHECKING:
    from engine.sources.registry import SourceInfo

DRIVERS = {
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
}
DEFAULT_PORTS = {"mysql": 3306, "mariadb": 3306, "postgresql": 5432}
HOST_EXAMPLE = "mysql://statusflow@db.example.com:3306/shop"
# MySQL's codes for a refused login or grant, and for a server it cannot reach
_MYSQL_DENIED = (1044, 1045, 1142, 1143, 1227, 1370, 1419)
_MYSQL_UNREACHABLE = (1049, 2002, 2003, 2005, 2006, 2013)


def is_mysql(conn: Connection) -> bool:
    """MariaDB and MySQL share one SQLAlchemy dialect family and one trigger language."""
    return conn.dialect.name in ("mysql", "mariadb")


def parse_host_url(url: str) -> URL:
    """A host URL as StatusFlow connects with it; refused in one line when it is not
    one, names a database StatusFlow cannot talk to, or carries a password."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise SourceError(f"'{url}' is not a database URL; write it like {HOST_EXAMPLE}.") from None
    backend = parsed.get_backend_name()
    if backend not in DEFAULT_PORTS:
        raise SourceError(
            f"A host database must be MariaDB, MySQL or PostgreSQL, not '{backend}'; write "
            f"its URL like {HOST_EXAMPLE}."
        )
    if parsed.password:
        raise SourceError(
            "The host URL contains a password, and StatusFlow never stores one. Remove it "
            f"from the URL and store it with 'statusflow secret set {secret_name(parsed)}' "
            "(or set STATUSFLOW_HOST_PASSWORD_<SOURCE> for the engine's service)."
        )
    if not parsed.database:
        raise SourceError(f"The host URL names no database; add it at the end: {HOST_EXAMPLE}.")
    if "+" not in parsed.drivername:
        parsed = parsed.set(drivername=DRIVERS[parsed.drivername])
    return parsed


def secret_name(url: URL) -> str:
    """The keyring entry that holds the password of a host URL's user."""
    port = url.port or DEFAULT_PORTS.get(url.get_backend_name(), 0)
    return f"db/{url.username or 'root'}@{url.host or 'localhost'}:{port}"


def password_variable(source_name: str | None) -> str:
    """The environment variable that may hold a source's host password (servers)."""
    return f"STATUSFLOW_HOST_PASSWORD_{(source_name or '<SOURCE>').upper()}"


def shown(url: URL) -> str:
    """A host URL as people write it: no driver name, no password."""
    return describe(url.set(drivername=url.get_backend_name(), password=None))


def host_problem(url: URL, exc: Exception, source_name: str | None) -> str:
    """One sentence saying why the host refused or failed, and what to do."""
    orig = getattr(exc, "orig", exc)
    args: tuple[Any, ...] = tuple(getattr(orig, "args", ()))
    code = args[0] if args and isinstance(args[0], int) else None
    detail = (str(args[1]) if code is not None and len(args) > 1 else first_line(exc)).rstrip(".")
    where = shown(url)
    if code == 1045 or "password authentication failed" in detail:
        hint = (
            f"Store the password with 'statusflow secret set {secret_name(url)}' or in "
            f"{password_variable(source_name)}."
        )
    elif code == 1049 or ("database" in detail and "does not exist" in detail):
        hint = "Check the database name at the end of the URL."
    elif code == 1044:  # MySQL does not tell a missing database from a forbidden one
        hint = (
            f"Check the database name at the end of the URL; if it is right, an "
            f"administrator grants {url.username} access to {url.database}."
        )
    elif code == 1419:  # the server keeps a binary log
        hint = (
            "This server writes a binary log, so only a login with SUPER may add triggers: "
            "an administrator runs the SQL from 'statusflow source sql', or sets "
            "log_bin_trust_function_creators = 1; or use --capture poll."
        )
    elif code in _MYSQL_DENIED:
        hint = (
            f"An administrator grants what is missing: 'statusflow source check "
            f"{source_name or 'NAME'}'."
        )
    elif code in _MYSQL_UNREACHABLE or "connection refused" in detail.lower():
        hint = "Check that the server is running and that host and port are right."
    else:
        hint = "Check the host URL and the server."
    of = f" of the source '{source_name}'" if source_name else ""
    return f"The host database {where}{of} failed: {detail}. {hint}"


def remember_password(host_url: str, password: str, secrets: SecretStore | None = None) -> str:
    """Keep a host login's password in the keyring, where the engine looks for it;
    returns the entry's name."""
    name = secret_name(parse_host_url(host_url))
    (secrets or SecretStore()).set(name, password)
    hosts.use_password(host_url, password)  # this program connects with it at once
    return name


class HostDatabases:
    """One connection pool per host URL, for every source that lives there."""

    def __init__(self, secrets: SecretStore | None = None) -> None:
        self._secrets = secrets or SecretStore()
        self._engines: dict[str, Engine] = {}
        self._given: dict[str, str] = {}  # typed in this program (the designer's form)
        self._lock = threading.Lock()

    def use_password(self, host_url: str, password: str) -> None:
        """Connect to this host with ``password`` from now on, in this program."""
        self._given[_key(parse_host_url(host_url))] = password
        self.forget(host_url)

    def _password(self, url: URL, source_name: str | None) -> str | None:
        given = self._given.get(_key(url))
        from_env = os.environ.get(password_variable(source_name)) if source_name else None
        if given or from_env:
            return given or from_env
        try:
            return self._secrets.get(secret_name(url)) if self._secrets.available() else None
        except SecretStoreError:
            return None  # a login without one may still work; a refusal names the secret

    def engine(self, host_url: str, source_name: str | None) -> Engine:
        """The pool for a host URL, made on first use."""
        url = parse_host_url(host_url)
        key = _key(url)
        with self._lock:
            engine = self._engines.get(key)
            if engine is None:
                password = self._password(url, source_name)
                kwargs: dict[str, Any] = {"pool_pre_ping": True, "pool_recycle": 3600}
                if url.get_backend_name() in ("mysql", "mariadb"):
                    # no gap locks on the host's table; each statement sees what committed
                    kwargs["isolation_level"] = "READ COMMITTED"
                    kwargs["connect_args"] = {"connect_timeout": 10, "charset": "utf8mb4"}
                else:
                    kwargs["connect_args"] = {"connect_timeout": 10}
                engine = create_engine(url.set(password=password) if password else url, **kwargs)
                self._engines[key] = engine
            return engine

    @contextmanager
    def connect(self, conn: Connection, source: SourceInfo) -> Iterator[Connection]:
        """The connection that reaches the source's records: ``conn`` itself when they
        live in StatusFlow's database, else a transaction on the host that commits when
        the block ends (before the caller's own commit)."""
        if not source.host_url:
            yield conn
            return
        with self.opened(source.host_url, source.name) as host:
            yield host

    @contextmanager
    def opened(self, host_url: str, source_name: str | None) -> Iterator[Connection]:
        """A transaction on a host; a refusal or failure becomes one plain sentence."""
        engine = self.engine(host_url, source_name)
        try:
            with engine.begin() as host:
                yield host
        except DBAPIError as exc:
            if not _refused(engine, exc):
                raise
            raise SourceError(host_problem(engine.url, exc, source_name)) from exc

    def forget(self, host_url: str) -> None:
        """Close a host's pool, so the next connection reads its password again."""
        with self._lock:
            engine = self._engines.pop(_key(parse_host_url(host_url)), None)
        if engine is not None:
            engine.dispose()

    def dispose(self) -> None:
        with self._lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()


def _key(url: URL) -> str:
    """One pool per host, whether written mysql:// or mysql+pymysql://."""
    return url.set(password=None).render_as_string(hide_password=False)


def _refused(engine: Engine, exc: DBAPIError) -> bool:
    """The host (not StatusFlow's database) failed or refused: an administrator fixes
    it. Other errors are the caller's to handle."""
    orig = exc.orig
    if orig is None or not type(orig).__module__.startswith(engine.dialect.driver):
        return False
    code = orig.args[0] if orig.args and isinstance(orig.args[0], int) else None
    if code is not None:
        return code in _MYSQL_DENIED or code in _MYSQL_UNREACHABLE
    return isinstance(exc, OperationalError) or getattr(orig, "sqlstate", None) == "42501"


hosts = HostDatabases()  # the process's pools; tests and the engine share it
