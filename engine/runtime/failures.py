"""When a step fails: retries with back-off, then the node's compensation policy.

An action that fails with a retryable error is tried again after its back-off (each
next try waits twice as long, give or take a fifth) until its attempts are used up;
then a person gets a manual task (the run waits for them) or the run fails, as the
node says. An unexpected error is retried a few times and then fails the run with the
reason. An item whose engine died mid-send is handed to a person rather than sent
twice blindly.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, update
from sqlalchemy.exc import DBAPIError

from engine import analytics, durations
from engine.actions.errors import ActionError
from engine.clock import Clock
from engine.nodes import catalogue
from engine.nodes.common import retry_attempts, retry_backoff
from engine.runtime.executors.base import ExternalExecutor, Step
from engine.runtime.index import Version
from engine.runtime.journal import Journal
from engine.runtime.leases import Claim, LeaseLost, complete, reschedule
from engine.runtime.runs import add_step, finish_run, get_run, jsonable, step_row
from engine.runtime.services import Services
from engine.runtime.tasks import create_task
from engine.storage.database import first_line
from engine.storage.tables import work_items
from engine.time_zone import moment_text

CRASH_RETRIES = 3


class FailurePolicy:
    """The dispatcher's answer to a failed step, in the transaction that records it."""

    def __init__(
        self,
        services: Services,
        clock: Clock,
        step_of: Callable[[Connection, Claim], Step | None],
    ) -> None:
        self.services = services
        self.clock = clock
        self.step_of = step_of

    def action_failed(
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
                trigger_type=trigger_kind(step.version, step.run.trigger_node_id),
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
            due = self.clock.now() + _backoff(step.params, claim.attempt)
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

    def crashed(self, conn: Connection, claim: Claim, exc: Exception) -> None:
        """An unexpected error: try again later, then fail the run with the reason."""
        run = get_run(conn, claim.run_id)
        error = plain_error(exc)
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
        step = self.step_of(conn, claim)
        conn.execute(
            update(work_items)
            .where(work_items.c.id == claim.id)
            .values(state="done", completed_at=self.clock.now(), lease_owner=None)
        )
        if step is not None:
            self.compensation_task(conn, step, what, why)


def _backoff(params: dict[str, Any], attempt: int) -> timedelta:
    delay = durations.to_timedelta(retry_backoff(params)) * (2 ** (attempt - 1))
    return delay * random.uniform(0.8, 1.2)


def trigger_kind(version: Version, trigger_node_id: str) -> str | None:
    """The kind of trigger a run started from, for the analytics rows."""
    node = version.graph.node(trigger_node_id)
    return catalogue.require(node.type).trigger_kind if node else None


def plain_error(exc: Exception) -> str:
    """What went wrong, for the timeline: the database's own first line without the SQL
    it was running (the full error goes to the log)."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return f"the database refused the change: {first_line(exc)}"
    return f"{type(exc).__name__}: {exc}"
