"""Shared setup for the benchmark scripts: throw-away databases, engines, figures.

Databases are created for one measurement and dropped after it (PostgreSQL on
127.0.0.1:5432 as user postgres, trust auth; SQLite in a temporary folder). The
workload itself (the ``tickets`` table and its graph) is the one the scale-out tests
use, so the figures describe what those tests prove correct.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.storage import schema  # noqa: E402
from engine.storage.database import Database  # noqa: E402
from tests.integration.conftest import EngineProcess  # noqa: E402

PG_SERVER = os.environ.get("STATUSFLOW_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


@contextmanager
def postgres_database() -> Iterator[Database]:
    """A migrated PostgreSQL database that is dropped afterwards."""
    name = f"sf_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    db = Database(f"{PG_SERVER}/{name}")
    try:
        schema.upgrade(db)
        yield db
    finally:
        db.dispose()
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def sqlite_database() -> Iterator[Database]:
    """A migrated SQLite file in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="sf_bench_") as folder:
        db = Database(f"sqlite:///{Path(folder) / 'bench.db'}")
        try:
            schema.upgrade(db)
            yield db
        finally:
            db.dispose()


def url_of(db: Database) -> str:
    return db.url.render_as_string(hide_password=False)


@contextmanager
def engines(db: Database, count: int, *args: str) -> Iterator[list[EngineProcess]]:
    """``count`` engine subprocesses, registered and ready; stopped with SIGTERM after."""
    with tempfile.TemporaryDirectory(prefix="sf_bench_home_") as home:
        started = [EngineProcess(url_of(db), Path(home), *args) for _ in range(count)]
        try:
            wait_for(lambda: _registered(db) >= count, 60)
            yield started
        finally:
            for process in started:
                process.terminate()


def _registered(db: Database) -> int:
    from sqlalchemy import func, select

    from engine.storage.tables import engines as engine_rows

    with db.read() as conn:
        return conn.execute(
            select(func.count()).where(engine_rows.c.stopped_at.is_(None))
        ).scalar_one()


def wait_for(condition: Callable[[], bool], timeout: float, step: float = 0.05) -> float:
    """Seconds until ``condition()`` held; raises after ``timeout``."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"gave up after {timeout:.0f} s")
        time.sleep(step)
    return time.monotonic() - started


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def seconds_between(pairs: Sequence[tuple[datetime, datetime]]) -> list[float]:
    return [(later - earlier).total_seconds() for earlier, later in pairs]


def describe_ms(values: Sequence[float]) -> str:
    """p50 / p99 / max of seconds, shown in milliseconds."""
    if not values:
        return "-"
    shown = (percentile(values, 0.5), percentile(values, 0.99), max(values))
    return (
        " / ".join(f"{v * 1000:.0f}" for v in shown)
        + f"  (mean {statistics.mean(values) * 1000:.0f})"
    )


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table, columns as wide as their widest cell."""
    cells = [list(map(str, header)), *[list(map(str, row)) for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join([title, *lines])
