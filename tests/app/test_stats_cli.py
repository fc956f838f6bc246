"""``statusflow stats`` as the owners of StatusFlow type it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app import cli
from engine import analytics
from engine.clock import ManualClock
from engine.storage.database import Database
from tests.engine.runtime.support import publish, shop
from tests.engine.test_analytics_report import status_document


@pytest.fixture
def statusflow(db_url: str, statusflow_home, monkeypatch, capsys):
    """Run ``statusflow --database URL ...``; returns (exit code, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = cli.main(["--database", db_url, *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def record(db: Database, at: datetime, name: str, times: int, **fields: str) -> None:
    with db.write() as conn:
        for _ in range(times):
            analytics.record(conn, analytics.row(name, clock=ManualClock(at), **fields))


def test_stats_shows_this_week_against_last_week_and_the_breakdowns(
    db: Database, statusflow
) -> None:
    now = datetime.now(UTC)
    record(db, now - timedelta(weeks=1), analytics.RUN_STARTED, 2, trigger_type="status")
    record(db, now, analytics.RUN_STARTED, 3, trigger_type="status")
    record(db, now, analytics.ACTION_EXECUTED, 4, action_type="action.send_email")
    record(db, now, analytics.ACTION_FAILED, 1, action_type="action.send_email")

    code, out, err = statusflow("stats", "--weeks", "2")

    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[1].split() == [
        "WEEK", "OF", "GRAPHS", "CREATED", "VERSIONS", "PUBLISHED", "RUNS", "STARTED",
        "ACTIONS", "DONE", "ACTIONS", "FAILED",
    ]  # fmt: skip
    this_week = lines[3]
    assert this_week.startswith(f"{now.date() - timedelta(days=now.weekday()):%Y-%m-%d}")
    assert "3 (+1, +50%)" in this_week and "4 (+4)" in this_week
    assert [line.split() for line in lines if line.startswith(("Status", "Send"))] == [
        ["Status", "becomes", "5"],
        ["Send", "email", "4", "1"],
    ]


def test_stats_tells_how_many_sources_and_people_use_status_graphs(
    db: Database, statusflow
) -> None:
    clock = ManualClock()
    shop(db, clock)
    publish(db, status_document("Delivered note"), clock)

    code, out, _ = statusflow("stats")

    assert code == 0
    assert "  Record sources with one: 1 of 2 (50%)" in out.splitlines()
    assert "  Graph creators with one: 1 of 1 (100%)" in out.splitlines()
    assert len([line for line in out.splitlines() if line[:2] == "20"]) == 8


def test_stats_refuses_zero_weeks(statusflow) -> None:
    code, _, err = statusflow("stats", "--weeks", "0")

    assert code == cli.EXIT_USER_ERROR
    assert err == "statusflow: --weeks must be 1 or more.\n"
