"""Signing in to a shared database, with and without a password remembered on this computer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from designer.sign_in import FORGOTTEN, SignInDialog, secret_name, sign_in
from engine.governance import users
from engine.secrets import SecretStore
from engine.storage.database import Database
from tests.designer.screens import save_screenshot
from tests.memory_keyring import MemoryKeyring
from tests.password_cost import fast_password_hashing

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

PASSWORD = "correct horse"
Act = Callable[[SignInDialog], None]


@pytest.fixture(autouse=True)
def fast_hashing() -> Iterator[None]:
    """TEST ONLY: cheap hashes, so a silent sign-in ends before a dialog timer fires."""
    with fast_password_hashing():
        yield


@pytest.fixture
def maria(db: Database) -> str:
    users.add_user(
        db, "maria", display_name="Maria", password=PASSWORD, roles=["admin"], actor="maria"
    )
    return "maria"


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    """The designer's settings, in a file of this test's own."""
    return QSettings(str(tmp_path / "designer.ini"), QSettings.Format.IniFormat)


def dialog_for(qtbot: QtBot, db: Database) -> SignInDialog:
    dialog = SignInDialog(db, SecretStore())
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def type_and_sign_in(qtbot: QtBot, dialog: SignInDialog, username: str, password: str) -> None:
    qtbot.keyClicks(dialog.username, username)
    qtbot.keyClicks(dialog.password, password)
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)


def shown_dialog() -> SignInDialog:
    return next(
        w for w in QApplication.topLevelWidgets() if isinstance(w, SignInDialog) and w.isVisible()
    )


@pytest.fixture
def person() -> Iterator[Callable[[Act], list[SignInDialog]]]:
    """Acts at the next sign-in dialog shown; returns the list of dialogs it acted on.

    The timers stop when the test ends, so a dialog that never showed up cannot be
    answered in a later test.
    """
    timers: list[QTimer] = []

    def at_dialog(act: Act) -> list[SignInDialog]:
        seen: list[SignInDialog] = []
        timer = QTimer(singleShot=True, interval=200)
        timer.timeout.connect(lambda: (seen.append(shown_dialog()), act(seen[-1])))
        timer.start()
        timers.append(timer)
        return seen

    yield at_dialog
    for timer in timers:
        timer.stop()


def cancel(dialog: SignInDialog) -> None:
    dialog.reject()


def test_wrong_password_says_so_under_the_fields(
    qtbot: QtBot, db: Database, maria: str, memory_keyring: MemoryKeyring
) -> None:
    dialog = dialog_for(qtbot, db)

    type_and_sign_in(qtbot, dialog, maria, "not the password")
    qtbot.waitUntil(lambda: dialog.error.isVisible())

    assert dialog.error.text() == "Wrong user name or password."
    assert dialog.signed_in_user() is None
    assert dialog.isVisible() and dialog.sign_in_button.isEnabled()
    save_screenshot(dialog, "sign_in")


def test_empty_fields_are_asked_for(
    qtbot: QtBot, db: Database, memory_keyring: MemoryKeyring
) -> None:
    dialog = dialog_for(qtbot, db)
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    assert dialog.error.text() == "Type your user name and your password."


def test_right_password_signs_in_and_is_remembered_when_asked(
    qtbot: QtBot, db: Database, maria: str, memory_keyring: MemoryKeyring
) -> None:
    dialog = dialog_for(qtbot, db)
    qtbot.mouseClick(dialog.remember, Qt.MouseButton.LeftButton)

    with qtbot.waitSignal(dialog.accepted):
        type_and_sign_in(qtbot, dialog, "Maria", PASSWORD)

    assert dialog.signed_in_user() == "maria"
    assert SecretStore().get("signin/maria@localhost") == PASSWORD


def test_remembered_password_signs_in_without_asking(
    qtbot: QtBot,
    db: Database,
    maria: str,
    memory_keyring: MemoryKeyring,
    settings: QSettings,
    person,
) -> None:
    SecretStore().set(secret_name(db, maria), PASSWORD)
    settings.setValue("sign_in/last_user/localhost", maria)
    seen = person(cancel)  # would cancel a dialog, were one shown

    assert sign_in(db, None, SecretStore(), settings=settings) == "maria"
    assert seen == []


def test_first_sign_in_asks_then_the_next_start_is_silent(
    qtbot: QtBot,
    db: Database,
    maria: str,
    memory_keyring: MemoryKeyring,
    settings: QSettings,
    person,
) -> None:

    def remember_and_type(dialog: SignInDialog) -> None:
        dialog.username.setText(maria)
        dialog.remember.setChecked(True)
        dialog.password.setText(PASSWORD)
        dialog.attempt()

    first = person(remember_and_type)
    assert sign_in(db, None, SecretStore(), settings=settings) == "maria"
    assert len(first) == 1

    second = person(cancel)
    assert sign_in(db, None, SecretStore(), settings=settings) == "maria"
    assert second == []  # no dialog the second time


def test_a_changed_password_asks_again_with_the_name_filled_in(
    qtbot: QtBot,
    db: Database,
    maria: str,
    memory_keyring: MemoryKeyring,
    settings: QSettings,
    person,
) -> None:
    SecretStore().set(secret_name(db, maria), "an old password")
    settings.setValue("sign_in/last_user/localhost", maria)
    seen = person(cancel)

    assert sign_in(db, None, SecretStore(), settings=settings) is None
    assert (seen[0].username.text(), seen[0].error.text()) == (maria, FORGOTTEN)
