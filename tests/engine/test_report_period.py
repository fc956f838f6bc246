"""Every report for one period, read together for the reports panel."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.clock import ManualClock
from engine.report_period import load_report
from engine.storage.database import Database
from tests.engine.test_reports import WAREHOUSE, busy_shop
from tests.servers import HttpServer


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def test_a_week_s_reports_cover_that_week_and_two_weeks_of_actions(
    db: Database, clock: ManualClock, http_server: HttpServer
) -> None:
    busy_shop(db, clock, http_server)
    now = clock.now() + timedelta(days=1)

    data = load_report(db, 7, now)

    assert data.since == now - timedelta(days=7)
    assert [row.graph for row in data.failures] == [WAREHOUSE]
    assert data.retries.needed_retry == 2
    assert [row.graph for row in data.interventions] == [WAREHOUSE]
    assert len(data.loop_stops) == 1
    assert len(data.weeks) == 2  # at least two weeks, so a change can be told
    assert sum(row.runs for row in data.outcomes) >= 3


def test_a_period_that_began_after_everything_happened_reports_nothing(
    db: Database, clock: ManualClock, http_server: HttpServer
) -> None:
    busy_shop(db, clock, http_server)

    data = load_report(db, 30, clock.now() + timedelta(days=100))

    assert (data.failures, data.interventions, data.loop_stops) == ([], [], [])
    assert data.retries.rate is None
