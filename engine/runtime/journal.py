"""The rows a batch of steps writes, sent together.

Steps executed one after another in one transaction write the same few rows: a
timeline line, an analytics event, the run's snapshot, the item's completion, the
next work items. A journal collects them and, when flushed, sends one statement per
kind of row instead of one per step. Whoever writes a timeline line directly
(``finish_run``) or reads a run flushes first, so a run's lines keep their order and
reads see the writes. Completions are checked against the lease when they are sent;
a lost lease raises :class:`LeaseLost` and the caller rolls back.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, insert, update

from engine import analytics
from engine.clock import Clock
from engine.runtime.index import Version
from engine.runtime.leases import Claim, LeaseLost, complete
from engine.runtime.runs import (
    INSERT_ITEMS,
    INSERT_STEPS,
    announce_work,
    finish_if_done,
    jsonable,
    record_lock,
    step_row,
    work_item_row,
)
from engine.storage.tables import analytics_events, runs, work_items

_INSERT_EVENTS = insert(analytics_events)
_UPDATE_SNAPSHOTS = (
    update(runs)
    .where(runs.c.id == bindparam("run_id"))
    .values(start_snapshot=bindparam("snapshot"))
)
_INSERT_CLAIMED = insert(work_items).returning(
    work_items.c.id, work_items.c.run_id, work_items.c.node_id, work_items.c.record_lock
)


class Journal:
    """Writes of steps in one transaction, sent on :meth:`flush`.

    ``chain`` is the lease for next work items this transaction executes itself: they
    are inserted claimed by ``owner`` and handed back by :meth:`settle`. Without it
    they are inserted pending, and listening engines are woken for them.
    """

    def __init__(
        self, conn: Connection, owner: str, clock: Clock, chain: timedelta | None = None
    ) -> None:
        self.conn = conn
        self.owner = owner
        self.clock = clock
        self.chain = chain
        self._steps: list[dict[str, Any]] = []
        self._events: list[dict[str, Any]] = []
        self._snapshots: dict[str, dict[str, Any]] = {}
        self._done: list[Claim] = []
        self._items: list[dict[str, Any]] = []
        self._idle: list[str] = []
        self._claims: list[Claim] = []

    def step(self, run_id: str, kind: str, summary: str, **fields: Any) -> None:
        """A line of the run's timeline (see :func:`engine.runtime.runs.add_step`)."""
        self._steps.append(step_row(run_id, kind, summary, clock=self.clock, **fields))

    def analytics(self, name: str, **fields: Any) -> None:
        self._events.append(analytics.row(name, clock=self.clock, **fields))

    def snapshot(self, run_id: str, snapshot: dict[str, Any], changes: dict[str, Any]) -> None:
        """The run's own writes to its record: later guarded steps compare with them."""
        self._snapshots[run_id] = {**snapshot, **jsonable(changes)}

    def complete(self, claim: Claim) -> None:
        """The item is done (if this engine still holds it, checked when sent)."""
        self._done.append(claim)

    def follow(
        self, version: Version, run_id: str, record_key: str, node_id: str, ports: tuple[str, ...]
    ) -> bool:
        """Work items for every node connected to these output ports; False if none."""
        lock = record_lock(version.source.id, record_key)
        rows = [
            work_item_row(run_id, edge.target.node, lock, self.clock.now(), clock=self.clock)
            for port in ports
            for edge in version.graph.outgoing(node_id)
            if edge.source.port == port
        ]
        self._items += rows
        return bool(rows)

    def idle(self, run_id: str) -> None:
        """The run's step added no work: it has succeeded, unless something else is open."""
        self._idle.append(run_id)

    def flush(self) -> None:
        """Send what was collected (a lost lease raises :class:`LeaseLost`)."""
        steps, self._steps = self._steps, []
        events, self._events = self._events, []
        snapshots, self._snapshots = self._snapshots, {}
        done, self._done = self._done, []
        items, self._items = self._items, []
        if steps:
            self.conn.execute(INSERT_STEPS, steps)
        if events:
            self.conn.execute(_INSERT_EVENTS, events)
        if snapshots:
            rows = [{"run_id": run, "snapshot": snap} for run, snap in snapshots.items()]
            self.conn.execute(_UPDATE_SNAPSHOTS, rows)
        if done and not complete(self.conn, done, self.owner, self.clock.now()):
            raise LeaseLost
        if items and self.chain is not None:
            self._claims += self._claimed(items, self.chain)
        elif items:
            self.conn.execute(INSERT_ITEMS, items)
            announce_work(self.conn)

    def settle(self) -> list[Claim]:
        """Flush, then close the runs left with nothing to do; the next items claimed."""
        self.flush()
        idle, self._idle = self._idle, []
        finish_if_done(self.conn, idle, clock=self.clock)
        claims, self._claims = self._claims, []
        return claims

    def _claimed(self, rows: list[dict[str, Any]], lease: timedelta) -> list[Claim]:
        expires = self.clock.now() + lease
        for row in rows:
            row.update(state="claimed", attempt=1, lease_owner=self.owner, lease_expires_at=expires)
        inserted = self.conn.execute(_INSERT_CLAIMED, rows).all()
        return [Claim(r.id, r.run_id, r.node_id, 1, {}, r.record_lock) for r in inserted]
