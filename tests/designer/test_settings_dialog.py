"""The settings dialog: test and save an email server, the database choice, the keyring."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.config import choose_database, config_file
from designer.problems import ERROR_COLOUR, OK_COLOUR
from designer.settings_dialog import SettingsDialog, _Result
from engine.governance import users
from engine.secrets import NO_BACKEND, SecretStore
from engine.settings import organisation_zone, smtp_profile
from engine.storage.database import Database
from tests.designer.screens import save_screenshot

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def dialog(qtbot: QtBot, db: Database, statusflow_home: Path) -> SettingsDialog:
    widget = SettingsDialog(db, "ana")
    qtbot.addWidget(widget)
    widget.show()
    widget.worker.wait_for_done(5000)
    return widget


def _colour(result: _Result) -> tuple[int, int, int] | None:
    """The colour the sentence is painted in."""
    colours = (OK_COLOUR, ERROR_COLOUR)
    return next((c for c in colours if "rgb({}, {}, {})".format(*c) in result.styleSheet()), None)


def _fill_email(qtbot: QtBot, dialog: SettingsDialog, port: int) -> None:
    dialog.tabs.setCurrentIndex(1)
    qtbot.keyClicks(dialog.smtp_host, "127.0.0.1")
    dialog.smtp_security.setCurrentIndex(dialog.smtp_security.findData("none"))
    dialog.smtp_port.setValue(port)
    qtbot.keyClicks(dialog.smtp_from, "ops@example.com")


def _press(qtbot: QtBot, dialog: SettingsDialog, button) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert dialog.worker.wait_for_done(15000)


def test_a_server_that_is_down_is_reported_in_red(qtbot: QtBot, dialog: SettingsDialog) -> None:
    _fill_email(qtbot, dialog, port=1)
    _press(qtbot, dialog, dialog.test_smtp)

    assert _colour(dialog.email_result) == ERROR_COLOUR
    assert "127.0.0.1:1" in dialog.email_result.text()
    assert "Traceback" not in dialog.email_result.text()


def test_a_working_server_is_reported_in_green_then_saved(
    qtbot: QtBot, dialog: SettingsDialog, db: Database, smtp_server
) -> None:
    _fill_email(qtbot, dialog, port=smtp_server.port)
    _press(qtbot, dialog, dialog.test_smtp)

    assert _colour(dialog.email_result) == OK_COLOUR
    assert dialog.email_result.text().startswith("Connected to the email server 127.0.0.1:")
    assert smtp_server.messages == []  # a test sends nothing
    QApplication.processEvents()  # let the sentence's height settle before the picture
    save_screenshot(dialog, "settings")

    _press(qtbot, dialog, dialog.save_smtp)
    with db.read() as conn:
        assert smtp_profile(conn).port == smtp_server.port


def test_a_typed_password_goes_to_the_keyring_not_the_database(
    qtbot: QtBot, dialog: SettingsDialog, db: Database, memory_keyring
) -> None:
    _fill_email(qtbot, dialog, port=587)
    qtbot.keyClicks(dialog.smtp_username, "ops")
    qtbot.keyClicks(dialog.smtp_password, "s3cret-pass")
    _press(qtbot, dialog, dialog.save_smtp)

    assert _colour(dialog.email_result) == OK_COLOUR
    assert SecretStore().get("smtp/default") == "s3cret-pass"
    with db.read() as conn:
        assert "s3cret-pass" not in str(conn.exec_driver_sql("SELECT value FROM sf_settings").all())


def test_saving_without_the_admin_role_shows_the_refusal(
    qtbot: QtBot, db: Database, statusflow_home: Path, smtp_server
) -> None:
    users.add_user(db, "root", display_name="Admin", roles=["admin"], actor="root")
    users.add_user(db, "olga", display_name="Olga", roles=["operator"], actor="root")
    dialog = SettingsDialog(db, "olga")
    qtbot.addWidget(dialog)
    _fill_email(qtbot, dialog, port=smtp_server.port)
    _press(qtbot, dialog, dialog.save_smtp)

    assert _colour(dialog.email_result) == ERROR_COLOUR
    assert "changing settings needs the admin role" in dialog.email_result.text()


def test_no_keyring_backend_says_what_to_install(
    qtbot: QtBot, db: Database, statusflow_home: Path, no_keyring: None
) -> None:
    dialog = SettingsDialog(db, "ana")
    qtbot.addWidget(dialog)
    dialog.worker.wait_for_done(5000)
    dialog.tabs.setCurrentIndex(3)

    assert dialog.keyring_state.text() == NO_BACKEND
    assert "pip install keyrings.alt" in dialog.keyring_state.text()
    assert not dialog.store_secret.isEnabled()


def test_the_database_for_next_start_is_saved_without_a_password(
    qtbot: QtBot, dialog: SettingsDialog
) -> None:
    assert "built-in database" in dialog.url_origin.text()
    qtbot.keyClicks(dialog.next_url, "postgresql://ops:hunter2@db.example.com/statusflow")
    qtbot.mouseClick(dialog.save_url, Qt.MouseButton.LeftButton)
    assert _colour(dialog.database_result) == ERROR_COLOUR
    assert "never hold passwords" in dialog.database_result.text()
    assert not config_file().exists()

    dialog.next_url.clear()
    qtbot.keyClicks(dialog.next_url, "postgresql://ops@db.example.com/statusflow")
    qtbot.mouseClick(dialog.save_url, Qt.MouseButton.LeftButton)
    assert _colour(dialog.database_result) == OK_COLOUR
    assert choose_database().url == "postgresql://ops@db.example.com/statusflow"


def test_the_time_zone_is_chosen_from_place_names_and_saved(
    qtbot: QtBot, dialog: SettingsDialog, db: Database
) -> None:
    dialog.tabs.setCurrentIndex(dialog.tabs.count() - 1)
    assert dialog.zone.currentText() == "UTC"  # nothing set yet
    dialog.zone.setCurrentText("Europe/Stockholm")
    _press(qtbot, dialog, dialog.save_zone)

    assert _colour(dialog.zone_result) == OK_COLOUR
    assert dialog.zone_result.text().startswith("Saved. It is now ")
    assert dialog.zone_result.text().split(" there")[0].endswith(("CET", "CEST"))
    with db.read() as conn:
        assert organisation_zone(conn) == ZoneInfo("Europe/Stockholm")
    QApplication.processEvents()  # let the sentence's height settle before the picture
    save_screenshot(dialog, "settings_time_zone")


def test_an_unknown_time_zone_is_refused_in_red_and_nothing_changes(
    qtbot: QtBot, dialog: SettingsDialog, db: Database
) -> None:
    dialog.zone.setCurrentText("Stockholm")
    _press(qtbot, dialog, dialog.save_zone)

    assert _colour(dialog.zone_result) == ERROR_COLOUR
    assert "'Stockholm' is not a time zone" in dialog.zone_result.text()
    with db.read() as conn:
        assert organisation_zone(conn) == ZoneInfo("UTC")
