"""Runs that no status event starts: by hand, and on a schedule.

Scheduled triggers use crontab expressions as people write them (weekday 0 is
Sunday); APScheduler 3 counts weekdays from Monday, so the expression is translated
to day names first. Several engines may look at the same schedule: a lock row per
firing (name = version, node, minute) lets exactly one of them start it. After
downtime only the latest missed firing runs, and only within the misfire grace.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError

from engine import durations
from engine.clock import SYSTEM_CLOCK, Clock
from engine.errors import StatusFlowError
from engine.graphs import find_graph
from engine.permissions import require
from engine.runtime.index import Entry, Versions
from engine.runtime.ingest import Ingest
from engine.runtime.services import Services
from engine.settings import EngineLimits, engine_limits
from engine.sources.hosts import hosts
from engine.storage.database import Database
from engine.storage.tables import locks, status_events
from engine.time_zone import moment_text

DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _day(token: str) -> str:
    return DAYS[int(token) % 7] if token.isdigit() else token


def _weekdays(field: str) -> str:
    """Crontab weekdays (0 or 7 = Sunday) as day names APScheduler reads correctly."""
    parts = []
    for item in field.split(","):
        base, _, step = item.partition("/")
        if "-" in base:
            low, high = base.split("-", 1)
            if low.isdigit() and high.isdigit() and int(low) <= int(high) and int(high) <= 7:
                names = [DAYS[n % 7] for n in range(int(low), int(high) + 1)]
                parts.append(",".join(names) if not step else f"{_day(low)}-{_day(high)}/{step}")
                continue
            base = f"{_day(low)}-{_day(high)}"
        else:
            base = _day(base)
        parts.append(f"{base}/{step}" if step else base)
    return ",".join(parts)


def cron_trigger(expression: str, zone: tzinfo = UTC) -> CronTrigger:
    """APScheduler's trigger for a five-field cron text, read as clock times in ``zone``."""
    minute, hour, day, month, weekday = re.split(r"\s+", expression.strip())
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=_weekdays(weekday),
        timezone=zone,
    )


def _entry_for_manual(versions: Versions, conn: Connection, graph: str) -> Entry:
    summary = find_graph(conn, graph)
    if summary.current_version is None:
        raise StatusFlowError(
            f"'{summary.name}' has no published version yet; publish it before starting it."
        )
    if not summary.enabled:
        raise StatusFlowError(f"'{summary.name}' is disabled; enable it to start runs.")
    versions.refresh(conn)
    entries = versions.index.of_graph(summary.id)
    manual = [e for e in entries if e.kind == "manual"]
    if not (manual or entries):
        raise StatusFlowError(f"'{summary.name}' has no trigger to start from.")
    return (manual or entries)[0]


def start_manual(
    db: Database,
    graph: str,
    source: str,
    record_key: str,
    *,
    actor: str,
    clock: Clock = SYSTEM_CLOCK,
) -> str:
    """Start the current version of a graph for one record, by hand; returns the run id."""
    services = Services()
    with db.write() as conn:
        require(conn, actor, "runs.start")
        entry = _entry_for_manual(services.versions, conn, graph)
        if entry.version.source.name != source:
            raise StatusFlowError(
                f"'{entry.version.graph_name}' works on {entry.version.source.name} records, "
                f"not {source}."
            )
        if services.records.read(conn, entry.version.source, record_key) is None:
            raise StatusFlowError(f"There is no record {source}:{record_key}.")
        run_id = Ingest(services, clock).start(
            conn,
            entry,
            record_key,
            engine_limits(conn),
            opening=f"Started by hand by {actor}",
            started_by=actor,
        )
    if run_id is None:
        raise StatusFlowError(
            f"'{entry.version.graph_name}' is already running for {source}:{record_key}."
        )
    return run_id


class Schedules:
    """Starts scheduled triggers' runs when their time comes (one engine per firing)."""

    def __init__(self, services: Services, ingest: Ingest, clock: Clock) -> None:
        self.services = services
        self.ingest = ingest
        self.clock = clock
        self.checked_until: datetime | None = None

    def due_firing(self, entry: Entry, since: datetime, now: datetime) -> datetime | None:
        """The latest firing time in (since, now], if any."""
        trigger = cron_trigger(str(entry.params["cron"]), self.services.zone)
        latest, moment = None, trigger.get_next_fire_time(None, since + timedelta(seconds=1))
        while moment is not None and moment <= now:
            latest = moment
            moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
        return latest

    def run(self, conn: Connection, limits: EngineLimits) -> int:
        now = self.clock.now()
        grace = timedelta(seconds=limits.misfire_grace_seconds)
        since = self.checked_until or now - grace
        self.checked_until = now
        conn.execute(
            delete(locks).where(locks.c.name.like("cron:%")).where(locks.c.expires_at < now)
        )
        started = 0
        for entry in self.services.versions.index.all("schedule"):
            firing = self.due_firing(entry, max(since, now - grace), now)
            if firing is not None and self._claim(conn, entry, firing, grace):
                started += self._start_for_records(conn, entry, firing, limits)
        return started

    def _claim(self, conn: Connection, entry: Entry, firing: datetime, grace: timedelta) -> bool:
        name = f"cron:{entry.version.id[:8]}:{entry.node.id[:8]}:{firing:%Y%m%d%H%M}"
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(locks).values(
                        name=name,
                        owner=self.services.engine_id,
                        acquired_at=self.clock.now(),
                        expires_at=firing + grace + timedelta(days=1),
                    )
                )
        except IntegrityError:
            return False  # another engine starts this firing
        return True

    def _start_for_records(
        self, conn: Connection, entry: Entry, firing: datetime, limits: EngineLimits
    ) -> int:
        source = entry.version.source
        codes = [str(code) for code in entry.params.get("in_status") or []]
        with hosts.connect(conn, source) as host:
            table = self.services.records.table(host, source.table)
            query = select(table.c[source.key_column]).where(
                table.c[source.status_column].in_(codes)
            )
            keys = [str(key) for key in host.execute(query).scalars()]
        min_age = entry.params.get("min_age")
        if min_age and durations.problem(min_age) is None:
            keys = self._older_than(conn, source.id, keys, firing - durations.to_timedelta(min_age))
        when = moment_text(firing, self.services.zone)
        opening = f"Scheduled ({entry.params['cron']}, {when})"
        return sum(
            self.ingest.start(conn, entry, key, limits, opening=opening) is not None for key in keys
        )

    @staticmethod
    def _older_than(
        conn: Connection, source_id: int, keys: list[str], moment: datetime
    ) -> list[str]:
        """Keys whose last status change the engine saw before ``moment`` (or never saw).

        The engine's own clock (when it processed the change) is used, not the database's,
        so schedules behave the same in simulated time.
        """
        changed = (
            select(status_events.c.record_key)
            .where(status_events.c.source_id == source_id)
            .where(status_events.c.kind == "status")
        )
        recent = set(
            conn.execute(
                changed.where(
                    (status_events.c.processed_at > moment) | status_events.c.processed_at.is_(None)
                ).distinct()
            ).scalars()
        )
        return [key for key in keys if key not in recent]
