"""Executing claimed work items: one node of one run at a time.

Internal steps execute inside the transaction that completes the item, round by
round: the items a round's steps add are claimed at once and executed in the next
round, so a run goes from step to step without a new transaction. Each round reads
its runs and records together (``preload``) and sends its rows together (``journal``).

External steps render in a read transaction, send outside any transaction, and
commit the result afterwards; what a failure leads to (retries, a person, a failed
run) is :mod:`engine.runtime.failures`.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, update

from engine import analytics
from engine.actions.errors import ActionError
from engine.clock import Clock
from engine.errors import StatusFlowError
from engine.nodes import catalogue
from engine.runtime.executors import EXECUTORS
from engine.runtime.executors.base import ExternalExecutor, Outcome, Step
from engine.runtime.failures import FailurePolicy, trigger_kind
from engine.runtime.journal import Journal
from engine.runtime.leases import Claim, LeaseLost, renew, reschedule
from engine.runtime.preload import Preload
from engine.runtime.runs import finish_run, get_run, jsonable
from engine.runtime.services import Services
from engine.storage.database import Database
from engine.storage.tables import work_items

log = logging.getLogger("statusflow.engine")

GUARDED = ("wait", "action")  # categories with "do not execute if ... changed"
WAITS_IN_SEVERAL_ITEMS = ("human.approval",)  # a decision item and a timeout item
CHAIN_LIMIT = 50  # rounds of internal steps executed back to back in one transaction


class Dispatcher:
    def __init__(self, db: Database, services: Services, clock: Clock) -> None:
        self.db = db
        self.services = services
        self.clock = clock
        self.failures = FailurePolicy(services, clock, self._step)

    # -- entry points -------------------------------------------------------------------

    def run_batch(
        self, conn: Connection, claims: list[Claim], lease: timedelta, *, together: bool = False
    ) -> tuple[int, list[Claim]]:
        """Execute claimed items inside this transaction, following each run from step to
        step while the steps are internal; return (steps executed, external items left
        claimed for :meth:`execute_external`).

        By default each step runs in a savepoint, so a failing step is recorded and the
        others commit. ``together`` writes each round's rows at once without savepoints:
        much faster, but a failing step raises and the caller must roll back and run the
        batch again without it."""
        external: list[Claim] = []
        done = 0
        for round_number in range(1, CHAIN_LIMIT + 1):
            if not claims:
                break
            chain = lease if round_number < CHAIN_LIMIT else None
            preload = Preload(conn, self.services, claims)
            done += len(claims)
            if together:
                journal = self._journal(conn, chain)
                for claim in claims:
                    self._internal(conn, claim, journal, preload, external)
                claims = journal.settle()
            else:
                claims = [
                    follow_up
                    for claim in claims
                    for follow_up in self._guarded(conn, claim, chain, preload, external)
                ]
        return done, external

    def _journal(self, conn: Connection, chain: timedelta | None = None) -> Journal:
        return Journal(conn, self.services.engine_id, self.clock, chain)

    def _guarded(
        self,
        conn: Connection,
        claim: Claim,
        chain: timedelta | None,
        preload: Preload,
        external: list[Claim],
    ) -> list[Claim]:
        """One internal step in a savepoint: a bug in a step never loses the batch."""
        try:
            with conn.begin_nested():
                journal = self._journal(conn, chain)
                self._internal(conn, claim, journal, preload, external)
                return journal.settle()
        except LeaseLost:
            return []
        except Exception as exc:  # a bug or a broken record: retried, then the run fails
            log.exception("work item %s failed unexpectedly", claim.id)
            self.failures.crashed(conn, claim, exc)
            return []

    def execute_external(self, claim: Claim, lease: timedelta) -> None:
        """Render, send and record one email, SMS or webhook step."""
        try:
            with self.db.write() as conn:
                if not renew(conn, claim, self.services.engine_id, self.clock.now(), lease):
                    raise LeaseLost
                run = get_run(conn, claim.run_id)
                node = self.services.versions.get(conn, run.version_id).graph.node(claim.node_id)
            executor = EXECUTORS.get(node.type) if node else None
            if isinstance(executor, ExternalExecutor):
                self._external(claim, executor)
        except LeaseLost:
            log.warning("lost the lease on work item %s; another engine has it", claim.id)

    # -- building a step ----------------------------------------------------------------

    def _step(
        self,
        conn: Connection,
        claim: Claim,
        preload: Preload | None = None,
        journal: Journal | None = None,
    ) -> Step | None:
        """The step a claimed item asks for; None if its run is no longer active. Rows
        the preload cannot give are read after the journal's writes are sent."""
        preload = preload or Preload(conn, self.services, [])
        run = preload.run(claim.run_id)
        if run is None:
            if journal is not None:
                journal.flush()
            run = get_run(conn, claim.run_id)
        if run.state != "active":
            return None
        version = self.services.versions.get(conn, run.version_id)
        node = version.graph.node(claim.node_id)
        assert node is not None, "a version's work items name its own nodes"
        node_type = catalogue.require(node.type)
        self.services.load_descriptions(conn, version.source)
        return Step(
            run=run,
            version=version,
            node=node,
            node_type=node_type,
            params=node_type.with_defaults(node.params),
            record=preload.record(conn, version.source, run.record_key),
            payload=claim.payload,
            attempt=claim.attempt,
            clock=self.clock,
            services=self.services,
            conn=conn,
        )

    def _changed_since_start(self, step: Step) -> str | None:
        """Why this guarded step must not execute, or None."""
        if step.node_type.category.value not in GUARDED:
            return None
        mode = step.params.get("skip_if_changed")
        if mode == "status":
            name = step.version.source.status_column
        elif mode == "field":
            name = step.params.get("skip_field") or ""
        else:
            return None
        before = step.run.start_snapshot.get(name)
        now = jsonable(step.record or {}).get(name)
        if str(before) == str(now):
            return None
        return f"{name} changed from {before} to {now} since the run started"

    # -- internal steps -----------------------------------------------------------------

    def _internal(
        self,
        conn: Connection,
        claim: Claim,
        journal: Journal,
        preload: Preload | None = None,
        external: list[Claim] | None = None,
    ) -> None:
        step = self._step(conn, claim, preload, journal)
        if step is None:
            journal.complete(claim)
            return
        if step.record is None:
            journal.complete(claim)
            journal.flush()
            finish_run(
                conn, step.run.id, "cancelled", "the record no longer exists", clock=self.clock
            )
            return
        executor = EXECUTORS[step.node.type]
        why = self._changed_since_start(step)
        external_step = isinstance(executor, ExternalExecutor) and why is None
        if external is not None and external_step and claim.payload.get("phase") is None:
            external.append(claim)  # sent after this transaction commits
            return
        if claim.payload.get("phase") == "compensated":
            outcome = Outcome(
                "A person did this step by hand; the run goes on.", detail={"compensated": True}
            )
        elif why is not None:
            outcome = Outcome(f"Not executed: {why}.", cancel_run=why, kind="cancel")
        else:
            try:
                outcome = self._run_internal(conn, executor, step)
                self._count_action(journal, step, analytics.ACTION_EXECUTED)
            except StatusFlowError as exc:
                self._count_action(journal, step, analytics.ACTION_FAILED)
                outcome = Outcome(
                    f"Failed: {exc}", fail_run=str(exc), kind=step.node_type.category.value
                )
        self._apply(conn, claim, step, outcome, journal)

    def _count_action(self, journal: Journal, step: Step, name: str) -> None:
        """Analytics for actions that change the record (sends are counted where sent)."""
        if step.node_type.category.value != "action":
            return
        journal.analytics(
            name,
            source_id=step.version.source.id,
            graph_id=step.version.graph_id,
            trigger_type=trigger_kind(step.version, step.run.trigger_node_id),
            action_type=step.node.type,
        )

    @staticmethod
    def _run_internal(conn: Connection, executor: Any, step: Step) -> Outcome:
        if not executor.atomic:
            return executor.run(step)
        with conn.begin_nested():
            return executor.run(step)

    # -- external steps ----------------------------------------------------------------

    def _external(self, claim: Claim, executor: ExternalExecutor) -> None:
        with self.db.read() as conn:
            step = self._step(conn, claim)
            why = self._changed_since_start(step) if step and step.record else None
            prepared, error = None, None
            if step is not None and step.record is not None and why is None:
                try:
                    prepared = executor.prepare(step)
                except ActionError as exc:
                    error = exc
        if prepared is not None and step is not None:
            step.conn = None
            try:
                outcome = executor.perform(prepared, step)
            except ActionError as exc:
                error = exc
        with self.db.write() as conn:
            journal = self._journal(conn)
            step = self._step(conn, claim)
            if step is None or step.record is None or why is not None:
                self._internal(conn, claim, journal)  # the same decisions, now committed
            elif error is not None:
                self.failures.action_failed(conn, claim, step, executor, prepared, error, journal)
            else:
                self._count_action(journal, step, analytics.ACTION_EXECUTED)
                self._apply(conn, claim, step, outcome, journal)
            journal.settle()

    # -- committing a result ----------------------------------------------------------

    def _apply(
        self, conn: Connection, claim: Claim, step: Step, outcome: Outcome, journal: Journal
    ) -> None:
        journal.step(
            step.run.id,
            outcome.kind,
            outcome.summary,
            node_id=step.node.id,
            node_type=step.node.type,
            detail=outcome.detail,
            attempt=claim.attempt,
            engine_id=self.services.engine_id,
        )
        if outcome.snapshot_update:
            journal.snapshot(step.run.id, step.run.start_snapshot, outcome.snapshot_update)
        if outcome.wait_until is not None:
            payload = outcome.payload or {}
            held = reschedule(
                conn,
                claim,
                self.services.engine_id,
                outcome.wait_until,
                payload,
                keep_attempts=False,
            )
            if not held:
                raise LeaseLost
            return
        journal.complete(claim)
        if outcome.cancel_run or outcome.fail_run:
            state = "cancelled" if outcome.cancel_run else "failed"
            reason = outcome.cancel_run or outcome.fail_run
            journal.flush()
            finish_run(conn, step.run.id, state, reason, clock=self.clock)
            return
        if outcome.ports and step.node.type in WAITS_IN_SEVERAL_ITEMS:
            self._close_other_items(conn, claim)
        run = step.run
        if not journal.follow(step.version, run.id, run.record_key, step.node.id, outcome.ports):
            journal.idle(run.id)  # a run that just added work is not finished

    def _close_other_items(self, conn: Connection, claim: Claim) -> None:
        """A node that moved on no longer needs its other pending items (e.g. a timeout)."""
        conn.execute(
            update(work_items)
            .where(work_items.c.run_id == claim.run_id)
            .where(work_items.c.node_id == claim.node_id)
            .where(work_items.c.state == "pending")
            .where(work_items.c.id != claim.id)
            .values(
                state="cancelled", cancel_reason="the step moved on", completed_at=self.clock.now()
            )
        )
