"""File → Record sources: pick a table from lists, choose how changes are seen, check it."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from designer.sources_dialog import COMPARE_ALL, NO_LABELS, SourcesDialog
from engine import demo
from engine.sources import hosts
from engine.sources.registry import get_source, list_sources
from engine.storage.database import Database
from tests.designer.screens import save_screenshot
from tests.host import as_host
from tests.integration.host_mariadb import SF_PASSWORD, WITH_TRIGGERS, mariadb_host

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def dialog(qtbot: QtBot, db: Database, statusflow_home: Path) -> SourcesDialog:
    demo.install(db, actor="ana")
    with as_host(db) as conn:
        conn.execute(
            text(
                "CREATE TABLE tickets (id INTEGER PRIMARY KEY, title TEXT, state TEXT, "
                "touched TIMESTAMP)"
            )
        )
        conn.execute(
            text("CREATE TABLE ticket_tags (ticket_id INTEGER REFERENCES tickets(id), tag TEXT)")
        )
    widget = SourcesDialog(db, "ana")
    qtbot.addWidget(widget)
    widget.show()
    settle(widget)
    return widget


def settle(dialog: SourcesDialog) -> None:
    """Let every list the database fills arrive (each fill may ask for the next)."""
    for _ in range(5):
        assert dialog.worker.wait_for_done(10_000)
        QApplication.processEvents()


def choose(qtbot: QtBot, dialog: SourcesDialog, combo, value: str) -> None:  # type: ignore[no-untyped-def]
    combo.setCurrentText(value)
    settle(dialog)


def pick_poll(qtbot: QtBot, dialog: SourcesDialog) -> None:
    """Click the Poll choice on its round button, where a person clicks."""
    button = dialog.poll_mode
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(8, button.height() // 2))
    assert button.isChecked()


@sqlite_only
def test_the_watched_tables_are_listed_with_how_they_are_captured(dialog: SourcesDialog) -> None:
    rows = [dialog.existing.item(i).text() for i in range(dialog.existing.count())]
    assert rows == [
        "customers — customers (captured by triggers)",
        "orders — orders (captured by triggers)",
    ]
    assert dialog.schema.isHidden()  # SQLite has no schemas to choose from


@sqlite_only
def test_a_table_is_picked_from_lists_and_watched_by_polling(
    qtbot: QtBot, dialog: SourcesDialog, db: Database
) -> None:
    tables = [dialog.table.itemText(i) for i in range(dialog.table.count())]
    assert "tickets" in tables and not any(t.startswith("sf_") for t in tables)
    choose(qtbot, dialog, dialog.table, "tickets")
    assert dialog.name.text() == "tickets"
    assert (dialog.key.currentText(), dialog.status.currentText()) == ("id", "state")
    assert [dialog.labels.itemText(i) for i in range(dialog.labels.count())] == [
        NO_LABELS,
        "ticket_tags",
    ]
    choose(qtbot, dialog, dialog.labels, "ticket_tags")
    assert dialog.label_column.currentText() == "tag"
    assert not dialog.changed.isEnabled()  # a poll setting, while trigger is chosen
    pick_poll(qtbot, dialog)
    assert dialog.changed.isEnabled() and not dialog.install_later.isEnabled()
    assert dialog.changed.currentText() == "touched"  # the one date-time column
    dialog.interval.setValue(2)
    save_screenshot(dialog, "sources_dialog_poll")
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    settle(dialog)

    source = get_source(db, "tickets")
    assert (source.capture, source.changed_column, source.poll_seconds) == ("poll", "touched", 2)
    assert (source.label_table, source.label_column) == ("ticket_tags", "tag")
    assert "tickets is ready." in dialog.result.toPlainText()
    assert "polled every 2 s, by touched; nothing of StatusFlow's" in dialog.result.toPlainText()
    assert dialog.existing.count() == 3
    assert dialog.selected() == "tickets"


@sqlite_only
def test_comparing_every_row_needs_no_changed_column(qtbot: QtBot, dialog: SourcesDialog) -> None:
    choose(qtbot, dialog, dialog.table, "tickets")
    pick_poll(qtbot, dialog)
    dialog.changed.setCurrentText(COMPARE_ALL)
    capture = dialog.capture()
    assert (capture.mode, capture.changed_column) == ("poll", None)


@sqlite_only
def test_a_refusal_is_shown_in_the_services_words(
    qtbot: QtBot, dialog: SourcesDialog, db: Database
) -> None:
    choose(qtbot, dialog, dialog.table, "orders")  # registered already
    dialog.name.setText("orders_again")
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    settle(dialog)
    assert "already registered as the record source 'orders'" in dialog.result.toPlainText()
    assert "Traceback" not in dialog.result.toPlainText()
    assert [s.name for s in list_sources(db)] == ["customers", "orders"]


@sqlite_only
def test_check_shows_each_item_and_a_missing_trigger_with_its_sql(
    qtbot: QtBot, dialog: SourcesDialog, db: Database
) -> None:
    with as_host(db) as conn:
        conn.execute(text("DROP TRIGGER sf_orders_status"))  # someone removed it by hand
    dialog.existing.setCurrentRow(1)
    qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
    settle(dialog)
    shown = dialog.result.toPlainText()
    assert "orders is not ready" in shown
    assert "The capture trigger(s) sf_orders_status are missing" in shown
    assert "CREATE TRIGGER sf_orders_status AFTER UPDATE OF status ON orders" in shown
    save_screenshot(dialog, "sources_dialog_check")


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_on_postgresql_the_schema_is_chosen_first(qtbot: QtBot, db: Database) -> None:
    with as_host(db) as conn:
        conn.execute(text("CREATE SCHEMA crm"))
        conn.execute(text("CREATE TABLE crm.cases (id INTEGER PRIMARY KEY, stage TEXT)"))
        conn.execute(text("CREATE TABLE public.unrelated (id INTEGER PRIMARY KEY, x TEXT)"))
    dialog = SourcesDialog(db, "ana")
    qtbot.addWidget(dialog)
    dialog.show()
    settle(dialog)
    schemas = [dialog.schema.itemText(i) for i in range(dialog.schema.count())]
    assert schemas == ["crm", "public"]  # never StatusFlow's own
    assert dialog.schema.currentText() == "public"
    choose(qtbot, dialog, dialog.schema, "crm")
    assert [dialog.table.itemText(i) for i in range(dialog.table.count())] == ["crm.cases"]
    assert (dialog.name.text(), dialog.status.currentText()) == ("cases", "stage")
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    settle(dialog)
    assert get_source(db, "cases").table == "crm.cases"
    shown = dialog.result.toPlainText()
    assert "cases is ready." in shown and "may use the schema crm" in shown
    save_screenshot(dialog, "sources_dialog_postgresql")


@pytest.mark.mariadb
@sqlite_only
def test_a_mariadb_table_is_watched_after_connecting_with_a_password(
    qtbot: QtBot, dialog: SourcesDialog, db: Database, memory_keyring
) -> None:
    for shop in mariadb_host(WITH_TRIGGERS):
        dialog.host.setCurrentText(shop.url())
        dialog.password.setText("not the password")
        qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
        settle(dialog)
        shown = dialog.result.toPlainText()
        assert "Access denied" in shown and f"statusflow secret set {shop.secret_name()}" in shown
        assert dialog.password.text() == ""  # never left in the form

        dialog.password.setText(SF_PASSWORD)
        qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)
        settle(dialog)
        assert "2 tables to choose from" in dialog.result.toPlainText()
        tables = [dialog.table.itemText(i) for i in range(dialog.table.count())]
        assert tables == ["order_labels", "orders"]  # what its login may see
        assert dialog.schema.isHidden()  # the URL names the database
        choose(qtbot, dialog, dialog.table, "orders")
        choose(qtbot, dialog, dialog.labels, "order_labels")
        dialog.name.setText("shop_orders")  # the demo watches its own orders already
        save_screenshot(dialog, "sources_dialog_mariadb")
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
        settle(dialog)

        source = get_source(db, "shop_orders")
        assert source.host_url == shop.url().replace("mysql://", "mysql+pymysql://")
        assert source.label_table == "order_labels"
        assert f"{source.name} is ready." in dialog.result.toPlainText()
        rows = [dialog.existing.item(i).text() for i in range(dialog.existing.count())]
        assert f"{source.name} — orders in {shop.url()} (captured by triggers)" in rows
        assert len(shop.catalog(f"SHOW TRIGGERS FROM {shop.name}")) == 4
        hosts.hosts.dispose()
