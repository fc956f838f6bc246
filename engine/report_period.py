"""Every process report for one period, read in one go.

The reports panel shows all of them at once (one tab each) and switching tabs must not
wait for the database, so they are read together, in one transaction, for one moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from engine import reports
from engine.storage.database import Database


@dataclass(frozen=True)
class ReportData:
    """Everything the reports panel shows for one period."""

    since: datetime
    failures: list[reports.FailureRow]
    retries: reports.RetryRate
    interventions: list[reports.InterventionRow]
    loop_stops: list[reports.LoopStop]
    weeks: list[reports.ActionsWeek]
    outcomes: list[reports.OutcomeRow]


def load_report(db: Database, days: int, now: datetime) -> ReportData:
    """The reports for the ``days`` before ``now``; the weekly one covers at least 2 weeks."""
    since = now - timedelta(days=days)
    with db.read() as conn:
        return ReportData(
            since,
            reports.failures_by_node(conn, since),
            reports.retry_success_rate(conn, since),
            reports.interventions(conn, since),
            reports.loop_stops(conn, since),
            reports.actions_per_week(conn, max(2, round(days / 7)), now=now),
            reports.runs_by_outcome(conn, since),
        )
