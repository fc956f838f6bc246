"""One engine: ingest events, dispatch due work, sweep expired leases, keep a heartbeat.

``tick`` does one round of everything and is what tests and ``--once`` call; the
scheduler module runs ticks on APScheduler 3 (its job stores hold nothing durable:
every wait is a row with a due time). On SQLite one engine may run per database file
(a lock row, renewed by the heartbeat, says which); on PostgreSQL any number share
the work through row locks and leases.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from engine import __version__
from engine.clock import SYSTEM_CLOCK, Clock
from engine.errors import StatusFlowError
from engine.nodes import catalogue
from engine.nodes.common import retry_attempts
from engine.runtime import leases
from engine.runtime.dispatch import Dispatcher
from engine.runtime.events import claim_events
from engine.runtime.index import Versions
from engine.runtime.ingest import Ingest
from engine.runtime.runs import add_step, get_run, step_row
from engine.runtime.services import Services
from engine.runtime.starts import Schedules
from engine.secrets import SecretStore
from engine.settings import EngineLimits, engine_limits
from engine.sources import capture_table, polling
from engine.sources.registry import SourceInfo, get_source_by_id
from engine.storage.database import Database, first_line
from engine.storage.tables import engines, locks
from engine.storage.types import new_id

log = logging.getLogger("statusflow.engine")

SQLITE_LOCK = "engine"
UNSENT_CHECK = ("action.send_email",)  # a repeat would be visible to the client


@dataclass
class TickResult:
    events: int = 0
    runs_started: int = 0
    steps: int = 0
    reclaimed: int = 0

    @property
    def busy(self) -> bool:
        return bool(self.events or self.steps or self.reclaimed)


def _gone(host: str | None, pid: int | None) -> bool:
    """Whether an engine process on this computer no longer exists."""
    if host != socket.gethostname() or pid is None or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, under another user
        return False
    return False


class Engine:
    """A StatusFlow engine working on one database."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Clock = SYSTEM_CLOCK,
        secrets: SecretStore | None = None,
        lease: timedelta = timedelta(minutes=5),
        batch: int = 100,
        dry_run: bool = False,
    ) -> None:
        self.db = db
        self.clock = clock
        self.id = new_id()
        self.lease = lease
        self.batch = batch
        self.services = Services(
            secrets=secrets or SecretStore(),
            versions=Versions(),
            engine_id=self.id,
            dry_run=dry_run,
        )
        self.ingest = Ingest(self.services, clock)
        self.dispatcher = Dispatcher(db, self.services, clock)
        self.schedules = Schedules(self.services, self.ingest, clock)
        self._schedules_checked: datetime | None = None
        self.limits = EngineLimits()
        self._next_poll: datetime | None = None  # re-read each heartbeat and after polls
        self._unreadable: dict[str, str] = {}  # source → why its last poll or move failed
        self.started = False
        self.stopping = False

    # -- life cycle -------------------------------------------------------------------

    def start(self) -> None:
        """Register this engine (and, on SQLite, take the one-engine lock)."""
        now = self.clock.now()
        with self.db.write() as conn:
            if self.db.is_sqlite:
                self._take_sqlite_lock(conn)
            conn.execute(
                insert(engines).values(
                    id=self.id,
                    host=socket.gethostname(),
                    pid=os.getpid(),
                    program_version=__version__,
                    started_at=now,
                    last_beat_at=now,
                )
            )
            self._read_settings(conn)
        self.started = True
        log.info("engine %s started on %s", self.id[:8], self.db)

    def _take_sqlite_lock(self, conn: Connection) -> None:
        now = self.clock.now()
        conn.execute(
            delete(locks).where(locks.c.name == SQLITE_LOCK).where(locks.c.expires_at < now)
        )
        holder = conn.execute(
            select(locks.c.owner, engines.c.host, engines.c.pid)
            .join(engines, locks.c.owner == engines.c.id, isouter=True)
            .where(locks.c.name == SQLITE_LOCK)
        ).first()
        if holder is not None and _gone(holder.host, holder.pid):
            # it died on this computer without stopping (a crash, a closed terminal)
            conn.execute(delete(locks).where(locks.c.owner == holder.owner))
            holder = None
        if holder is not None:
            who = f" (on {holder.host}, process {holder.pid})" if holder.host else ""
            raise StatusFlowError(
                f"Another engine is already running on this SQLite database{who}; only one "
                "may run per SQLite file. Stop it first, or use PostgreSQL to run several."
            )
        conn.execute(
            insert(locks).values(
                name=SQLITE_LOCK,
                owner=self.id,
                acquired_at=now,
                expires_at=now + timedelta(seconds=30),
            )
        )

    def heartbeat(self) -> None:
        now = self.clock.now()
        with self.db.write() as conn:
            conn.execute(update(engines).where(engines.c.id == self.id).values(last_beat_at=now))
            if self.db.is_sqlite:
                conn.execute(
                    update(locks)
                    .where(locks.c.name == SQLITE_LOCK)
                    .where(locks.c.owner == self.id)
                    .values(expires_at=now + timedelta(seconds=30))
                )
            self._read_settings(conn)

    def _read_settings(self, conn: Connection) -> None:
        """Limits, the time zone, catalogue changes and the next poll, at start and on
        each heartbeat: a change an admin makes reaches every engine within seconds."""
        self.limits = engine_limits(conn)
        self.services.read_settings(conn)
        self._next_poll = polling.next_due(conn)  # a source added since is polled too

    def stop(self) -> None:
        """Mark this engine stopped and free the SQLite lock."""
        if not self.started:
            return
        with self.db.write() as conn:
            conn.execute(
                update(engines).where(engines.c.id == self.id).values(stopped_at=self.clock.now())
            )
            conn.execute(delete(locks).where(locks.c.owner == self.id))
        self.started = False
        log.info("engine %s stopped", self.id[:8])

    # -- work -----------------------------------------------------------------------------

    def tick(self) -> TickResult:
        """One round: reclaim expired leases, ingest new events, run due work items."""
        result = TickResult()
        result.reclaimed = self.sweep()
        self.poll_sources()
        result.events, result.runs_started = self.ingest_events()
        result.runs_started += self.run_schedules()
        result.steps = self.dispatch_due()
        return result

    def run_schedules(self) -> int:
        """Start the runs of scheduled triggers whose time has come (checked once a minute)."""
        minute = self.clock.now().replace(second=0, microsecond=0)
        if minute == self._schedules_checked:
            return 0
        self._schedules_checked = minute
        with self.db.write() as conn:
            self.services.refresh(conn)
            if not self.services.versions.index.all("schedule"):
                return 0
            return self.schedules.run(conn, self.limits)

    def run_until_idle(self, max_rounds: int = 1000) -> int:
        """Tick until nothing is left to do now; returns the number of steps executed."""
        steps = 0
        for _ in range(max_rounds):
            result = self.tick()
            steps += result.steps
            if not result.busy:
                return steps
        raise StatusFlowError(f"The engine was still busy after {max_rounds} rounds.")

    def poll_sources(self) -> int:
        """Poll the sources captured by polling whose interval has passed, and move what
        the triggers of a host database of its own captured; a source whose poll fails
        (its table renamed, a grant revoked, its host down) is logged and tried again at
        its next interval without holding up the others."""
        now = self.clock.now()
        if self._next_poll is None or now < self._next_poll:
            return 0  # nothing due: a wake costs no transaction for polling
        written = 0
        moved: list[tuple[SourceInfo, list[int]]] = []
        with self.db.write() as conn:
            for source_id in polling.claim_due(conn, now):
                source = get_source_by_id(conn, source_id)
                try:
                    with (
                        conn.begin_nested(),
                        self.services.records.hosts.connect(conn, source) as host,
                    ):
                        if source.polled:
                            table_of = self.services.records.table
                            written += polling.poll(conn, host, source, now, table_of)
                        elif ids := capture_table.move(conn, host, source):
                            moved.append((source, ids))
                            written += len(ids)
                    self._readable(source.name)
                except (SQLAlchemyError, StatusFlowError) as exc:
                    self._readable(source.name, first_line(exc))
                polling.reschedule(conn, source, now)
            self._next_poll = polling.next_due(conn)
        for source, ids in moved:  # committed as events: now they may leave the host
            try:
                assert source.host_url
                with self.services.records.hosts.opened(source.host_url, source.name) as host:
                    capture_table.forget(host, ids)
            except (SQLAlchemyError, StatusFlowError) as exc:  # moved again later, not twice
                log.warning("emptying the capture table of %s failed: %s", source.name, exc)
        return written

    def _readable(self, source: str, problem: str | None = None) -> None:
        """Log when a source's changes cannot be read, and when they can again: once
        each, not at every interval while a host is down."""
        before = self._unreadable.pop(source, None)
        if problem is not None:
            self._unreadable[source] = problem
            if problem != before:
                log.warning("reading the changes of %s failed: %s", source, problem)
        elif before is not None:
            log.warning("reading the changes of %s works again", source)

    def ingest_events(self) -> tuple[int, int]:
        with self.db.write() as conn:
            events = claim_events(conn, self.id, self.batch)
            started = self.ingest.process(conn, events, self.limits) if events else 0
        return len(events), started

    def dispatch_due(self) -> int:
        """Run due work: internal steps in one transaction, then each external send.

        The steps first run together, writing their rows at once; if one of them fails,
        that transaction rolls back and the batch runs again one step per savepoint, so
        the failure is recorded and the other steps commit."""
        try:
            done, external = self._dispatch(together=True)
        except Exception:  # the failure shows (and is recorded) in the careful pass
            log.debug("a step of a batch failed; running the batch step by step", exc_info=True)
            done, external = self._dispatch(together=False)
        for index, claim in enumerate(external):
            if self.stopping:
                with self.db.write() as conn:
                    leases.release(conn, external[index:], self.id)
                break
            self.dispatcher.execute_external(claim, self.lease)
        return done

    def _dispatch(self, *, together: bool) -> tuple[int, list[leases.Claim]]:
        with self.db.write() as conn:
            claims = leases.claim_due(conn, self.id, self.clock.now(), self.lease, self.batch)
            return self.dispatcher.run_batch(conn, claims, self.lease, together=together)

    def next_due(self) -> datetime | None:
        """When the next pending work item or poll falls due, if later than now."""
        now = self.clock.now()
        with self.db.read() as conn:
            item = leases.next_due(conn, now)
        poll = self._next_poll if self._next_poll is not None and self._next_poll > now else None
        return min((d for d in (item, poll) if d is not None), default=None)

    def sweep(self) -> int:
        """Hand out work whose engine died; an email that may have gone out becomes a
        task for a person to check instead of a blind second send."""
        with self.db.write() as conn:
            expired = leases.expired(conn, self.clock.now())
            for claim in expired:
                self._reclaim(conn, claim)
        return len(expired)

    def _reclaim(self, conn: Connection, claim: leases.Claim) -> None:
        run = get_run(conn, claim.run_id)
        node = self.services.versions.get(conn, run.version_id).graph.node(claim.node_id)
        node_type = catalogue.require(node.type) if node else None
        add_step(
            conn,
            step_row(
                run.id,
                "retry",
                f"The engine working on this step stopped answering (attempt {claim.attempt}); "
                "another engine takes it over.",
                node_id=claim.node_id,
                node_type=node.type if node else None,
                attempt=claim.attempt,
                error_class="lease_expired",
                clock=self.clock,
            ),
        )
        if node is None or node_type is None or claim.payload.get("phase") is not None:
            leases.take_over(conn, claim)
        elif node_type.type_id in UNSENT_CHECK:
            self.dispatcher.failures.hand_to_person(
                conn,
                claim,
                f"check whether {node_type.label.lower()} went out, and send it if not",
                "The engine stopped while sending, so the email may or may not have been "
                "delivered; it is not sent twice blindly.",
            )
        elif claim.attempt >= retry_attempts(node_type.with_defaults(node.params)):
            self.dispatcher.failures.hand_to_person(
                conn, claim, node_type.label.lower(), "Every attempt was cut off."
            )
        else:
            leases.take_over(conn, claim)
