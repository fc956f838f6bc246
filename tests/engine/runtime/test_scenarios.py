"""The seed scenarios, end to end: status change in SQL → engine → real SMTP / HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from engine.clock import ManualClock
from engine.secrets import SecretStore
from engine.storage.database import Database
from tests.engine.runtime.support import (
    engine,
    mail_settings,
    open_tasks,
    publish,
    run_states,
    set_status,
    shop,
    timeline,
)
from tests.host import as_host

DELIVERED = "Delivered → confirmation email"
LADDER = "Salesperson not assigned → escalation ladder"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def test_delivered_order_sends_one_confirmation_email(db: Database, clock, smtp_server) -> None:
    shop(db, clock)
    mail_settings(db, smtp_server.profile())
    publish(db, DELIVERED, clock)
    worker = engine(db, clock)

    set_status(db, "orders", 7, "DEL")
    worker.run_until_idle()
    worker.run_until_idle()  # nothing more to do: no second email

    [mail] = smtp_server.wait_for(1)
    assert list(mail.recipients) == [mail.message["To"]]
    assert mail.message["Subject"] == "Your order 7 has been delivered"
    body = mail.message.get_body(("plain",)).get_content()
    assert "Dear " in body and "order 7" in body
    assert mail.message["Message-ID"].startswith("<")
    assert run_states(db) == [("7", "succeeded")]
    steps = timeline(db, "7")
    assert steps[0].startswith("Status changed from") and "to DEL" in steps[0]
    assert any(s.startswith("Emailed ") and "Your order 7 has been delivered" in s for s in steps)
    assert steps[-1] == "Succeeded"
    assert len(smtp_server.messages) == 1


def test_escalation_ladder_emails_twice_then_texts(
    db: Database, clock, smtp_server, http_server, memory_keyring
) -> None:
    shop(db, clock)
    SecretStore().set("sms/default", "gateway-token")
    mail_settings(db, smtp_server.profile(), sms_url=http_server.url("/sms"))
    publish(db, LADDER, clock)
    worker = engine(db, clock)

    set_status(db, "orders", 3, "SNA")
    worker.run_until_idle()
    assert smtp_server.messages == []
    clock.advance(timedelta(minutes=5))
    worker.run_until_idle()
    assert len(smtp_server.wait_for(1)) == 1
    clock.advance(timedelta(minutes=115))
    worker.run_until_idle()
    assert len(smtp_server.wait_for(2)) == 2
    clock.advance(timedelta(hours=4))
    worker.run_until_idle()

    [sms] = http_server.requests
    assert sms.json["to"] == "+15550100" and "Order 3" in sms.json["message"]
    assert sms.headers["Authorization"] == "Bearer gateway-token"
    assert sms.headers["Idempotency-Key"]
    assert run_states(db) == [("3", "succeeded")]


def test_escalation_stops_when_the_status_moves_on(
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
    clock.advance(timedelta(minutes=55))  # +1 h: a salesperson is assigned
    set_status(db, "orders", 3, "ASN")
    worker.run_until_idle()
    clock.advance(timedelta(hours=6))
    worker.run_until_idle()

    assert len(smtp_server.messages) == 1
    assert http_server.requests == []
    assert run_states(db) == [("3", "cancelled")]
    assert (
        "Status changed from SNA to ASN, so the remaining steps were not executed"
        in (timeline(db, "3")[-1])
    )


def test_welcome_journey(db: Database, clock, smtp_server) -> None:
    shop(db, clock)
    mail_settings(db, smtp_server.profile())
    publish(db, "New customer → welcome journey", clock)
    worker = engine(db, clock)

    with as_host(db) as conn:
        conn.execute(
            text(
                "INSERT INTO customers (id, name, email, phone, responsible, status, created_at)"
                " VALUES (99, 'Zoë Quint', 'zoe@example.com', '+15550199', 'maria', 'NEW',"
                " :now)"
            ),
            {"now": clock.now().replace(tzinfo=None)},
        )
    worker.run_until_idle()

    [mail] = smtp_server.wait_for(1)
    assert mail.message["To"] == "zoe@example.com"
    assert mail.message["Subject"] == "Welcome to the StatusFlow Demo Shop, Zoë Quint"
    [task] = open_tasks(db)
    assert task.title == "Welcome call to Zoë Quint"
    assert task.progress == "not_started" and task.assignee_role == "operator"
    assert timeline(db, "99")[-2] == (
        "Welcome email sent to zoe@example.com; follow-up call task created."
    )
    assert run_states(db) == [("99", "succeeded")]
