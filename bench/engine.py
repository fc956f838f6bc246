"""Engine benchmark: throughput, trigger-to-action latency, and many pending waits.

Run from the repository: ``.venv/bin/python bench/engine.py [--quick] [--profile]
[--capture [own|MariaDB]]`` (``--capture``: only the trigger-versus-poll table, for
tickets in StatusFlow's own database, in a MariaDB host database, or both).
Engines are real ``statusflow engine`` subprocesses. Figures come from the database's
own timestamps (event ``occurred_at``, step ``at``, run ``finished_at``), not from this
script's clock, so they measure what a user would see in a run's timeline.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from common import (
    describe_ms,
    engines,
    peak_rss_mb,
    postgres_database,
    seconds_between,
    sqlite_database,
    table,
    wait_for,
)
from sqlalchemy import Connection, Integer, cast, create_engine, event, func, insert, select, text
from sqlalchemy.engine import make_url

from engine.clock import SYSTEM_CLOCK
from engine.runtime.engine import Engine
from engine.runtime.runs import enrollment_key, record_lock
from engine.sources import registry, status_codes
from engine.sources.hosts import hosts, password_variable
from engine.sources.registry import Capture
from engine.storage.database import Database
from engine.storage.tables import graph_versions, run_steps, runs, status_events, work_items
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import publish
from tests.host import as_host
from tests.integration.conftest import finished_runs, install_tickets, publish_marking_graph
from tests.integration.host_mariadb import MARIADB_ADMIN, SF_PASSWORD, ticket_desk

Backend = Callable[[], AbstractContextManager[Database]]
BACKENDS: dict[str, Backend] = {"SQLite": sqlite_database, "PostgreSQL": postgres_database}
ENGINE_ARGS = ("--poll", "1", "--lease", "300")  # NOTIFY wakes engines on PostgreSQL
SQLITE_ARGS = ("--poll", "0.1", "--lease", "300")  # SQLite has no NOTIFY: poll often
PACED_RATE = 50.0  # events per second for the latency measurement, well below capacity
WAIT_FIRE_RATE = 25.0  # waits falling due per second: below one engine's step rate on PostgreSQL


@dataclass(frozen=True)
class Sizes:
    burst: int
    paced: int
    pending_waits: int
    firing_waits: int


FULL = Sizes(burst=5_000, paced=500, pending_waits=100_000, firing_waits=1_000)
QUICK = Sizes(burst=500, paced=100, pending_waits=5_000, firing_waits=200)


# -- where the tickets live ----------------------------------------------------------------

Host = Callable[[], AbstractContextManager[Connection]]
"""A transaction in the database that holds the tickets, as the host application."""
Desk = Callable[[Database, int, Capture], AbstractContextManager[Host]]
"""Puts ``count`` NEW tickets where a desk keeps them, registered as the source 'tickets'."""


@contextmanager
def own_desk(db: Database, count: int, capture: Capture) -> Iterator[Host]:
    """The tickets in StatusFlow's own database (on PostgreSQL in the public schema)."""
    install_tickets(db, count, capture)
    yield lambda: as_host(db)


@contextmanager
def mariadb_desk(db: Database, count: int, capture: Capture) -> Iterator[Host]:
    """The tickets in a MariaDB database of their own, watched through StatusFlow's
    least-privilege login, whose password the engines read from the environment as a
    service would. The host application writes as MariaDB's admin; the database and
    the logins are dropped afterwards."""
    variable = password_variable("tickets")
    os.environ[variable] = SF_PASSWORD
    try:
        for desk in ticket_desk(count):
            registry.add_source(
                db,
                name="tickets",
                table="tickets",
                key_column="id",
                status_column="status",
                capture=capture,
                host_url=desk.url(),
            )
            status_codes.set_codes(db, "tickets", [("NEW", "New"), ("OPN", "Open")])
            url = make_url(MARIADB_ADMIN).set(drivername="mysql+pymysql", database=desk.name)
            app = create_engine(url)
            try:
                yield app.begin
            finally:
                app.dispose()
                hosts.dispose()  # this process's pool on the host, before its login goes
    finally:
        os.environ.pop(variable, None)


HOSTS: dict[str, Desk] = {"own": own_desk, "MariaDB": mariadb_desk}


# -- throughput and latency ---------------------------------------------------------------


def _action_latencies(db: Database, first_key: int, last_key: int) -> list[float]:
    """Event occurred_at → the set-field step's ``at``, for tickets in the key range."""
    with db.read() as conn:
        pairs = conn.execute(
            select(status_events.c.occurred_at, run_steps.c.at)
            .join(runs, runs.c.trigger_event_id == status_events.c.id)
            .join(run_steps, run_steps.c.run_id == runs.c.id)
            .where(run_steps.c.node_type == "action.set_field")
            .where(cast(status_events.c.record_key, Integer).between(first_key, last_key))
        ).all()
    return seconds_between([(p.occurred_at, p.at) for p in pairs])


def _burst_span(db: Database) -> float:
    """Seconds from the first status event to the last run finished."""
    with db.read() as conn:
        first = conn.execute(select(func.min(status_events.c.occurred_at))).scalar_one()
        last = conn.execute(select(func.max(runs.c.finished_at))).scalar_one()
    return (last - first).total_seconds()


OPEN = text("UPDATE tickets SET status = 'OPN', changed_at = :now WHERE id BETWEEN :a AND :b")


def _open(host: Host, first: int, last: int) -> datetime:
    """Open tickets ``first..last`` in one committed UPDATE; returns the time it wrote
    to their changed_at (UTC)."""
    now = datetime.now(UTC)
    with host() as conn:
        conn.execute(OPEN, {"now": now.replace(tzinfo=None), "a": first, "b": last})
    return now


def _open_one_by_one(host: Host, first: int, last: int, rate: float) -> dict[str, datetime]:
    """One committed UPDATE per ticket, at ``rate`` per second; returns each ticket's
    change stamp by record key."""
    started = time.monotonic()
    stamps: dict[str, datetime] = {}
    for n, key in enumerate(range(first, last + 1)):
        time.sleep(max(0.0, started + n / rate - time.monotonic()))
        stamps[str(key)] = _open(host, key, key)
    return stamps


def _change_latencies(db: Database, changed: dict[str, datetime]) -> list[float]:
    """The host's change (the changed_at stamp its UPDATE wrote) → the set-field step's
    ``at``: what a user waits, whether a trigger or a poll noticed the change. The stamps
    are the ones written, not read back: a poll's write-back and MariaDB's ON UPDATE
    column move changed_at to the time of the effect."""
    with db.read() as conn:
        steps = dict(
            conn.execute(
                select(runs.c.record_key, run_steps.c.at)
                .join(run_steps, run_steps.c.run_id == runs.c.id)
                .where(run_steps.c.node_type == "action.set_field")
                .where(runs.c.record_key.in_(list(changed)))
            ).all()
        )
    return seconds_between([(changed[key], at) for key, at in steps.items()])


def throughput(backend: str, engine_count: int, sizes: Sizes) -> list[object]:
    """One row of the throughput table: a burst of events, then a paced trickle."""
    args = SQLITE_ARGS if backend == "SQLite" else ENGINE_ARGS
    total = sizes.burst + sizes.paced
    with BACKENDS[backend]() as db, own_desk(db, total, Capture()) as host:
        publish_marking_graph(db)
        with engines(db, engine_count, *args) as started:
            _open(host, 1, sizes.burst)
            wait_for(lambda: finished_runs(db) == sizes.burst, 600, step=0.2)
            span = _burst_span(db)
            _open_one_by_one(host, sizes.burst + 1, total, PACED_RATE)
            wait_for(lambda: finished_runs(db) == total, 120, step=0.1)
            rss = max(peak_rss_mb(p.pid) for p in started)
        burst_latency = _action_latencies(db, 1, sizes.burst)
        paced = _action_latencies(db, sizes.burst + 1, total)
    return [
        backend,
        engine_count,
        sizes.burst,
        f"{sizes.burst / span:.0f}",
        describe_ms(burst_latency),
        describe_ms(paced),
        f"{rss:.0f}",
    ]


CAPTURES = {
    "trigger": Capture(),
    "poll, changed-at column": Capture("poll", changed_column="changed_at", poll_seconds=1),
    "poll, full compare": Capture("poll", poll_seconds=1),
}


def capture_mode(backend: str, where: str, name: str, sizes: Sizes) -> list[object]:
    """One row of the capture table: a burst, then a paced trickle, one engine, the
    tickets in StatusFlow's database or in a host's (``where``, a key of HOSTS)."""
    total = sizes.burst + sizes.paced
    with BACKENDS[backend]() as db, HOSTS[where](db, total, CAPTURES[name]) as host:
        publish_marking_graph(db)
        args = SQLITE_ARGS if backend == "SQLite" else ENGINE_ARGS
        with engines(db, 1, *args):
            started = time.monotonic()
            _open(host, 1, sizes.burst)
            wait_for(lambda: finished_runs(db) == sizes.burst, 600, step=0.1)
            span = time.monotonic() - started
            changed = _open_one_by_one(host, sizes.burst + 1, total, PACED_RATE)
            wait_for(lambda: finished_runs(db) == total, 120, step=0.1)
        paced = _change_latencies(db, changed)
    tickets_in = backend if where == "own" else where
    row = [backend, tickets_in, name, sizes.burst, f"{sizes.burst / span:.0f}"]
    return [*row, describe_ms(paced)]


def capture_table(sizes: Sizes, where: Sequence[str] = tuple(HOSTS)) -> str:
    header = (
        "StatusFlow in",
        "tickets in",
        "capture",
        "events",
        "events/s (burst)",
        f"change → effect at {PACED_RATE:.0f}/s ms p50/p99/max",
    )
    rows = [
        capture_mode(backend, host, name, sizes)
        for host in where
        for backend in ("PostgreSQL", "SQLite")
        for name in CAPTURES
    ]
    return table("Capture: trigger versus poll (1 engine, poll interval 1 s)", header, rows)


# -- many pending waits ---------------------------------------------------------------------


@dataclass(frozen=True)
class WaitGraph:
    graph_id: str
    version_id: str
    source_id: int
    trigger_id: str
    wait_id: str


def _publish_wait_graph(db: Database) -> WaitGraph:
    g = Builder("Follow up an hour after opening", source="tickets")
    trigger = g.node("trigger.status_entered", codes=["OPN"])
    wait = g.node("wait.duration", duration={"amount": 1, "unit": "hours"})
    g.line(trigger, wait, g.node("action.add_note", note="An hour has passed."))
    version_id = publish(db, g.document(), SYSTEM_CLOCK)
    with db.read() as conn:
        graph_id = conn.execute(
            select(graph_versions.c.graph_id).where(graph_versions.c.id == version_id)
        ).scalar_one()
        source_id = conn.execute(text("SELECT id FROM sf_record_sources")).scalar_one()
    return WaitGraph(graph_id, version_id, source_id, trigger.id, wait.id)


def _waiting_rows(
    graph: WaitGraph, keys: range, due: Callable[[int], datetime], now: datetime
) -> Iterator[tuple[dict[str, object], dict[str, object]]]:
    """A run parked in its wait node, and the wait's work item, per ticket."""
    for key in keys:
        run_id = str(uuid.uuid4())
        record = str(key)
        yield (
            {
                "id": run_id,
                "graph_id": graph.graph_id,
                "version_id": graph.version_id,
                "source_id": graph.source_id,
                "record_key": record,
                "trigger_node_id": graph.trigger_id,
                "state": "active",
                "start_snapshot": {"id": key, "status": "NEW"},
                "enrollment_key": enrollment_key(graph.graph_id, graph.source_id, record),
                "started_at": now,
            },
            {
                "run_id": run_id,
                "node_id": graph.wait_id,
                "record_lock": record_lock(graph.source_id, record),
                "due_at": due(key),
                "state": "pending",
                "payload": {"phase": "waiting"},
                "created_at": now,
            },
        )


def _park_runs(db: Database, graph: WaitGraph, sizes: Sizes) -> None:
    """Insert the runs and wait items directly, as if each had started an hour ago.
    The waits that fall due go in last, due from 10 s after the bulk insert on, so a
    slow insert does not make them late before any engine has started."""
    now = datetime.now(UTC)

    def tomorrow(key: int) -> datetime:
        return now + timedelta(days=1, seconds=key)

    _insert_parked(
        db,
        _waiting_rows(graph, range(sizes.firing_waits + 1, sizes.pending_waits + 1), tomorrow, now),
    )
    first_due = datetime.now(UTC) + timedelta(seconds=10)

    def soon(key: int) -> datetime:
        return first_due + timedelta(seconds=key / WAIT_FIRE_RATE)

    _insert_parked(db, _waiting_rows(graph, range(1, sizes.firing_waits + 1), soon, now))


def _insert_parked(
    db: Database, parked: Iterator[tuple[dict[str, object], dict[str, object]]]
) -> None:
    rows = list(parked)
    with db.write() as conn:
        for start in range(0, len(rows), 10_000):
            chunk = rows[start : start + 10_000]
            conn.execute(insert(runs), [run for run, _ in chunk])
            conn.execute(insert(work_items), [item for _, item in chunk])


def _wait_lateness(db: Database, graph: WaitGraph) -> list[float]:
    with db.read() as conn:
        pairs = conn.execute(
            select(work_items.c.due_at, run_steps.c.at)
            .join(run_steps, run_steps.c.run_id == work_items.c.run_id)
            .where(work_items.c.node_id == graph.wait_id)
            .where(run_steps.c.node_id == graph.wait_id)
            .where(run_steps.c.kind == "wait")
        ).all()
    return seconds_between([(p.due_at, p.at) for p in pairs])


def _notes_done(db: Database) -> int:
    with db.read() as conn:
        return conn.execute(
            select(func.count()).where(run_steps.c.node_type == "action.add_note")
        ).scalar_one()


def pending_waits(backend: str, sizes: Sizes) -> list[object]:
    """One engine with ``pending_waits`` parked runs, of which ``firing_waits`` fall due."""
    with BACKENDS[backend]() as db:
        install_tickets(db, sizes.pending_waits)
        graph = _publish_wait_graph(db)
        setup = time.monotonic()
        _park_runs(db, graph, sizes)
        inserted = time.monotonic() - setup
        with engines(db, 1, *(SQLITE_ARGS if backend == "SQLite" else ENGINE_ARGS)) as [worker]:
            wait_for(lambda: _notes_done(db) == sizes.firing_waits, 300, step=0.5)
            rss = peak_rss_mb(worker.pid)
        late = _wait_lateness(db, graph)
    return [
        backend,
        sizes.pending_waits,
        sizes.firing_waits,
        f"{inserted:.1f}",
        describe_ms(late),
        f"{rss:.0f}",
    ]


# -- profile ----------------------------------------------------------------------------------


def profile(sizes: Sizes, backend: str) -> None:
    """Where an in-process engine spends its time draining a burst, and how many
    statements it sends per event."""
    with BACKENDS[backend]() as db, own_desk(db, sizes.burst, Capture()) as host:
        publish_marking_graph(db)
        _open(host, 1, sizes.burst)
        worker = Engine(db, lease=timedelta(minutes=5))
        worker.start()
        counts = _count_statements(db)
        profiler = cProfile.Profile()
        profiler.runcall(worker.run_until_idle, 100_000)
        worker.stop()
    stats = pstats.Stats(profiler).sort_stats("cumulative")
    stats.print_stats(35)
    stats.sort_stats("tottime").print_stats(20)
    print(
        f"{backend}, {sizes.burst} events: {counts['statements'] / sizes.burst:.1f} SQL "
        f"statements per event, {counts['transactions']} transactions in all"
    )


def _count_statements(db: Database) -> Counter[str]:
    """Count the statements and transactions the engine sends from now on."""
    counts: Counter[str] = Counter()

    def statement(*_args: object) -> None:
        counts["statements"] += 1

    def transaction(*_args: object) -> None:
        counts["transactions"] += 1

    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(db.engine, "commit", transaction)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, about a minute")
    parser.add_argument(
        "--profile",
        nargs="?",
        const="SQLite",
        choices=tuple(BACKENDS),
        help="cProfile an in-process engine (on SQLite unless PostgreSQL is named)",
    )
    parser.add_argument(
        "--capture",
        nargs="?",
        const="all",
        choices=("all", *HOSTS),
        help="only trigger versus poll: tickets in StatusFlow's own database, in a MariaDB "
        "host database, or both (all)",
    )
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    if args.profile:
        profile(sizes, args.profile)
        return
    if args.capture:
        print(capture_table(sizes, tuple(HOSTS) if args.capture == "all" else (args.capture,)))
        return
    header = (
        "backend",
        "engines",
        "events",
        "events/s",
        "burst latency ms p50/p99/max",
        f"latency at {PACED_RATE:.0f}/s ms p50/p99/max",
        "peak RSS MiB",
    )
    rows = [throughput("SQLite", 1, sizes)]
    rows += [throughput("PostgreSQL", count, sizes) for count in (1, 2, 4)]
    print(table("Status change → finished run (trigger → rules → set field)", header, rows))
    print()
    print(capture_table(sizes))
    print()
    header = (
        "backend",
        "pending waits",
        "falling due",
        "insert s",
        "late ms p50/p99/max",
        "peak RSS MiB",
    )
    rows = [pending_waits(backend, sizes) for backend in ("PostgreSQL", "SQLite")]
    print(table("Wait timers firing while many others stay pending", header, rows))


if __name__ == "__main__":
    main()
