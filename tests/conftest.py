"""Fixtures shared by every test: databases on SQLite and on the real PostgreSQL.

``db`` is parametrized over both backends, so an engine test written once runs on
each. Every test gets its own database: a copy of a migrated SQLite template file,
or a PostgreSQL database cloned from a migrated template (fast, and nothing leaks
between tests). PostgreSQL must be reachable: a test that needs it fails with a
clear message instead of skipping, because CI relies on these tests running.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import keyring
import psycopg
import pytest
from keyring.backends import fail

from engine.storage import schema
from engine.storage.database import Database
from tests.memory_keyring import MemoryKeyring

pytest_plugins = ["tests.servers"]  # real SMTP and HTTP servers on loopback

PG_ADMIN_URL = os.environ.get(
    "STATUSFLOW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
BACKENDS = ("sqlite", "postgresql")


def _pg_conninfo(database: str | None = None) -> str:
    url = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    if database is None:
        return url
    return url.rsplit("/", 1)[0] + "/" + database


def _pg_admin() -> psycopg.Connection:
    try:
        return psycopg.connect(_pg_conninfo(), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL tests need a server at {PG_ADMIN_URL} "
            f"(set STATUSFLOW_TEST_POSTGRES_URL): {exc}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    schema.upgrade(db)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    name = f"sf_tpl_{uuid.uuid4().hex[:10]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    db = Database(_pg_conninfo(name))
    schema.upgrade(db)
    db.dispose()
    yield name
    with _pg_admin() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fresh_postgres_url(template: str | None = None) -> Iterator[str]:
    """Create a uniquely named PostgreSQL database (optionally from a template)."""
    name = f"sf_test_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as admin:
        clause = f' TEMPLATE "{template}"' if template else ""
        admin.execute(f'CREATE DATABASE "{name}"{clause}')
    try:
        yield _pg_conninfo(name)
    finally:
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, migrated StatusFlow database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "statusflow.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
    else:
        yield from fresh_postgres_url(request.getfixturevalue("pg_template"))


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A fresh, migrated StatusFlow database on each backend."""
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture(params=BACKENDS)
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database with no StatusFlow tables, on each backend (for migration tests)."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'empty.db'}")
        yield database
        database.dispose()
    else:
        for url in fresh_postgres_url():
            database = Database(url)
            yield database
            database.dispose()


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Install an in-memory keyring backend for the test, as a real one would be."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    MemoryKeyring._store.clear()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    """A machine where keyring found no backend at all."""
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def statusflow_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Config, data and logs of the program under test live in a temporary folder."""
    home = tmp_path / "home"
    monkeypatch.setenv("STATUSFLOW_HOME", str(home))
    monkeypatch.delenv("STATUSFLOW_DATABASE_URL", raising=False)
    return home
