"""The run timeline as support staff read it: what happened to a record, and why."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from engine.clock import ManualClock
from engine.errors import StatusFlowError
from engine.runtime import timeline
from engine.storage.database import Database
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import engine, mail_settings, publish, set_status, shop

DELIVERED = "Delivered → confirmation email"
LADDER = "Salesperson not assigned → escalation ladder"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def lines_for(db: Database, source: str, key: str) -> list[str]:
    with db.read() as conn:
        return timeline.format_timeline(timeline.record_timeline(conn, source, key))


def note_graph(name: str = "Delivered → note") -> dict:
    g = Builder(name)
    g.line(
        g.node("trigger.status_entered", codes=["DEL"]),
        g.node("action.add_note", note="Delivered to {{ customer_name }}."),
    )
    return g.document()


def webhook_graph(url: str) -> dict:
    g = Builder("Delivered → tell the warehouse")
    g.line(
        g.node("trigger.status_entered", codes=["DEL"]),
        g.node("action.webhook", url=url, retry_backoff={"amount": 10, "unit": "seconds"}),
    )
    return g.document()


def test_a_delivered_order_shows_the_email_that_went_out(db: Database, clock, smtp_server) -> None:
    shop(db, clock)
    mail_settings(db, smtp_server.profile())
    publish(db, DELIVERED, clock)
    worker = engine(db, clock)
    set_status(db, "orders", 7, "DEL")
    worker.run_until_idle()
    [mail] = smtp_server.wait_for(1)

    lines = lines_for(db, "orders", "7")

    assert lines[0] == f"Run of '{DELIVERED}' V1.0 — Succeeded, started 2026-01-05 09:00 UTC"
    assert lines[1].startswith("  09:00:00  Status changed from ")
    assert f"  09:00:00  Emailed {mail.message['To']}: 'Your order 7 has been delivered'." in lines
    assert lines[-1] == "  09:00:00  Succeeded"


def test_a_cancelled_escalation_says_why_it_stopped(
    db: Database, clock, smtp_server, http_server, memory_keyring
) -> None:
    shop(db, clock)
    mail_settings(db, smtp_server.profile(), sms_url=http_server.url("/sms"))
    publish(db, LADDER, clock)
    worker = engine(db, clock)
    set_status(db, "orders", 3, "SNA")
    worker.run_until_idle()
    clock.advance(timedelta(minutes=5))
    worker.run_until_idle()
    clock.advance(timedelta(minutes=55))
    set_status(db, "orders", 3, "ASN")
    worker.run_until_idle()

    with db.read() as conn:
        [(run, steps)] = timeline.record_timeline(conn, "orders", "3")
    lines = lines_for(db, "orders", "3")

    assert run.state == "cancelled" and "Status changed from SNA to ASN" in run.outcome_reason
    assert run.finished_at == clock.now()
    assert lines[0].startswith(f"Run of '{LADDER}' V1.0 — Cancelled, started 2026-01-05 09:00")
    assert "  09:05:00  Waited 5 minutes." in lines
    assert any(line.startswith("  09:05:00  Emailed ") for line in lines)
    assert lines[-1] == (
        "  10:00:00  Cancelled: Status changed from SNA to ASN, "
        "so the remaining steps were not executed"
    )
    assert [s.kind for s in steps][-1] == "outcome"


def test_a_failing_webhook_shows_its_retries_under_the_step(
    db: Database, clock, http_server
) -> None:
    shop(db, clock)
    publish(db, webhook_graph(http_server.url("/warehouse")), clock)
    worker = engine(db, clock)
    for _ in range(3):
        http_server.respond(500, {"error": "warehouse down"})
    set_status(db, "orders", 9, "DEL")
    for _ in range(3):
        worker.run_until_idle()
        clock.advance(timedelta(minutes=5))

    lines = lines_for(db, "orders", "9")

    failed = lines.index(next(line for line in lines if "Failed after 3 attempts" in line))
    assert lines[failed].startswith("  09:10:00  Failed after 3 attempts: ")
    assert lines[failed + 1].startswith("      09:00:00  Attempt 1 of 3 failed: ")
    assert lines[failed + 2].startswith("      09:05:00  Attempt 2 of 3 failed: ")
    assert all("HTTP 500" in line for line in lines[failed : failed + 3])  # the error text
    assert lines[failed + 3].startswith("  09:10:00  Created a manual task for the operators")
    assert lines[0].endswith("— Still running, started 2026-01-05 09:00 UTC")


def test_attempts_of_a_step_still_retrying_stay_where_they_happened(
    db: Database, clock, http_server
) -> None:
    shop(db, clock)
    publish(db, webhook_graph(http_server.url("/warehouse")), clock)
    worker = engine(db, clock)
    http_server.respond(500, {"error": "warehouse down"})
    set_status(db, "orders", 9, "DEL")
    worker.run_until_idle()

    lines = lines_for(db, "orders", "9")

    assert lines[-1].startswith("      09:00:00  Attempt 1 of 3 failed: ")
    assert "warehouse down" in lines[-1]


def test_runs_are_found_by_the_customer_name_in_any_case(db: Database, clock) -> None:
    shop(db, clock)
    publish(db, note_graph(), clock)
    worker = engine(db, clock)
    set_status(db, "orders", 7, "DEL")  # Anna Costa
    set_status(db, "orders", 9, "DEL")  # Jonas Ekström
    worker.run_until_idle()

    def keys(text: str) -> list[str]:
        with db.read() as conn:
            return [run.record_key for run in timeline.find_runs(conn, text=text)]

    assert keys("ekSTRÖM") == ["9"]
    assert keys("anna cost") == ["7"]
    assert keys("anna.costa@example") == ["7"]  # the email is a display field too
    assert keys("%") == []  # typed literally, not a wildcard
    assert keys("Nobody Atall") == []


def test_runs_are_filtered_by_state_graph_record_and_time(db: Database, clock) -> None:
    shop(db, clock)
    publish(db, note_graph(), clock)
    worker = engine(db, clock)
    set_status(db, "orders", 7, "DEL")
    worker.run_until_idle()
    clock.advance(timedelta(hours=1))
    set_status(db, "orders", 9, "DEL")
    worker.run_until_idle()
    ten = clock.now()

    def keys(**filters: Any) -> list[str]:
        with db.read() as conn:
            return [r.record_key for r in timeline.find_runs(conn, **filters)]

    assert keys() == ["9", "7"]  # newest first
    assert keys(since=ten) == ["9"]
    assert keys(until=ten) == ["7"]
    assert keys(state="succeeded", graph="Delivered → note") == ["9", "7"]
    assert keys(state="failed") == []
    assert keys(source="orders", record_key="7") == ["7"]
    assert keys(limit=1) == ["9"]
    with pytest.raises(StatusFlowError, match=r"not a run state\. Use one of: active"):
        keys(state="done")
    with pytest.raises(StatusFlowError, match="no graph named 'Nope'"):
        keys(graph="Nope")
    with pytest.raises(StatusFlowError, match="no record source named 'invoices'"):
        keys(source="invoices")


def test_a_record_without_runs_has_an_empty_timeline(db: Database, clock) -> None:
    shop(db, clock)
    with db.read() as conn:
        assert timeline.record_timeline(conn, "orders", "42") == []


@pytest.mark.parametrize(
    ("ref", "expected"), [("orders:42", ("orders", "42")), ("files:a:b", ("files", "a:b"))]
)
def test_a_record_reference_is_source_colon_key(ref: str, expected: tuple[str, str]) -> None:
    assert timeline.parse_record_ref(ref) == expected


@pytest.mark.parametrize("ref", ["orders", "orders:", ":42", " : "])
def test_a_malformed_record_reference_says_how_to_write_it(ref: str) -> None:
    with pytest.raises(StatusFlowError) as error:
        timeline.parse_record_ref(ref)
    assert str(error.value) == (
        f"'{ref}' does not name a record. Write the record as SOURCE:KEY, for example orders:42."
    )
