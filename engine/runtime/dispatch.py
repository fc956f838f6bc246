"""Executing claimed work items: one node of one run at a time.

Internal steps execute inside the transaction that completes the item, round by
round: the items a round's steps add are claimed at once and executed in the next
round, so a run goes from step to step without a new transaction. Each round reads
its runs and records together (``preload``) and sends its rows together (``journal``).

External steps render in a read transaction, send outside any transaction, and
commit the result afterwards; a failure is retried with exponential backoff and
jitter, and when the attempts are used up the node's compensation policy applies: a
manual task for a person, or a failed run.
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, update
from sqlalchemy.exc import DBAPIError

from engine import analytics, durations
from engine.actions.errors import ActionError
from engine.clock import Clock
from engine.errors import StatusFlowError
from engine.nodes import catalogue
from engine.nodes.common import retry_attempts, retry_backoff
from engine.runtime.executors import EXECUTORS
from engine.runtime.executors.base import ExternalExecutor, Outcome, Step
from engine.runtime.index import Version
from engine.runtime.journal import Journal
from engine.runtime.leases import Claim, LeaseLost, complete, renew, reschedule
from engine.runtime.preload import Preload
from engine.runtime.runs import add_step, finish_run, get_run, jsonable, step_row
from engine.runtime.services import Services
from engine.runtime.tasks import create_task
from engine.storage.database import Database, first_line
from engine.storage.tables import work_items
from engine.time_zone import moment_text

log = logging.getLogger("statusflow.engine")

GUARDED = ("wait", "action")  # categories with "do not execute if ... changed"
WAITS_IN_SEVERAL_ITEMS = ("human.approval",)  # a decision item and a timeout item
CHAIN_LIMIT = 50  # rounds of internal steps executed back to back in one transaction
CRASH_RETRIES = 3


class Dispatcher:
    def __init__(self, db: Database, services: Services, clock: Clock) -> None:
        self.db = db
        self.services = services
        self.clock = clock

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
            self._crashed(conn, claim, exc)
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
            trigger_type=self._trigger_kind(step.version, step.run.trigger_node_id),
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
                self._failed(conn, claim, step, executor, prepared, error, journal)
            else:
                self._count_action(journal, step, analytics.ACTION_EXECUTED)
                self._apply(conn, claim, step, outcome, journal)
            journal.settle()

    def _failed(
        self,
        conn: Connection,
        claim: Claim,
        step: Step,
        executor: ExternalExecutor,
        prepared: Any,
        error: ActionError,
        journal: Journal,
    ) -> None:
        attempts = retry_attempts(step.params)
        analytics.record(
            conn,
            analytics.row(
                analytics.ACTION_FAILED,
                source_id=step.version.source.id,
                graph_id=step.version.graph_id,
                trigger_type=self._trigger_kind(step.version, step.run.trigger_node_id),
                action_type=step.node.type,
                properties={"error_class": error.error_class, "attempt": claim.attempt},
                clock=self.clock,
            ),
        )
        common: dict[str, Any] = {
            "node_id": step.node.id,
            "node_type": step.node.type,
            "attempt": claim.attempt,
            "error_class": error.error_class,
            "error": str(error),
            "engine_id": self.services.engine_id,
            "clock": self.clock,
        }
        if error.retryable and claim.attempt < attempts:
            due = self.clock.now() + self._backoff(step.params, claim.attempt)
            add_step(
                conn,
                step_row(
                    step.run.id,
                    "retry",
                    f"Attempt {claim.attempt} of {attempts} failed: {error} "
                    f"Next try at {moment_text(due, self.services.zone, seconds=True)}.",
                    **common,
                ),
            )
            if not reschedule(
                conn, claim, self.services.engine_id, due, claim.payload, keep_attempts=True
            ):
                raise LeaseLost
            return
        tried = f"after {claim.attempt} attempt{'s' * (claim.attempt != 1)}"
        add_step(conn, step_row(step.run.id, "action", f"Failed {tried}: {error}", **common))
        journal.complete(claim)
        if step.params.get("on_failure", "task") == "fail":
            finish_run(
                conn,
                step.run.id,
                "failed",
                f"{step.node_type.label} failed: {error}",
                clock=self.clock,
            )
            return
        what = executor.describe(prepared) if prepared is not None else step.node_type.label.lower()
        self.compensation_task(conn, step, what, error)

    def compensation_task(
        self, conn: Connection, step: Step, what: str, error: ActionError | str
    ) -> None:
        """Ask a person to do (or check) a step by hand; the run waits for them."""
        record = jsonable({k: v for k, v in (step.record or {}).items() if not k.startswith("_")})
        task_id = create_task(
            conn,
            kind="compensation",
            title=f"Please do by hand: {what}",
            instructions=(
                f"StatusFlow could not complete {what} for {step.version.source.name} "
                f"{step.run.record_key} ('{step.version.graph_name}'). "
                f"The error was: {error} Do it by hand, then mark this task done so the "
                "automation continues — or abandon it to end the run as failed."
            ),
            assignee_role="operator",
            run_id=step.run.id,
            node_id=step.node.id,
            context={
                "error": str(error),
                "error_class": getattr(error, "error_class", "lease_expired"),
                "action": step.node.type,
                "record": record,
            },
            clock=self.clock,
        )
        add_step(
            conn,
            step_row(
                step.run.id,
                "task",
                f"Created a manual task for the operators: do {what} by hand.",
                node_id=step.node.id,
                clock=self.clock,
                detail={"task_id": task_id},
            ),
        )

    def _crashed(self, conn: Connection, claim: Claim, exc: Exception) -> None:
        """An unexpected error: try again later, then fail the run with the reason."""
        run = get_run(conn, claim.run_id)
        error = _plain_error(exc)
        if claim.attempt < CRASH_RETRIES:
            due = self.clock.now() + timedelta(seconds=30 * 2 ** (claim.attempt - 1))
            add_step(
                conn,
                step_row(
                    run.id,
                    "retry",
                    f"This step hit an unexpected error ({error}); it is tried again at "
                    f"{moment_text(due, self.services.zone, seconds=True)}.",
                    node_id=claim.node_id,
                    attempt=claim.attempt,
                    error_class="internal",
                    error=error,
                    clock=self.clock,
                ),
            )
            reschedule(conn, claim, self.services.engine_id, due, claim.payload, keep_attempts=True)
            return
        complete(conn, [claim], self.services.engine_id, self.clock.now())
        finish_run(conn, run.id, "failed", f"an unexpected error: {error}", clock=self.clock)

    def hand_to_person(self, conn: Connection, claim: Claim, what: str, why: str) -> None:
        """Close an item whose engine died and ask a person to finish the step."""
        step = self._step(conn, claim)
        conn.execute(
            update(work_items)
            .where(work_items.c.id == claim.id)
            .values(state="done", completed_at=self.clock.now(), lease_owner=None)
        )
        if step is not None:
            self.compensation_task(conn, step, what, why)

    @staticmethod
    def _backoff(params: dict[str, Any], attempt: int) -> timedelta:
        delay = durations.to_timedelta(retry_backoff(params)) * (2 ** (attempt - 1))
        return delay * random.uniform(0.8, 1.2)

    @staticmethod
    def _trigger_kind(version: Version, trigger_node_id: str) -> str | None:
        node = version.graph.node(trigger_node_id)
        return catalogue.require(node.type).trigger_kind if node else None

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


def _plain_error(exc: Exception) -> str:
    """What went wrong, for the timeline: the database's own first line without the SQL
    it was running (the full error goes to the log)."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return f"the database refused the change: {first_line(exc)}"
    return f"{type(exc).__name__}: {exc}"
