"""The Records and Outbox panels of the embedded demo, used the way a new user would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from designer.outbox_panel import OutboxPanel
from designer.records_panel import RecordsPanel
from engine import demo
from engine.clock import ManualClock
from engine.governance import audit_log, users
from engine.outbox import LoopbackOutbox, ensure_demo_profile
from engine.storage.database import Database
from engine.storage.tables import status_events
from tests.designer.screens import save_screenshot
from tests.engine.runtime.support import AUTHOR, engine, publish

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def shop(db: Database) -> Database:
    demo.install(db, actor=AUTHOR)
    return db


def _open(qtbot: QtBot, db: Database, actor: str) -> RecordsPanel:
    widget = RecordsPanel(db, actor)
    qtbot.addWidget(widget)
    widget.resize(900, 640)
    widget.show()
    qtbot.waitUntil(lambda: widget.source.count() == 2)
    widget.source.setCurrentText("orders")
    qtbot.waitUntil(lambda: widget.table.rowCount() == demo.ORDER_COUNT)
    return widget


@pytest.fixture
def panel(qtbot: QtBot, shop: Database) -> RecordsPanel:
    return _open(qtbot, shop, AUTHOR)


@pytest.fixture
def team(shop: Database) -> Database:
    """The shop on a database with accounts: ann is an admin, dee a designer."""
    users.add_user(shop, "ann", display_name="Ann", roles=["admin"], actor="ann")
    users.add_user(shop, "dee", display_name="Dee", roles=["designer"], actor="ann")
    return shop


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[LoopbackOutbox]:
    box = LoopbackOutbox(tmp_path / "outbox.jsonl")
    box.start()
    yield box
    box.stop()


def _click_record(qtbot: QtBot, panel: RecordsPanel, key: str) -> None:
    row = next(r for r in range(panel.table.rowCount()) if panel.table.item(r, 0).text() == key)
    panel.table.scrollToItem(panel.table.item(row, 0))
    rect = panel.table.visualItemRect(panel.table.item(row, 1))
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def _cell(panel: RecordsPanel, key: str, header: str) -> str:
    headers = [panel.table.horizontalHeaderItem(c).text() for c in range(panel.table.columnCount())]
    row = next(r for r in range(panel.table.rowCount()) if panel.table.item(r, 0).text() == key)
    return panel.table.item(row, headers.index(header)).text()


def _choose_status(panel: RecordsPanel, text: str) -> None:
    panel.status_choice.setCurrentIndex(panel.status_choice.findText(text))


def _events(db: Database, key: str) -> list[tuple[str, str | None, str | None]]:
    query = select(
        status_events.c.kind, status_events.c.new_value, status_events.c.caused_by_run_id
    ).where(status_events.c.record_key == key)
    with db.read() as conn:
        return [tuple(row) for row in conn.execute(query)]


def test_changing_order_7_to_delivered_writes_one_host_status_event(
    qtbot: QtBot, panel: RecordsPanel, shop: Database
) -> None:
    with qtbot.waitSignal(panel.record_chosen) as chosen:
        _click_record(qtbot, panel, "7")
    assert chosen.args == ["orders", "7"]
    assert panel.status_choice.findText("DEL – Delivered") >= 0

    _choose_status(panel, "DEL – Delivered")
    qtbot.mouseClick(panel.apply_status, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _cell(panel, "7", "Status") == "DEL – Delivered")

    assert _events(shop, "7") == [("status", "DEL", None)]
    assert panel.outcome.text() == "Status changed: the engine will react in a moment."
    assert panel.selected_key() == "7"  # the list was read again, the record stays chosen


def test_applying_a_label_shows_it_and_records_a_label_event(
    qtbot: QtBot, panel: RecordsPanel, shop: Database
) -> None:
    _click_record(qtbot, panel, "3")
    panel.label_choice.setEditText("Rush")
    qtbot.mouseClick(panel.apply_label_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Rush" in _cell(panel, "3", "Labels"))

    assert _events(shop, "3") == [("label", "Rush", None)]
    assert panel.outcome.text() == "Label applied: the engine will react in a moment."


def test_search_finds_records_by_status_description(qtbot: QtBot, panel: RecordsPanel) -> None:
    qtbot.keyClicks(panel.search, "not assigned")
    qtbot.waitUntil(lambda: panel.table.rowCount() < demo.ORDER_COUNT)

    shown = {
        _cell(panel, panel.table.item(r, 0).text(), "Status") for r in range(panel.table.rowCount())
    }
    assert shown == {"SNA – Salesperson not assigned"}


def test_customers_have_no_labels_to_apply(qtbot: QtBot, panel: RecordsPanel) -> None:
    panel.source.setCurrentText("customers")
    qtbot.waitUntil(lambda: panel.table.rowCount() == 10)
    _click_record(qtbot, panel, "2")

    assert panel.apply_status.isEnabled()
    assert not panel.apply_label_button.isEnabled()
    assert panel.apply_label_button.toolTip() == "This record source has no labels."


def test_the_delivered_email_arrives_in_the_outbox_panel(
    qtbot: QtBot, panel: RecordsPanel, shop: Database, outbox: LoopbackOutbox
) -> None:
    clock = ManualClock()
    ensure_demo_profile(shop, outbox, AUTHOR)
    publish(shop, "Delivered → confirmation email", clock)
    worker = engine(shop, clock)
    inbox = OutboxPanel(outbox)
    qtbot.addWidget(inbox)
    inbox.resize(760, 560)
    inbox.show()

    _click_record(qtbot, panel, "7")
    _choose_status(panel, "DEL – Delivered")
    qtbot.mouseClick(panel.apply_status, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _cell(panel, "7", "Status") == "DEL – Delivered")
    save_screenshot(panel, "records")
    worker.run_until_idle()
    qtbot.waitUntil(lambda: inbox.table.rowCount() == 1, timeout=4000)

    assert inbox.subject_label.text() == "Your order 7 has been delivered"
    assert _cell(panel, "7", "Email") == inbox.to_label.text()
    assert "order 7" in inbox.plain.toPlainText()
    assert "Thank you for your purchase!" in inbox.formatted.toPlainText()
    save_screenshot(inbox, "outbox")


def test_someone_who_may_not_change_records_browses_them_read_only(
    qtbot: QtBot, team: Database
) -> None:
    panel = _open(qtbot, team, "dee")

    assert panel.read_only.isVisible()
    assert panel.read_only.text() == (
        "Only an administrator may change records here; your automations still react to "
        "changes made in your own system."
    )
    assert not panel.apply_status.isVisible() and not panel.apply_status.isEnabled()
    assert not panel.apply_label_button.isVisible()
    with qtbot.waitSignal(panel.record_chosen) as chosen:
        _click_record(qtbot, panel, "7")
    assert chosen.args == ["orders", "7"]  # the timeline still opens
    assert not panel.apply_status.isEnabled()


def test_an_admin_changes_a_record_and_the_audit_says_who(qtbot: QtBot, team: Database) -> None:
    panel = _open(qtbot, team, "ann")
    assert not panel.read_only.isVisible()

    _click_record(qtbot, panel, "7")
    _choose_status(panel, "DEL – Delivered")
    qtbot.mouseClick(panel.apply_status, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _cell(panel, "7", "Status") == "DEL – Delivered")

    with team.read() as conn:
        [entry] = audit_log.query(conn, action="record.status")
    assert (entry.actor, entry.object_id, entry.after) == ("ann", "orders 7", {"status": "DEL"})
