"""Signing in to a shared database: user name, password, and "remember my password".

On a team's database every change is audited under a person's name, so the designer
asks who you are. Checking a password is slow on purpose (scrypt) and may wait on
the network, so the check runs on a :class:`Worker` thread while the dialog shows it
is busy.
A remembered password lives in the OS keyring (never in a file), under the user and
the database host, and the last user name in the application settings, so the next
start signs in without asking.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from designer.worker import Worker
from engine.errors import DatabaseError, SecretStoreError, StatusFlowError
from engine.secrets import SecretStore
from engine.services import session
from engine.services.database import Database, describe

log = logging.getLogger(__name__)

CHECK_FAILED = (
    "StatusFlow could not check your password because of an internal error. "
    "Try again; if it keeps happening, tell your IT team so they can look at the log."
)
NO_KEYRING = "This computer has no safe place to keep passwords, so StatusFlow cannot remember it."
FORGOTTEN = "The password remembered on this computer did not work; type it again."
LAST_USER_KEY = "sign_in/last_user"


def host_of(db: Database) -> str:
    """The database host ("localhost" for a database file on this computer)."""
    return db.url.host or "localhost"


def database_words(db: Database) -> str:
    """Which database, as a person names it: "statusflow on db.example.com"."""
    if db.url.host:
        return f"the database '{db.url.database}' on {db.url.host}"
    return f"the database file '{Path(db.url.database or '').name}' on this computer"


def secret_name(db: Database, username: str) -> str:
    """The keyring entry of a remembered password: ``signin/<user>@<host>``."""
    return f"signin/{username.strip().lower()}@{host_of(db)}"


class SignInDialog(QDialog):
    """Asks for user name and password; ``signed_in_user()`` once accepted."""

    def __init__(
        self,
        db: Database,
        secrets: SecretStore,
        parent: QWidget | None = None,
        *,
        username: str = "",
        message: str = "",
    ) -> None:
        super().__init__(parent, windowTitle="Sign in to StatusFlow")
        self.db, self.secrets = db, secrets
        self._user: str | None = None
        self.worker = Worker(self)
        self.worker.busy_changed.connect(self._set_busy)
        self.username = QLineEdit(username, placeholderText="for example maria")
        self.username.setAccessibleName("User name")
        self.password = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        self.remember = QCheckBox("Remember my password on this computer")
        if not secrets.available():
            self.remember.setEnabled(False)
            self.remember.setToolTip(NO_KEYRING)
        self.error = QLabel(message, wordWrap=True, styleSheet="color: #c62828;")
        self.error.setVisible(bool(message))
        self.busy = QProgressBar(minimum=0, maximum=0, textVisible=False, visible=False)
        self.busy.setFixedHeight(6)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.sign_in_button = self.buttons.addButton(
            "Sign in", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self._lay_out()
        self.buttons.accepted.connect(self.attempt)
        self.buttons.rejected.connect(self.reject)
        (self.password if username else self.username).setFocus()

    def _lay_out(self) -> None:
        heading = QLabel("<b>Sign in to StatusFlow</b>", styleSheet="font-size: 13pt;")
        where = QLabel(f"You are opening {database_words(self.db)}.", wordWrap=True)
        where.setToolTip(describe(self.db.url))
        where.setStyleSheet("color: #555;")
        fields = QFormLayout()
        fields.addRow("User name:", self.username)
        fields.addRow("Password:", self.password)
        fields.addRow("", self.remember)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(where)
        layout.addLayout(fields)
        layout.addWidget(self.error)
        layout.addWidget(self.busy)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(440)

    def attempt(self) -> None:
        """Check the password off the GUI thread; the answer arrives in ``_answered``."""
        if not self.username.text().strip() or not self.password.text():
            self._refuse("Type your user name and your password.")
            return
        username, password = self.username.text(), self.password.text()
        self.worker.run(
            lambda: session.sign_in(self.db, username, password), self._signed_in, self._refused
        )

    def _signed_in(self, login: str) -> None:
        self._keep_password(login)
        self._user = login
        self.accept()

    def _refused(self, exc: Exception) -> None:
        if not isinstance(exc, StatusFlowError):  # a bug must leave the dialog usable
            log.error("Checking a password failed", exc_info=exc)
        self._refuse(str(exc) if isinstance(exc, StatusFlowError) else CHECK_FAILED)

    def _keep_password(self, username: str) -> None:
        """Store the password when asked to, and forget an old one when not."""
        if not self.secrets.available():
            return
        try:
            if self.remember.isChecked():
                self.secrets.set(secret_name(self.db, username), self.password.text())
            else:
                self.secrets.delete(secret_name(self.db, username))
        except SecretStoreError:
            log.warning("Could not update the remembered password of %s", username, exc_info=True)

    def _refuse(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(True)
        self.password.selectAll()
        self.password.setFocus()

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.error.setVisible(not busy and bool(self.error.text()))
        for widget in (self.username, self.password, self.remember, self.sign_in_button):
            widget.setEnabled(
                not busy and (widget is not self.remember or self.secrets.available())
            )

    def signed_in_user(self) -> str | None:
        return self._user


def _remembered(db: Database, secrets: SecretStore, username: str) -> tuple[str | None, str]:
    """Sign in with the remembered password: (username, "") or (None, why it did not work)."""
    try:
        password = secrets.get(secret_name(db, username)) if secrets.available() else None
    except SecretStoreError:
        return None, ""
    if password is None:
        return None, ""
    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        return session.sign_in(db, username, password), ""
    except DatabaseError as exc:
        return None, str(exc)
    except StatusFlowError:
        return None, FORGOTTEN
    finally:
        QGuiApplication.restoreOverrideCursor()


def sign_in(
    db: Database,
    parent: QWidget | None,
    secrets: SecretStore,
    *,
    settings: QSettings | None = None,
) -> str | None:
    """The signed-in username, silently when a remembered password works; None if cancelled.

    The silent check runs before any window is open, so it waits with a busy cursor.
    Connected with a person's own PostgreSQL login, the database already knows who it
    is: no dialog.
    """
    person = session.database_person(db)
    if person is not None:
        return person
    settings = settings if settings is not None else QSettings()
    last = str(settings.value(f"{LAST_USER_KEY}/{host_of(db)}", "") or "")
    user, message = _remembered(db, secrets, last) if last else (None, "")
    if user is None:
        dialog = SignInDialog(db, secrets, parent, username=last, message=message)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        user = dialog.signed_in_user()
    settings.setValue(f"{LAST_USER_KEY}/{host_of(db)}", user)
    return user
