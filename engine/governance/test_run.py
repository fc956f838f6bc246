"""Test runs: a draft or version played against one record, on a simulated clock.

Nothing is sent and nothing real changes: the record is copied into a scratch SQLite
database with the same columns, status codes and triggers; the graph is published
there and the real engine runs it in dry-run mode (emails, SMS and webhooks are
rendered, not sent) on a manual clock. Scripted changes ("+1h status becomes ASN")
are applied as UPDATEs at their virtual times, so waits, cancellations and branches
behave exactly as they will in production.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    insert,
    select,
    update,
)
from sqlalchemy.types import TypeEngine

from engine import durations
from engine import graphs as graph_store
from engine.clock import SYSTEM_CLOCK, Clock, ManualClock
from engine.errors import StatusFlowError
from engine.governance import versions
from engine.governance.versions import fingerprint
from engine.graph.model import Graph
from engine.graphs import find_graph
from engine.permissions import require
from engine.runtime.engine import Engine
from engine.runtime.index import Entry
from engine.runtime.runs import OUTCOME_WORDS
from engine.settings import FOUR_EYES_RELAXED, organisation_zone, set_setting
from engine.sources import registry, status_codes
from engine.sources.introspection import split_name
from engine.sources.registry import SourceInfo
from engine.storage import schema
from engine.storage.database import Database
from engine.storage.tables import graph_versions, graphs, run_steps, runs, work_items
from engine.time_zone import TIME_ZONE

HORIZON = timedelta(days=60)
CHANGE = re.compile(
    r"^\s*\+\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w|seconds?|minutes?|hours?|days?|weeks?)\s+"
    r"(\w+)\s+(?:becomes|=|is)\s+(.+?)\s*$",
    re.IGNORECASE,
)
UNIT_WORDS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
COLUMN_TYPES: dict[str, TypeEngine[Any]] = {
    "number": Numeric(18, 4),
    "date": Date(),
    "datetime": DateTime(),
    "boolean": Boolean(),
}


@dataclass(frozen=True)
class ScriptedChange:
    """At ``after`` (from the start), ``field`` of the record becomes ``value``."""

    after: timedelta
    field: str
    value: str

    @classmethod
    def parse(cls, text: str) -> ScriptedChange:
        """'+1h status becomes ASN', '+2 days amount = 900'."""
        match = CHANGE.match(text)
        if not match:
            raise StatusFlowError(
                f"'{text}' is not a scripted change. Write it like '+1h status becomes ASN' "
                "or '+2 days amount = 900'."
            )
        amount, unit, name, value = match.groups()
        unit = UNIT_WORDS.get(unit.lower(), unit.lower().rstrip("s") + "s")
        after = durations.to_timedelta({"amount": float(amount), "unit": unit})
        return cls(after, name, value.strip().strip("'\""))


@dataclass
class TestRunResult:
    """What a test run shows: the verdict, the timeline and the path taken."""

    verdict: str
    outcome: str
    timeline: list[dict[str, Any]] = field(default_factory=list)
    path: list[str] = field(default_factory=list)  # node ids, in the order visited
    branches: dict[str, str] = field(default_factory=dict)  # node id → port taken
    stopped_at: str | None = None  # node id where it ended or is waiting

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _scratch_table(source: SourceInfo, metadata: MetaData) -> Table:
    columns = []
    for name, kind in source.fields.items():
        if name == source.key_column:
            key_type = Integer() if kind == "number" else String(200)
            columns.append(Column(name, key_type, primary_key=True))
        else:
            columns.append(Column(name, COLUMN_TYPES.get(kind, String())))
    return Table(source.table, metadata, *columns)


def _scratch_labels(source: SourceInfo, metadata: MetaData, table: Table) -> Table | None:
    if not (source.label_table and source.label_key_column and source.label_column):
        return None
    return Table(
        source.label_table,
        metadata,
        Column("id", Integer, primary_key=True),
        Column(source.label_key_column, ForeignKey(table.c[source.key_column])),
        Column(source.label_column, String(200)),
    )


def _unqualified(source: SourceInfo) -> SourceInfo:
    """The source as the scratch SQLite database names it: tables without a schema, in
    that database (not in a host of its own)."""
    label_table = split_name(source.label_table)[1] if source.label_table else None
    table = split_name(source.table)[1]
    return replace(source, table=table, label_table=label_table, host_url=None)


class Simulation:
    """A scratch database holding one record and one published graph."""

    def __init__(
        self, folder: Path, source: SourceInfo, codes: list[tuple[str, str]], zone: str
    ) -> None:
        self.db = Database(f"sqlite:///{folder / 'test-run.db'}")
        schema.upgrade(self.db)
        # "Wait until 09:00" must mean here what it will mean once published.
        set_setting(self.db, TIME_ZONE, zone, actor="test run")
        self.source = source = _unqualified(source)
        metadata = MetaData()
        self.table = _scratch_table(source, metadata)
        self.labels = _scratch_labels(source, metadata, self.table)
        metadata.create_all(self.db.engine)
        self.codes = codes

    def load(self, record: dict[str, Any], labels: list[str]) -> None:
        row = {k: v for k, v in record.items() if k in self.table.c}
        with self.db.write() as conn:
            conn.execute(insert(self.table).values(row))
        for label in labels if self.labels is not None else ():
            self.add_label(row[self.source.key_column], label)
        s = self.source
        registry.add_source(
            self.db,
            name=s.name,
            table=s.table,
            key_column=s.key_column,
            status_column=s.status_column,
            label_table=s.label_table,
            label_key_column=s.label_key_column,
            label_column=s.label_column or "label",
            display_columns=s.display_columns,
            watched_columns=s.watched_columns,
        )
        if self.codes:
            status_codes.set_codes(self.db, s.name, self.codes)

    def publish(self, document: dict[str, Any], clock: Clock) -> None:
        set_setting(self.db, FOUR_EYES_RELAXED, True, actor="test run")
        graph_store.create_graph(self.db, document, actor="test run", clock=clock)
        version = versions.submit(self.db, document["id"], actor="test run", clock=clock)
        versions.approve(self.db, version.id, actor="test run", clock=clock)
        versions.publish(self.db, version.id, actor="test run", clock=clock)

    def add_label(self, key: Any, label: str) -> None:
        assert self.labels is not None
        with self.db.write() as conn:
            conn.execute(
                insert(self.labels).values(
                    {self.source.label_key_column: key, self.source.label_column: label}
                )
            )

    def change(self, key: Any, change: ScriptedChange) -> None:
        name = self.source.status_column if change.field == "status" else change.field
        if name not in self.table.c:
            raise StatusFlowError(
                f"The scripted change names '{change.field}', but {self.source.name} records "
                f"have no such field. Fields: {', '.join(self.table.c.keys())}."
            )
        with self.db.write() as conn:
            conn.execute(
                update(self.table)
                .where(self.table.c[self.source.key_column] == key)
                .values({name: change.value})
            )


def _first_entry(engine: Engine) -> Entry:
    with engine.db.read() as conn:
        engine.services.versions.refresh(conn)
    entries = [e for es in engine.services.versions.index.entries.values() for e in es]
    if not entries:
        raise StatusFlowError("The graph has no trigger, so a test run cannot start it.")
    manual = [e for e in entries if e.kind == "manual"]
    return (manual or entries)[0]


def _next_due(db: Database) -> datetime | None:
    with db.read() as conn:
        return conn.execute(
            select(work_items.c.due_at)
            .where(work_items.c.state == "pending")
            .order_by(work_items.c.due_at)
            .limit(1)
        ).scalar()


def _trigger(sim: Simulation, engine: Engine, key: Any) -> None:
    """Make the trigger happen the way it would in production, when it can be shown."""
    entry = _first_entry(engine)
    with sim.db.read() as conn:
        record = engine.services.records.read(conn, sim.source, str(key)) or {}
    codes = [str(code) for code in entry.params.get("codes") or []]
    label = entry.params.get("label")
    if entry.kind == "status" and codes and str(record.get(sim.source.status_column)) not in codes:
        sim.change(key, ScriptedChange(timedelta(0), "status", codes[0]))
    elif entry.kind == "label" and sim.labels is not None and label not in record.get("labels", []):
        sim.add_label(key, str(label))
    else:
        with sim.db.write() as conn:
            engine.ingest.start(conn, entry, str(key), engine.limits, opening="Test run")


def _play(sim: Simulation, key: Any, changes: list[ScriptedChange], start: datetime) -> Engine:
    clock = ManualClock(start)
    engine = Engine(sim.db, clock=clock, dry_run=True)
    engine.start()
    _trigger(sim, engine, key)
    engine.run_until_idle()
    pending = sorted(changes, key=lambda c: c.after)
    while clock.now() - start < HORIZON:
        due = _next_due(sim.db)
        change_at = start + pending[0].after if pending else None
        moments = [m for m in (due, change_at) if m is not None]
        if not moments:
            break
        clock.set(max(clock.now(), min(moments)))
        while pending and start + pending[0].after <= clock.now():
            sim.change(key, pending.pop(0))
        engine.run_until_idle()
    return engine


def _result(db: Database, start: datetime) -> TestRunResult:
    with db.read() as conn:
        run = conn.execute(select(runs)).one()
        steps = conn.execute(select(run_steps).order_by(run_steps.c.id)).all()
    timeline: list[dict[str, Any]] = []
    path: list[str] = []
    branches: dict[str, str] = {}
    for step in steps:
        offset = step.at - start
        timeline.append(
            {"after": str(offset).split(".")[0], "kind": step.kind, "summary": step.summary}
        )
        if step.node_id and (not path or path[-1] != step.node_id):
            path.append(step.node_id)
        if step.detail and "branch" in step.detail and step.node_id:
            branches[step.node_id] = step.detail["branch"]
    if run.state == "active":
        verdict = f"Still waiting after {HORIZON.days} simulated days."
    else:
        verdict = OUTCOME_WORDS[run.state] + (
            f": {run.outcome_reason}" if run.outcome_reason else ""
        )
    return TestRunResult(verdict, run.state, timeline, path, branches, path[-1] if path else None)


def simulate(
    db: Database,
    graph: str,
    *,
    actor: str,
    version: str | None = None,
    record_key: str | None = None,
    record: dict[str, Any] | None = None,
    changes: list[ScriptedChange] | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> TestRunResult:
    """Play the draft (or ``version``, e.g. "V1.0") of a graph against one record."""
    with db.read() as conn:
        require(conn, actor, "graph.test")
        summary = find_graph(conn, graph)
        document = _document(conn, summary.id, version)
        if summary.source is None:
            raise StatusFlowError(f"'{summary.name}' has no record source to test against.")
        source = registry.get_source(conn, summary.source)
        codes = [(c.code, c.description) for c in status_codes.list_codes(conn, source.name)]
        zone = organisation_zone(conn).key
        if record is None:
            if record_key is None:
                raise StatusFlowError("Choose a record (its key) or paste one as JSON.")
            record = Engine(db).services.records.read(conn, source, record_key)
            if record is None:
                raise StatusFlowError(f"There is no record {source.name}:{record_key}.")
    labels = list(record.pop("labels", []) or [])
    key = record.get(source.key_column)
    if key is None:
        raise StatusFlowError(f"The record needs its key field '{source.key_column}'.")
    Graph.from_document(document)
    folder = Path(tempfile.mkdtemp(prefix="statusflow-test-run-"))
    try:
        sim = Simulation(folder, source, codes, zone)
        sim.load(record, labels)
        sim.publish(document, clock)
        start = clock.now()
        _play(sim, key, changes or [], start).stop()
        result = _result(sim.db, start)
        sim.db.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    _store(db, summary.id, version, result, document)
    return result


def _document(conn: Any, graph_id: str, version: str | None) -> dict[str, Any]:
    if version is None:
        return dict(
            conn.execute(select(graphs.c.draft).where(graphs.c.id == graph_id)).scalar_one()
        )
    match = re.fullmatch(r"[Vv]?(\d+)\.(\d+)", version.strip())
    row = None
    if match:
        row = conn.execute(
            select(graph_versions.c.document)
            .where(graph_versions.c.graph_id == graph_id)
            .where(graph_versions.c.major == int(match[1]))
            .where(graph_versions.c.minor == int(match[2]))
        ).first()
    if row is None:
        raise StatusFlowError(f"There is no version {version} of this graph.")
    return dict(row.document)


def _store(
    db: Database,
    graph_id: str,
    version: str | None,
    result: TestRunResult,
    document: dict[str, Any],
) -> None:
    """Keep the last result: with the draft, or with the version tested."""
    stored = {**result.as_json(), "fingerprint": fingerprint(document)}
    with db.write() as conn:
        if version is None:
            conn.execute(
                update(graphs).where(graphs.c.id == graph_id).values(draft_test_run=stored)
            )
            return
        major, minor = (int(part) for part in version.strip().lstrip("Vv").split("."))
        conn.execute(
            update(graph_versions)
            .where(graph_versions.c.graph_id == graph_id)
            .where(graph_versions.c.major == major)
            .where(graph_versions.c.minor == minor)
            .values(last_test_run=stored)
        )
