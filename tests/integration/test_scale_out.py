"""Several engines on one PostgreSQL: killing one mid-work loses nothing, runs nothing twice.

This is DESIGN.md's scale-out guarantee, checked the way IT would break it: four real
``statusflow engine`` processes share 5,000 status changes and one is SIGKILLed while
it is working. Internal steps run inside the engine's transaction, so the killed
batch rolls back and its items are picked up again; sends (email, webhooks) hold a
lease, which another engine takes over when it expires (tests/engine/runtime covers
that path step by step).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select

from engine.storage.database import Database
from engine.storage.tables import engines, run_steps, runs, status_events, work_items
from tests.integration.conftest import (
    EngineProcess,
    finished_runs,
    install_tickets,
    open_tickets,
    publish_marking_graph,
    trails,
    unprocessed,
    wait_for,
)

TICKETS = 5_000
BATCH = 250  # tickets opened by one UPDATE
# A claim of --batch items shares one lease, and the items run one after another: the
# batch must finish well inside the lease or healthy work is taken over as if its
# engine had died. Ten items take a fraction of the 3 s lease.
ENGINE_ARGS = ("--poll", "0.2", "--lease", "3", "--batch", "10")

StartEngine = Callable[..., EngineProcess]


def _desk(url: str, count: int) -> Iterator[Database]:
    database = Database(url)
    install_tickets(database, count)
    publish_marking_graph(database)
    yield database
    database.dispose()


@pytest.fixture
def desk(pg_url: str) -> Iterator[Database]:
    """5,000 tickets on PostgreSQL with the marking graph published."""
    yield from _desk(pg_url, TICKETS)


@pytest.fixture
def small_desk(db_url: str) -> Iterator[Database]:
    """1,000 tickets on each backend with the marking graph published."""
    yield from _desk(db_url, 1_000)


def _steps_by(db: Database, pid: int) -> int:
    """How many steps the engine process ``pid`` has committed."""
    with db.read() as conn:
        return conn.execute(
            select(func.count())
            .select_from(run_steps.join(engines, engines.c.id == run_steps.c.engine_id))
            .where(engines.c.pid == pid)
        ).scalar_one()


def _kill_while_working(db: Database, victim: EngineProcess) -> int:
    """SIGKILL the engine once a third is done and it is doing its share; returns the
    steps it had committed."""
    wait_for(lambda: finished_runs(db) >= TICKETS // 3, 90, "a third of the runs to finish")
    wait_for(lambda: _steps_by(db, victim.pid) > 0, 30, "the victim to do some of the work")
    victim.kill()
    return _steps_by(db, victim.pid)


@pytest.mark.postgres
def test_four_engines_share_the_work_and_a_killed_one_loses_nothing(
    desk: Database, pg_url: str, engine_processes: StartEngine
) -> None:
    workers = [engine_processes(pg_url, *ENGINE_ARGS) for _ in range(4)]
    for first in range(1, TICKETS + 1, BATCH):
        open_tickets(desk, first, first + BATCH - 1)
    done_by_victim = _kill_while_working(desk, workers[0])

    wait_for(lambda: finished_runs(desk) == TICKETS and not unprocessed(desk), 150, "every run")
    survivors = workers[1:]
    assert [w.terminate() for w in survivors] == [0, 0, 0], [w.output() for w in survivors]

    with desk.read() as conn:
        per_event = conn.execute(
            select(runs.c.trigger_event_id, runs.c.version_id, func.count()).group_by(
                runs.c.trigger_event_id, runs.c.version_id
            )
        ).all()
        events = conn.execute(select(func.count()).select_from(status_events)).scalar_one()
        states = dict(conn.execute(select(runs.c.state, func.count()).group_by(runs.c.state)).all())
        set_field_steps = conn.execute(
            select(run_steps.c.run_id, func.count())
            .where(run_steps.c.node_type == "action.set_field")
            .where(run_steps.c.kind == "action")
            .group_by(run_steps.c.run_id)
        ).all()
        stopped = (
            conn.execute(select(engines.c.pid).where(engines.c.stopped_at.is_not(None)))
            .scalars()
            .all()
        )

    assert events == TICKETS
    assert len(per_event) == TICKETS and {count for *_, count in per_event} == {1}
    assert states == {"succeeded": TICKETS}
    assert len(set_field_steps) == TICKETS and {count for _, count in set_field_steps} == {1}
    assert trails(desk) == {"x": TICKETS}, "a ticket was written twice (or never)"
    assert 0 < done_by_victim < 2 * TICKETS, "the killed engine did part of the work"
    assert sorted(stopped) == sorted(w.pid for w in survivors)


def test_an_engine_stopped_with_sigterm_gives_its_work_back(
    small_desk: Database, db_url: str, engine_processes: StartEngine
) -> None:
    db = small_desk
    worker = engine_processes(db_url, *ENGINE_ARGS)
    open_tickets(db, 1, 1_000)
    wait_for(lambda: finished_runs(db) >= 50, 30, "the engine to get going")

    assert worker.terminate() == 0, worker.output()

    with db.read() as conn:
        [row] = conn.execute(select(engines)).all()
        claimed = conn.execute(
            select(func.count()).where(work_items.c.state == "claimed")
        ).scalar_one()
    assert row.stopped_at is not None and claimed == 0
    assert finished_runs(db) < 1_000, "the engine had finished before it was stopped"
    assert "Engine stopped." in worker.output()
    finisher = engine_processes(db_url, "--once")
    assert finisher.process.wait(timeout=120) == 0, finisher.output()
    assert trails(db) == {"x": 1_000}
