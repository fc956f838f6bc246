"""What an executor gets and returns.

Internal executors (conditions, waits, record writes, tasks) run inside the
transaction that completes the work item, so their writes and the next work items
commit together. External executors (email, SMS, webhook) render inside a read
transaction, then perform the side effect outside any transaction, and the
dispatcher commits the result; a failure raises ``ActionError``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from engine.clock import Clock
from engine.graph.model import Node
from engine.nodes.spec import NodeType
from engine.runtime.index import Version
from engine.runtime.runs import Run
from engine.runtime.services import Services


@dataclass
class Step:
    """One execution of one node for one run."""

    run: Run
    version: Version
    node: Node
    node_type: NodeType
    params: dict[str, Any]
    record: dict[str, Any] | None
    payload: dict[str, Any]
    attempt: int
    clock: Clock
    services: Services
    conn: Connection | None = None  # set for internal executors

    @property
    def idempotency_key(self) -> str:
        """Stable for a run and node: a retry of the same step carries the same key."""
        return f"sf-{self.run.id}-{self.node.id}"

    @property
    def phase(self) -> str | None:
        return self.payload.get("phase")

    def template_values(self) -> dict[str, Any]:
        """Record fields plus the built-in names templates may use."""
        record = dict(self.record or {})
        source = self.version.source
        status = record.get(source.status_column)
        now = self.clock.now().astimezone(self.services.zone)
        values = {key: value for key, value in record.items() if not key.startswith("_")}
        values.update(
            record_key=self.run.record_key,
            status=status,
            status_description=self.services.status_description(source, status),
            previous_status=self.run.start_snapshot.get("_previous_status"),
            graph_name=self.version.graph_name,
            run_id=self.run.id,
            now=now,  # in the organisation's time zone, as "today" is
            today=now.date(),
        )
        return values


@dataclass
class Outcome:
    """What a step decided: follow ports, wait, park, or end the run."""

    summary: str
    kind: str = "action"
    ports: tuple[str, ...] = ("out",)
    detail: dict[str, Any] | None = None
    wait_until: datetime | None = None  # come back to this node then
    payload: dict[str, Any] | None = None  # carried to that return
    cancel_run: str | None = None
    fail_run: str | None = None
    snapshot_update: dict[str, Any] = field(default_factory=dict)  # the run's own writes


class InternalExecutor(ABC):
    """Executes inside the completing transaction (``step.conn`` is set).

    ``atomic`` executors write several rows; a failure half-way is rolled back to a
    savepoint before the failure itself is recorded. Executors that write one row (or
    fail before writing) need no savepoint.
    """

    atomic = False

    @abstractmethod
    def run(self, step: Step) -> Outcome: ...


class ExternalExecutor(ABC):
    """Renders inside a read transaction, then sends outside any transaction."""

    @abstractmethod
    def prepare(self, step: Step) -> Any:
        """What will be sent, rendered from the record (raise ActionError if impossible)."""

    @abstractmethod
    def perform(self, prepared: Any, step: Step) -> Outcome:
        """Send it; raise ActionError on failure."""

    def describe(self, prepared: Any) -> str:
        """A short phrase for tasks and the timeline: 'the email to ana@example.com'."""
        return "this action"


Executor = InternalExecutor | ExternalExecutor
