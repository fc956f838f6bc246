"""The built-in outbox: the engine's real SMTP email lands there, and real servers stay."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from engine.clock import ManualClock
from engine.outbox import LoopbackOutbox, ensure_demo_profile
from engine.settings import save_smtp_profile, smtp_profile
from engine.storage.database import Database
from tests.engine.runtime.support import AUTHOR, engine, publish, set_status, shop
from tests.host import as_host

DELIVERED = "Delivered → confirmation email"


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[LoopbackOutbox]:
    box = LoopbackOutbox(tmp_path / "outbox.jsonl")
    box.start()
    yield box
    box.stop()


def _order_email(db: Database) -> str:
    with as_host(db) as conn:
        return str(conn.exec_driver_sql("SELECT email FROM orders WHERE id = 7").scalar_one())


def test_delivered_order_email_arrives_in_the_outbox(db: Database, outbox, tmp_path) -> None:
    clock = ManualClock()
    shop(db, clock)
    assert ensure_demo_profile(db, outbox, AUTHOR)
    publish(db, DELIVERED, clock)
    worker = engine(db, clock)

    set_status(db, "orders", 7, "DEL")
    worker.run_until_idle()

    [mail] = outbox.messages()
    assert mail.to == (_order_email(db),)
    assert mail.subject == "Your order 7 has been delivered"
    assert "order 7" in mail.text and "Dear " in mail.text
    assert mail.html is not None and "<b>7</b>" in mail.html
    assert mail.message_id.startswith("<sf-")
    assert "Demo Shop" in mail.mail_from
    # The file keeps it: the next start of the program still shows it.
    assert LoopbackOutbox(tmp_path / "outbox.jsonl").messages() == [mail]


def test_a_real_email_server_is_never_replaced(db: Database, outbox, smtp_server) -> None:
    save_smtp_profile(db, smtp_server.profile(), AUTHOR)

    assert not ensure_demo_profile(db, outbox, AUTHOR)

    with db.read() as conn:
        assert smtp_profile(conn).port == smtp_server.port


def test_the_demo_profile_follows_the_outbox_to_its_new_port(db: Database, tmp_path) -> None:
    first = LoopbackOutbox(tmp_path / "outbox.jsonl")
    first.start()
    ensure_demo_profile(db, first, AUTHOR)
    first.stop()
    second = LoopbackOutbox(tmp_path / "outbox.jsonl")
    _, port = second.start()
    try:
        assert ensure_demo_profile(db, second, AUTHOR)
        assert not ensure_demo_profile(db, second, AUTHOR)  # already right: no new audit
        with db.read() as conn:
            assert smtp_profile(conn).port == port
    finally:
        second.stop()


def test_a_line_cut_short_by_a_crash_does_not_hide_the_others(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    box = LoopbackOutbox(path)
    box.start()
    try:
        _send(box, "First")
    finally:
        box.stop()
    with path.open("a", encoding="utf-8") as file:
        file.write('{"received_at": "2024-')

    assert [m.subject for m in LoopbackOutbox(path).messages()] == ["First"]


def _send(box: LoopbackOutbox, subject: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.com", "b@example.com", subject
    message.set_content("Hello")
    host, port = box.address
    with smtplib.SMTP(host, port, timeout=5) as smtp:
        smtp.send_message(message)
