"""``statusflow runs`` and ``statusflow run start`` as support staff type them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.clock import ManualClock
from engine.settings import set_setting
from engine.storage.database import Database
from engine.time_zone import TIME_ZONE
from tests.app.conftest import Statusflow
from tests.engine.runtime.graphs import NOTE, Builder, note_graph
from tests.engine.runtime.support import engine, mail_settings, publish, set_status, shop

DELIVERED = "Delivered → confirmation email"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def test_runs_show_prints_the_timeline_of_an_order(
    db: Database, clock, smtp_server, statusflow: Statusflow
) -> None:
    shop(db, clock)
    mail_settings(db, smtp_server.profile())
    publish(db, DELIVERED, clock)
    worker = engine(db, clock)
    set_status(db, "orders", 7, "DEL")
    worker.run_until_idle()
    [mail] = smtp_server.wait_for(1)

    code, out, err = statusflow("runs", "show", "orders:7")

    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"Run of '{DELIVERED}' V1.0 — Succeeded, started 2026-01-05 09:00 UTC"
    assert f"  09:00:00  Emailed {mail.message['To']}: 'Your order 7 has been delivered'." in lines
    assert lines[-1] == "  09:00:00  Succeeded"


def test_runs_show_says_when_nothing_ran_for_a_record(db: Database, clock, statusflow) -> None:
    shop(db, clock)

    assert statusflow("runs", "show", "orders:42") == (
        0,
        "No automation has run for orders 42 yet.\n",
        "",
    )


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("orders42", "'orders42' does not name a record. Write the record as SOURCE:KEY, "),
        ("invoices:1", "There is no record source named 'invoices'. Known sources: "),
    ],
)
def test_runs_show_explains_a_wrong_record_in_one_line(
    db: Database, clock, statusflow, ref: str, message: str
) -> None:
    shop(db, clock)

    code, out, err = statusflow("runs", "show", ref)

    assert (code, out) == (2, "")
    assert err.startswith(f"statusflow: {message}") and err.count("\n") == 1


def test_runs_list_finds_runs_by_customer_name_state_and_day(
    db: Database, clock, statusflow: Statusflow
) -> None:
    shop(db, clock)
    publish(db, note_graph(), clock)
    worker = engine(db, clock)
    set_status(db, "orders", 7, "DEL")  # Anna Costa
    worker.run_until_idle()
    clock.advance(timedelta(days=1))
    set_status(db, "orders", 9, "DEL")  # Jonas Ekström
    worker.run_until_idle()

    assert statusflow("runs", "list", "--search", "EKSTRÖM") == (
        0,
        "STARTED               GRAPH             VERSION  RECORD    STATE\n"
        f"2026-01-06 09:00 UTC  {NOTE}  V1.0     orders:9  Succeeded\n",
        "",
    )
    _, out, _ = statusflow("runs", "list", "--state", "succeeded", "--graph", NOTE)
    assert [line.split("  ")[0] for line in out.splitlines()[1:]] == [
        "2026-01-06 09:00 UTC",
        "2026-01-05 09:00 UTC",
    ]
    assert "orders:7" not in statusflow("runs", "list", "--since", "2026-01-06")[1]
    assert statusflow("runs", "list", "--record", "orders:7", "--state", "failed")[1] == (
        "No runs match.\n"
    )
    out = statusflow("runs", "list", "--limit", "1")[1]
    assert out.splitlines()[1:] == [
        f"2026-01-06 09:00 UTC  {NOTE}  V1.0     orders:9  Succeeded",
        "Showing the newest 1; use --limit to see more.",
    ]


def test_runs_list_reads_and_prints_days_in_the_organisations_zone(
    db: Database, clock, statusflow: Statusflow
) -> None:
    shop(db, clock)  # the clock starts on 5 January 2026 at 09:00 UTC
    set_setting(db, TIME_ZONE, "Asia/Tokyo", actor="ann")  # 18:00 there, still the 5th
    publish(db, note_graph(), clock)
    worker = engine(db, clock)
    clock.advance(timedelta(hours=6))  # 15:00 UTC is 00:00 on the 6th in Tokyo
    set_status(db, "orders", 7, "DEL")
    worker.run_until_idle()

    _, out, _ = statusflow("runs", "list")
    assert out.splitlines()[1].startswith("2026-01-06 00:00 JST")
    assert "orders:7" in statusflow("runs", "list", "--since", "2026-01-06")[1]


def test_runs_list_explains_a_wrong_date(db: Database, clock, statusflow) -> None:
    shop(db, clock)

    assert statusflow("runs", "list", "--since", "05/01/2026") == (
        2,
        "",
        "statusflow: '05/01/2026' is not a date. Write it as YYYY-MM-DD, for example 2026-01-05.\n",
    )


def test_run_start_starts_a_graph_for_one_record_by_hand(db: Database, statusflow) -> None:
    clock = ManualClock(datetime.now(UTC))  # the command starts the run at the real time
    shop(db, clock)
    g = Builder("Ask for a review")
    g.line(g.node("trigger.manual"), g.node("action.add_note", note="Review requested."))
    publish(db, g.document(), clock)

    code, out, err = statusflow(
        "--as", "sam", "run", "start", "Ask for a review", "--record", "orders:7"
    )
    clock.advance(timedelta(seconds=5))
    engine(db, clock).run_until_idle()

    assert (code, err) == (0, "")
    assert out == (
        "Started 'Ask for a review' for orders 7; the engine carries it out when it next runs. "
        "Follow it with 'statusflow runs show orders:7'.\n"
    )
    lines = statusflow("runs", "show", "orders:7")[1].splitlines()
    assert lines[0].startswith("Run of 'Ask for a review' V1.0 — Succeeded, started ")
    assert lines[0].endswith(" UTC by sam")
    assert any(line.endswith("Review requested.") for line in lines)


def test_run_start_of_an_unpublished_graph_says_what_to_do(db: Database, clock, statusflow) -> None:
    shop(db, clock)  # the demo graphs are drafts

    assert statusflow("run", "start", DELIVERED, "--record", "orders:7") == (
        2,
        "",
        f"statusflow: '{DELIVERED}' has no published version yet; publish it before starting it.\n",
    )
