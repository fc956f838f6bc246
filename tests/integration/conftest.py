"""A ticket desk under load: shared by the scale-out tests and ``bench/engine.py``.

The ``tickets`` table is a host application's table with a ``trail`` text field to
which the published graph appends one mark (trigger → rules → set field). A step that
committed twice leaves two marks, which is what "never the same work item twice" must
rule out. Engines run as real ``statusflow engine`` processes, as IT would run them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    select,
    text,
)

from engine.clock import SYSTEM_CLOCK
from engine.sources import registry, status_codes
from engine.sources.registry import Capture
from engine.storage import schema
from engine.storage.database import Database
from engine.storage.tables import runs, status_events, work_items
from tests.conftest import fresh_postgres_url
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import publish
from tests.host import as_host

REPO = Path(__file__).resolve().parents[2]
desk = MetaData()
tickets = Table(
    "tickets",
    desk,
    Column("id", Integer, primary_key=True),
    Column("status", String(10), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("trail", String(20), nullable=False),
    Column("changed_at", DateTime, nullable=False, server_default=func.current_timestamp()),
)
INSERT_CHUNK = 10_000
TRIGGER = Capture()


def install_tickets(db: Database, count: int, capture: Capture = TRIGGER) -> None:
    """Create ``count`` NEW tickets and register the table as the record source 'tickets'."""
    with as_host(db) as conn:
        desk.create_all(conn)
        for first in range(1, count + 1, INSERT_CHUNK):
            last = min(first + INSERT_CHUNK, count + 1)
            rows = [
                {"id": k, "status": "NEW", "priority": 1 + k % 3, "trail": ""}
                for k in range(first, last)
            ]
            conn.execute(insert(tickets), rows)
    registry.add_source(
        db,
        name="tickets",
        table="tickets",
        key_column="id",
        status_column="status",
        capture=capture,
    )
    status_codes.set_codes(db, "tickets", [("NEW", "New"), ("OPN", "Open")])


def publish_marking_graph(db: Database) -> str:
    """On OPN, if priority > 0, append a mark to ``trail``; returns the published version id."""
    g = Builder("Mark opened tickets", source="tickets")
    rules = {
        "match": "all",
        "rules": [{"field": "priority", "operator": "greater_than", "value": "0"}],
    }
    check = g.node("condition.rules", rules=rules)
    g.link(g.node("trigger.status_entered", codes=["OPN"]), check)
    g.link(check, g.node("action.set_field", field="trail", value="{{ trail }}x"), "true")
    return publish(db, g.document(), SYSTEM_CLOCK)


def open_tickets(db: Database, first: int, last: int) -> None:
    """One UPDATE moves tickets ``first..last`` to OPN: one status event each."""
    with as_host(db) as conn:
        conn.execute(
            text("UPDATE tickets SET status = 'OPN' WHERE id BETWEEN :a AND :b"),
            {"a": first, "b": last},
        )


def finished_runs(db: Database) -> int:
    with db.read() as conn:
        return conn.execute(
            select(func.count()).select_from(runs).where(runs.c.state != "active")
        ).scalar_one()


def unprocessed(db: Database) -> int:
    with db.read() as conn:
        events = conn.execute(
            select(func.count()).where(status_events.c.processed_at.is_(None))
        ).scalar_one()
        open_items = conn.execute(
            select(func.count()).where(work_items.c.state.in_(("pending", "claimed")))
        ).scalar_one()
    return events + open_items


def trails(db: Database) -> dict[str, int]:
    """How many tickets carry each trail: {"x": n} when every step committed once."""
    with as_host(db) as conn:
        return dict(
            conn.execute(select(tickets.c.trail, func.count()).group_by(tickets.c.trail)).all()
        )


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll until ``condition()`` holds; fail saying what never happened."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout:.0f} s still waiting for {what}")
        time.sleep(0.2)


class EngineProcess:
    """One ``statusflow engine`` subprocess; its output goes to a log file."""

    def __init__(self, url: str, home: Path, *args: str) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.log = home / f"engine-{len(list(home.glob('engine-*.log')))}.log"
        env = {**os.environ, "STATUSFLOW_HOME": str(home), "PYTHONUNBUFFERED": "1"}
        env.pop("STATUSFLOW_DATABASE_URL", None)
        command = [sys.executable, "-m", "app.cli", "engine", "--database", url, *args]
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return self.log.read_text()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM, then the exit code once it stopped gracefully."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def ensure_gone(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def statusflow(tmp_path: Path) -> Iterator[Database]:
    """StatusFlow's own database beside a host of its own: the embedded SQLite."""
    db = Database(f"sqlite:///{tmp_path / 'statusflow.db'}")
    schema.upgrade(db)
    yield db
    db.dispose()


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database of its own."""
    yield from fresh_postgres_url(pg_template)


@pytest.fixture
def engine_processes(tmp_path: Path) -> Iterator[Callable[..., EngineProcess]]:
    """Start engine subprocesses; any still running after the test are killed."""
    started: list[EngineProcess] = []

    def start(url: str, *args: str) -> EngineProcess:
        started.append(EngineProcess(url, tmp_path / "home", *args))
        return started[-1]

    yield start
    for process in started:
        process.ensure_gone()
