"""Settings: which database, how to send email and SMS, where passwords are kept, and
the organisation's time zone.

Every save goes through an engine service (``engine.settings``, ``app.config``), which
checks the values and the person's permissions; the dialog shows the service's
sentence in green or red. Passwords and tokens go to the OS keyring, never to the
database or the config file. "Test connection" tries what is typed, password
included, before anything is saved, and runs off the GUI thread because a server
that is down can take seconds to say so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.config import DatabaseChoice, choose_database, write_database_url
from designer.problems import ERROR_COLOUR, OK_COLOUR
from designer.worker import INTERNAL_ERROR, Worker
from engine.actions.email import check_smtp
from engine.actions.sms import check_sms_gateway
from engine.errors import StatusFlowError
from engine.secrets import NO_BACKEND, SecretStore
from engine.services.database import Database, describe, parse_url
from engine.settings import (
    SmsGateway,
    SmtpProfile,
    organisation_zone,
    save_sms_gateway,
    save_smtp_profile,
    set_setting,
    sms_gateway,
    smtp_profile,
    validate_sms_gateway,
    validate_smtp_profile,
)
from engine.time_zone import TIME_ZONE, machine_zone_name, moment_text, zone_named, zone_names

log = logging.getLogger(__name__)

PROFILE = "default"  # the server and gateway every action uses unless it names another
SECURITY_CHOICES = (
    ("starttls", "STARTTLS (usual, port 587)", 587),
    ("ssl", "SSL/TLS (port 465)", 465),
    ("none", "No encryption (only for a server inside your network)", 25),
)
ORIGIN_WORDS = {
    "--database": "given on the command line (--database)",
    "STATUSFLOW_DATABASE_URL": "set by the STATUSFLOW_DATABASE_URL environment variable",
    "embedded default": "the built-in database in your user folder (no configuration)",
}


class _TypedSecrets(SecretStore):
    """The keyring, except that a password typed in the dialog wins (for testing it)."""

    def __init__(self, typed: dict[str, str]) -> None:
        super().__init__()
        self._typed = {name: value for name, value in typed.items() if value}

    def get(self, name: str) -> str | None:
        return self._typed.get(name) or super().get(name)


def origin_text(choice: DatabaseChoice) -> str:
    return ORIGIN_WORDS.get(choice.origin, f"read from the config file {choice.origin}")


class _Result(QLabel):
    """One line saying how the last test or save went, green or red."""

    def __init__(self) -> None:
        super().__init__(wordWrap=True)

    def say(self, sentence: str, ok: bool) -> None:
        self.setStyleSheet("color: rgb({}, {}, {});".format(*(OK_COLOUR if ok else ERROR_COLOUR)))
        self.setText(sentence)


class SettingsDialog(QDialog):
    """Tabs Database, Email, SMS gateway, Secrets and Time zone."""

    def __init__(
        self,
        db: Database,
        actor: str,
        parent: QWidget | None = None,
        choice: DatabaseChoice | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.db, self.actor = db, actor
        self.choice = choice or choose_database()
        self.worker = Worker(self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._database_tab(), "Database")
        self.tabs.addTab(self._email_tab(), "Email")
        self.tabs.addTab(self._sms_tab(), "SMS gateway")
        self.tabs.addTab(self._secrets_tab(), "Secrets")
        self.tabs.addTab(self._zone_tab(), "Time zone")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)
        self.resize(620, 440)
        self.worker.run(self._stored, self._fill, lambda exc: self._answer(self.email_result, exc))

    # -- running services -------------------------------------------------------------

    def _run(self, call: Callable[[], str], result: _Result) -> None:
        result.say("Working…", True)
        self.worker.run(
            call, lambda sentence: result.say(sentence, True), lambda exc: self._answer(result, exc)
        )

    @staticmethod
    def _answer(result: _Result, exc: Exception) -> None:
        if isinstance(exc, StatusFlowError):
            result.say(str(exc), False)
        else:
            log.error("Settings failed", exc_info=exc)
            result.say(INTERNAL_ERROR, False)

    @staticmethod
    def _page(form: QFormLayout, result: _Result, *buttons: QPushButton) -> QWidget:
        """A tab: the fields, its buttons on the right, then the sentence about the last try."""
        page = QWidget()
        row = QHBoxLayout()
        row.addStretch(1)
        for button in buttons:
            row.addWidget(button)
        layout = QVBoxLayout(page)
        layout.addLayout(form)
        layout.addLayout(row)
        layout.addWidget(result)
        layout.addStretch(1)
        return page

    # -- database ---------------------------------------------------------------------

    def _database_tab(self) -> QWidget:
        self.url_in_use = QLabel(describe(parse_url(self.choice.url)), wordWrap=True)
        self.url_origin = QLabel(origin_text(self.choice), wordWrap=True)
        self.next_url = QLineEdit(
            placeholderText="postgresql://statusflow@db.example.com/statusflow"
        )
        self.save_url = QPushButton("Use from next start")
        self.database_result = _Result()
        form = QFormLayout()
        form.addRow("In use now:", self.url_in_use)
        form.addRow("Where it comes from:", self.url_origin)
        form.addRow("Database for the next start:", self.next_url)
        form.addRow(
            QLabel(
                "Leave the password out: StatusFlow takes it from the keyring "
                "(Secrets tab, or 'statusflow secret set').",
                wordWrap=True,
            )
        )
        self.save_url.clicked.connect(self._save_url)
        return self._page(form, self.database_result, self.save_url)

    def _save_url(self) -> None:
        url = self.next_url.text().strip()
        try:
            path = write_database_url(url)
        except StatusFlowError as exc:
            self.database_result.say(str(exc), False)
            return
        note = ""
        if self.choice.origin in ("--database", "STATUSFLOW_DATABASE_URL"):
            note = f" While the database is {origin_text(self.choice)}, that one still wins."
        self.database_result.say(
            f"Saved in {path}. StatusFlow uses it from the next start.{note}", True
        )

    # -- email ------------------------------------------------------------------------

    def _email_tab(self) -> QWidget:
        self.smtp_host = QLineEdit(placeholderText="mail.example.com")
        self.smtp_port = QSpinBox(minimum=1, maximum=65535, value=587)
        self.smtp_security = QComboBox()
        for value, text, _port in SECURITY_CHOICES:
            self.smtp_security.addItem(text, value)
        self.smtp_security.currentIndexChanged.connect(self._usual_port)
        self.smtp_username = QLineEdit(placeholderText="leave empty if the server needs no login")
        self.smtp_password = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.smtp_password.setPlaceholderText(
            "kept in the keyring; leave empty to keep the stored one"
        )
        self.smtp_from = QLineEdit(placeholderText="operations@example.com")
        self.smtp_from_name = QLineEdit(placeholderText="Example Shop")
        self.test_smtp = QPushButton("Test connection")
        self.save_smtp = QPushButton("Save")
        self.email_result = _Result()
        form = QFormLayout()
        form.addRow("Server:", self.smtp_host)
        form.addRow("Port:", self.smtp_port)
        form.addRow("Security:", self.smtp_security)
        form.addRow("User name:", self.smtp_username)
        form.addRow("Password:", self.smtp_password)
        form.addRow("Send as (address):", self.smtp_from)
        form.addRow("Send as (name):", self.smtp_from_name)
        self.test_smtp.clicked.connect(self._test_smtp)
        self.save_smtp.clicked.connect(self._save_smtp)
        return self._page(form, self.email_result, self.test_smtp, self.save_smtp)

    def _usual_port(self, index: int) -> None:
        if self.smtp_port.value() in {port for *_rest, port in SECURITY_CHOICES}:
            self.smtp_port.setValue(SECURITY_CHOICES[index][2])

    def smtp_profile(self) -> SmtpProfile:
        """The email server as typed in the form."""
        return SmtpProfile(
            name=PROFILE,
            host=self.smtp_host.text().strip(),
            port=self.smtp_port.value(),
            security=str(self.smtp_security.currentData()),
            username=self.smtp_username.text().strip() or None,
            from_address=self.smtp_from.text().strip(),
            from_name=self.smtp_from_name.text().strip(),
        )

    def _test_smtp(self) -> None:
        profile, password = self.smtp_profile(), self.smtp_password.text()

        def test() -> str:
            validate_smtp_profile(profile)
            return check_smtp(profile, _TypedSecrets({profile.password_secret or "": password}))

        self._run(test, self.email_result)

    def _save_smtp(self) -> None:
        profile, password = self.smtp_profile(), self.smtp_password.text()

        def save() -> str:
            save_smtp_profile(self.db, profile, self.actor)
            _store_secret(profile.password_secret, password, "email server")
            return "Saved. Automations send email through this server from now on."

        self._run(save, self.email_result)

    # -- SMS --------------------------------------------------------------------------

    def _sms_tab(self) -> QWidget:
        self.sms_url = QLineEdit(placeholderText="https://sms.example.com/api/send")
        self.sms_sender = QLineEdit(placeholderText="the name or number texts come from")
        self.sms_token = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.sms_token.setPlaceholderText("kept in the keyring; leave empty to keep the stored one")
        self.test_sms = QPushButton("Test connection")
        self.save_sms = QPushButton("Save")
        self.sms_result = _Result()
        form = QFormLayout()
        form.addRow("Gateway address:", self.sms_url)
        form.addRow("Sender:", self.sms_sender)
        form.addRow("Access token:", self.sms_token)
        self.test_sms.clicked.connect(self._test_sms)
        self.save_sms.clicked.connect(self._save_sms)
        return self._page(form, self.sms_result, self.test_sms, self.save_sms)

    def sms_gateway(self) -> SmsGateway:
        """The SMS gateway as typed in the form."""
        return SmsGateway(
            name=PROFILE, url=self.sms_url.text().strip(), sender=self.sms_sender.text().strip()
        )

    def _test_sms(self) -> None:
        gateway, token = self.sms_gateway(), self.sms_token.text()

        def test() -> str:
            validate_sms_gateway(gateway)
            return check_sms_gateway(gateway, _TypedSecrets({gateway.token_secret or "": token}))

        self._run(test, self.sms_result)

    def _save_sms(self) -> None:
        gateway, token = self.sms_gateway(), self.sms_token.text()

        def save() -> str:
            save_sms_gateway(self.db, gateway, self.actor)
            _store_secret(gateway.token_secret, token, "SMS gateway")
            return "Saved. Automations send text messages through this gateway from now on."

        self._run(save, self.sms_result)

    # -- secrets ----------------------------------------------------------------------

    def _secrets_tab(self) -> QWidget:
        store = SecretStore()
        self.keyring_state = _Result()
        if store.available():
            self.keyring_state.say(
                f"Passwords and tokens are kept in the system keyring ({store.backend.name}). "
                "They are never written to the database or to configuration files.",
                True,
            )
        else:
            self.keyring_state.say(NO_BACKEND, False)
        self.secret_name = QLineEdit(placeholderText="smtp/default")
        self.secret_value = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.store_secret = QPushButton("Store in keyring")
        self.store_secret.setEnabled(store.available())
        self.secret_result = _Result()
        form = QFormLayout()
        form.addRow(self.keyring_state)
        form.addRow("Name:", self.secret_name)
        form.addRow("Password or token:", self.secret_value)
        self.store_secret.clicked.connect(self._store_named_secret)
        return self._page(form, self.secret_result, self.store_secret)

    def _store_named_secret(self) -> None:
        name, value = self.secret_name.text().strip(), self.secret_value.text()

        def store() -> str:
            SecretStore().set(name, value)
            return f"Stored '{name}' in the keyring."

        self.secret_value.clear()
        self._run(store, self.secret_result)

    # -- time zone --------------------------------------------------------------------

    def _zone_tab(self) -> QWidget:
        self.zone = QComboBox(editable=True)
        self.zone.addItems(zone_names())
        self.zone.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        completer = self.zone.completer()
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        here = machine_zone_name()
        self.zone_here = QPushButton(f"Use this computer's ({here})")
        self.zone_here.clicked.connect(lambda: self.zone.setCurrentText(here))
        self.save_zone = QPushButton("Save")
        self.save_zone.clicked.connect(self._save_zone)
        self.zone_result = _Result()
        form = QFormLayout()
        form.addRow("Your organisation's time zone:", self.zone)
        form.addRow(
            QLabel(
                "Schedules ('weekdays at 8'), waits until a time of day and a record's dates "
                "are read in this zone, and timelines show times in it. It is one setting "
                "for every designer and engine on this database.",
                wordWrap=True,
            )
        )
        return self._page(form, self.zone_result, self.zone_here, self.save_zone)

    def _save_zone(self) -> None:
        name = self.zone.currentText()

        def save() -> str:
            set_setting(self.db, TIME_ZONE, name, actor=self.actor)
            now = moment_text(datetime.now(UTC), zone_named(name))
            return (
                f"Saved. It is now {now} there. Engines use the new zone within seconds; "
                "this window shows times in it once Settings is closed."
            )

        self._run(save, self.zone_result)

    # -- loading what is stored -------------------------------------------------------

    def _stored(self) -> tuple[SmtpProfile | None, SmsGateway | None, str]:
        with self.db.read() as conn:
            zone = organisation_zone(conn).key
            return _or_none(smtp_profile, conn), _or_none(sms_gateway, conn), zone

    def _fill(self, stored: tuple[SmtpProfile | None, SmsGateway | None, str]) -> None:
        profile, gateway, zone = stored
        self.zone.setCurrentText(zone)
        if profile is not None:
            self.smtp_host.setText(profile.host)
            self.smtp_security.setCurrentIndex(
                max(0, self.smtp_security.findData(profile.security))
            )
            self.smtp_port.setValue(profile.port)
            self.smtp_username.setText(profile.username or "")
            self.smtp_from.setText(profile.from_address)
            self.smtp_from_name.setText(profile.from_name)
        if gateway is not None:
            self.sms_url.setText(gateway.url)
            self.sms_sender.setText(gateway.sender)


def _or_none(read: Callable[[Any], Any], conn: Any) -> Any:
    """A stored profile, or None when none is set up yet (the form starts empty)."""
    try:
        return read(conn)
    except StatusFlowError:
        return None


def _store_secret(name: str | None, value: str, what: str) -> None:
    """Keep a typed password in the keyring; saying so when the profile was saved but it was not."""
    if not (name and value):
        return
    try:
        SecretStore().set(name, value)
    except StatusFlowError as exc:
        raise StatusFlowError(f"The {what} was saved, but its password was not: {exc}") from None
