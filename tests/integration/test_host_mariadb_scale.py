"""Two engines on a MariaDB host in a database of its own, one SIGKILLed mid-run: no
change is lost and no write-back reaches the host twice (counted in the host table).

The killed engine's last host write may have committed while StatusFlow's transaction
for that step did not; the step then runs again on the other engine, which finds the
write's marker in the host and does not write again.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from engine.sources import registry, status_codes
from engine.storage.database import Database
from engine.storage.tables import runs, status_events
from tests.integration.conftest import (
    EngineProcess,
    finished_runs,
    publish_marking_graph,
    unprocessed,
    wait_for,
)
from tests.integration.host_mariadb import (
    SF_PASSWORD,
    MariaDbHost,
    open_host_tickets,
    ticket_desk,
)

pytestmark = [pytest.mark.mariadb, pytest.mark.postgres]

TICKETS = 2_000
BATCH = 200
ENGINE_ARGS = ("--poll", "0.2", "--lease", "3", "--batch", "10")


@pytest.fixture
def desk(monkeypatch: pytest.MonkeyPatch) -> Iterator[MariaDbHost]:
    # the engines are services: their host password comes from the environment
    monkeypatch.setenv("STATUSFLOW_HOST_PASSWORD_TICKETS", SF_PASSWORD)
    yield from ticket_desk(TICKETS)


def _steps_by(db: Database, pid: int) -> int:
    with db.read() as conn:
        return conn.exec_driver_sql(
            "SELECT count(*) FROM sf_run_steps s JOIN sf_engines e ON e.id = s.engine_id "
            f"WHERE e.pid = {int(pid)}"
        ).scalar_one()


def test_two_engines_and_a_kill_lose_nothing_and_write_each_ticket_once(
    desk: MariaDbHost, pg_url: str, engine_processes
) -> None:
    db = Database(pg_url)
    registry.add_source(
        db,
        name="tickets",
        table="tickets",
        key_column="id",
        status_column="status",
        host_url=desk.url(),
    )
    status_codes.set_codes(db, "tickets", [("NEW", "New"), ("OPN", "Open")])
    publish_marking_graph(db)
    workers: list[EngineProcess] = [engine_processes(pg_url, *ENGINE_ARGS) for _ in range(2)]
    for first in range(1, TICKETS + 1, BATCH):
        open_host_tickets(desk, first, first + BATCH - 1)

    victim = workers[0]
    wait_for(lambda: finished_runs(db) >= TICKETS // 3, 120, "a third of the runs to finish")
    wait_for(lambda: _steps_by(db, victim.pid) > 0, 30, "the victim to do some of the work")
    victim.kill()
    wait_for(lambda: finished_runs(db) == TICKETS and not unprocessed(db), 180, "every run")
    assert workers[1].terminate() == 0, workers[1].output()

    with db.read() as conn:
        events = conn.execute(select(func.count()).select_from(status_events)).scalar_one()
        moved = conn.execute(
            select(func.count(func.distinct(status_events.c.capture_id)))
        ).scalar_one()
        states = dict(conn.execute(select(runs.c.state, func.count()).group_by(runs.c.state)).all())
    assert events == moved == TICKETS  # each captured change became exactly one event
    assert states == {"succeeded": TICKETS}
    trails = dict(desk.catalog("SELECT trail, count(*) FROM tickets GROUP BY trail"))
    assert trails == {"x": TICKETS}, "a ticket was written twice (or never)"
    assert desk.catalog("SELECT count(*) FROM sf_capture") == [(0,)]
    assert desk.catalog("SELECT count(*) FROM sf_host_writes") == [(TICKETS,)]
    db.dispose()
