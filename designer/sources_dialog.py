"""Record sources: which tables StatusFlow watches, and a form to watch one more.

Everything a person picks comes from a list the database filled (schema, table,
columns), so nobody types a name that does not exist. The two capture modes are
explained in one sentence each, and "Check" shows what ``statusflow source check``
shows: every grant and trigger the source needs, with the SQL to hand to an
administrator. Each action is one engine service call, run off the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from designer.problems import ERROR_COLOUR, OK_COLOUR
from designer.worker import INTERNAL_ERROR, Worker
from engine.errors import StatusFlowError
from engine.services.database import Database
from engine.sources import browse, hosts, readiness, registry

NO_LABELS = "No labels"
COMPARE_ALL = "no column: compare every row"
TRIGGER_WORDS = (
    "The database reports every change the moment it is saved. Needs a trigger on the "
    "table, which StatusFlow installs (or an administrator does, from the SQL shown)."
)
POLL_WORDS = (
    "Changes nothing on the table: StatusFlow looks every few seconds. Two changes "
    "between two looks are seen as one, and reactions wait up to one interval."
)
STATUS_HINTS = ("status", "state", "stage")
OWN_DATABASE = "StatusFlow's own database"
HOST_WORDS = (
    "Or a MariaDB, MySQL or PostgreSQL database of its own, e.g. "
    "mysql://statusflow@db.example.com:3306/shop. The password stays in this computer's "
    "keyring; an engine on a server reads it from its keyring or environment."
)


def _colour(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def findings_html(result: readiness.Readiness) -> str:
    """The check's lines for a person: green what is there, red what is missing, with
    the SQL an administrator runs in a block that can be copied."""
    lines = []
    for finding in result.findings:
        colour = _colour(OK_COLOUR if finding.ok else ERROR_COLOUR)
        mark = "✓" if finding.ok else "✗"
        lines.append(f'<p style="color:{colour}">{mark} {escape(finding.sentence)}</p>')
        if finding.fix:
            sql = escape(chr(10).join(finding.fix))
            lines.append(f'<pre style="white-space: pre-wrap">{sql}</pre>')
    if result.ready:
        verdict = f"<p><b>{escape(result.source.name)} is ready.</b></p>"
    else:
        verdict = (
            f"<p><b>{escape(result.source.name)} is not ready:</b> give the SQL below to "
            "your database administrator, then press Check again.</p>"
        )
    return verdict + "".join(lines)


class SourcesDialog(QDialog):
    """The registered sources, and a form to register another."""

    def __init__(self, db: Database, actor: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Record sources")
        self.db, self.actor = db, actor
        self.worker = Worker(self)
        self.fields: dict[str, str] = {}
        self._suggested = ""  # the name the form proposed for the chosen table
        content = QWidget()
        boxes = QVBoxLayout(content)
        boxes.setContentsMargins(0, 0, 0, 0)
        boxes.addWidget(self._existing_box())
        boxes.addWidget(self._form_box())
        scroll = QScrollArea(self)  # on a small screen at 150 % the form scrolls
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 3)
        self.result = QTextBrowser(self)
        self.result.setMinimumHeight(80)
        self.result.setOpenLinks(False)
        layout.addWidget(self.result, 1)
        fits = self.screen().availableGeometry().height() - 60 if self.screen() else 700
        # the whole form when the screen has room; below that it scrolls
        scroll.setMinimumHeight(min(content.sizeHint().height(), fits - 160))
        self._say(
            "Pick a table and how its changes are seen, then press Start watching. "
            "Check lists what a watched table needs from the database."
        )
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(720, min(content.sizeHint().height() + 160, fits))
        self._call(lambda: registry.list_sources(db), self._show_sources)
        self._call(lambda: browse.catalog(db, actor=actor), self._show_catalog)

    # -- building -----------------------------------------------------------------------

    def _existing_box(self) -> QGroupBox:
        box = QGroupBox("Watched tables")
        box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.existing = QListWidget()
        self.existing.setMaximumHeight(90)
        self.check_button = QPushButton("Check")
        self.check_button.setToolTip("List every grant and trigger this source needs")
        self.remove_button = QPushButton("Stop watching…")
        self.check_button.clicked.connect(self.check_selected)
        self.remove_button.clicked.connect(self.remove_selected)
        buttons = QVBoxLayout()
        buttons.addWidget(self.check_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        row = QHBoxLayout(box)
        row.addWidget(self.existing, 1)
        row.addLayout(buttons)
        return box

    def _form_box(self) -> QGroupBox:
        box = QGroupBox("Watch another table")
        # the explanations wrap: the form keeps its height, the result box gives way
        box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        form = QFormLayout(box)
        self.schema, self.table = QComboBox(), QComboBox()
        self.name = QLineEdit(placeholderText="a short name, e.g. orders")
        self.key, self.status = QComboBox(), QComboBox()
        self.labels, self.label_column = QComboBox(), QComboBox()
        self.schema_label = QLabel("Schema:")
        form.addRow("Database:", self._host_choice())
        form.addRow(self.schema_label, self.schema)
        form.addRow("Table:", self.table)
        form.addRow("Name in StatusFlow:", self.name)
        form.addRow("Key column:", self.key)
        form.addRow("Status column:", self.status)
        form.addRow("Labels from:", self.labels)
        form.addRow("Label column:", self.label_column)
        form.addRow("How changes are seen:", self._capture_choice())
        self.add_button = QPushButton("Start watching")
        self.add_button.clicked.connect(self.add)
        form.addRow("", self.add_button)
        self.schema.currentTextChanged.connect(self._schema_chosen)
        self.table.currentTextChanged.connect(self._table_chosen)
        self.labels.currentTextChanged.connect(self._labels_chosen)
        return box

    def _host_choice(self) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        column.setContentsMargins(0, 0, 0, 0)
        self.host = QComboBox(editable=True)
        self.host.addItem(OWN_DATABASE)
        self.host.lineEdit().setPlaceholderText("mysql://user@host:3306/database")
        self.password = QLineEdit(placeholderText="password (kept in the keyring)")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.connect_button = QPushButton("Connect")
        self.connect_button.setToolTip("Read the tables of this database")
        column.addWidget(self.host)
        column.addWidget(_explained(HOST_WORDS))
        row = QHBoxLayout()
        row.setContentsMargins(22, 0, 0, 0)
        row.addWidget(self.password, 1)
        row.addWidget(self.connect_button)
        column.addLayout(row)
        self.connect_button.clicked.connect(self.connect_host)
        self.host.activated.connect(lambda _index: self.connect_host())
        return page

    def _capture_choice(self) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        column.setContentsMargins(0, 0, 0, 0)
        self.trigger_mode = QRadioButton("Trigger (recommended)")
        self.poll_mode = QRadioButton("Poll")
        self.modes = QButtonGroup(page)
        for button in (self.trigger_mode, self.poll_mode):
            self.modes.addButton(button)
        self.trigger_mode.setChecked(True)
        self.install_later = QCheckBox("An administrator installs the trigger (show the SQL)")
        self.changed, self.interval = QComboBox(), QDoubleSpinBox()
        self.interval.setRange(registry.MIN_POLL_SECONDS, registry.MAX_POLL_SECONDS)
        self.interval.setValue(registry.DEFAULT_POLL_SECONDS)
        self.interval.setSuffix(" s")
        self.interval.setDecimals(1)
        self.changed.setToolTip(
            "A column the application sets to the time of each change: only rows changed "
            "since the last look are read. Without one, every row is compared."
        )
        poll_row = QHBoxLayout()
        poll_row.addWidget(QLabel("Look every"))
        poll_row.addWidget(self.interval)
        poll_row.addWidget(QLabel("using"))
        poll_row.addWidget(self.changed, 1)
        for widget in (
            self.trigger_mode,
            _explained(TRIGGER_WORDS),
            self.install_later,
            self.poll_mode,
            _explained(POLL_WORDS),
        ):
            column.addWidget(widget)
        column.addLayout(poll_row)
        self.poll_mode.toggled.connect(self._mode_chosen)
        self._mode_chosen(False)
        return page

    # -- filling the lists --------------------------------------------------------------

    def _show_sources(self, sources: list[registry.SourceInfo]) -> None:
        self.existing.clear()
        known = {self.host.itemText(i) for i in range(self.host.count())}
        for url in dict.fromkeys(s.host_url for s in sources if s.host_url):
            if url not in known:
                self.host.addItem(url)
        for source in sources:
            where = f" in {registry.host_words(source)}" if source.host_url else ""
            text = f"{source.name} — {source.table}{where} ({registry.capture_words(source)})"
            item = QListWidgetItem(text)
            item.setData(256, source.name)
            self.existing.addItem(item)
        if sources:
            self.existing.setCurrentRow(0)
        for button in (self.check_button, self.remove_button):
            button.setEnabled(bool(sources))

    def host_url(self) -> str | None:
        """The host database the form reads, or None for StatusFlow's own."""
        text = self.host.currentText().strip()
        return None if text in ("", OWN_DATABASE) else text

    def _where(self) -> dict[str, Any]:
        """How the browse services reach the chosen database."""
        return {"actor": self.actor, "host_url": self.host_url(), "name": self._source_name()}

    def _source_name(self) -> str | None:
        return self.name.text().strip() or None

    def connect_host(self) -> None:
        """Read the chosen database's tables (storing a typed password first)."""
        url, password = self.host_url(), self.password.text()
        where = self._where()

        def catalog() -> browse.Catalog:
            if url and password:
                hosts.remember_password(url, password)
            return browse.catalog(self.db, **where)

        self.password.clear()
        if self.name.text() == self._suggested:  # named after a table of another database
            self.name.clear()
        self.schema.clear()
        _refill(self.table, [])
        self._say("Connecting…" if url else "Reading StatusFlow's own database…")
        self._call(catalog, self._connected)

    def _connected(self, found: browse.Catalog) -> None:
        where = self.host_url() or OWN_DATABASE
        self._say(f"Connected to {where}: {len(found.tables)} tables to choose from.")
        self._show_catalog(found)

    def _show_catalog(self, found: browse.Catalog) -> None:
        on_schemas = bool(found.schemas)
        self.schema.setVisible(on_schemas)
        self.schema_label.setVisible(on_schemas)
        if on_schemas and self.schema.count() == 0:
            self.schema.blockSignals(True)
            self.schema.addItems(list(found.schemas))
            self.schema.setCurrentText(found.schema or "")
            self.schema.blockSignals(False)
        _refill(self.table, found.tables)

    def _schema_chosen(self, schema: str) -> None:
        if schema:
            where = self._where()
            self._call(lambda: browse.catalog(self.db, schema, **where), self._show_catalog)

    def _table_chosen(self, table: str) -> None:
        if table:
            where = self._where()
            self._call(lambda: browse.shape(self.db, table, **where), self._show_shape)

    def _show_shape(self, shape: browse.TableShape) -> None:
        self.fields = shape.fields
        columns = list(shape.fields)
        _refill(self.key, columns, "id")
        status = next((c for c in columns if c.lower() in STATUS_HINTS), columns[0])
        _refill(self.status, columns, status)
        _refill(self.labels, [NO_LABELS, *shape.label_tables])
        dated = [c for c, kind in shape.fields.items() if kind == "datetime"]
        _refill(self.changed, [COMPARE_ALL, *dated], dated[0] if dated else COMPARE_ALL)
        if self.name.text() in ("", self._suggested):  # not one the person typed
            self._suggested = shape.table.rpartition(".")[2].lower()[:40]
            self.name.setText(self._suggested)

    def _labels_chosen(self, table: str) -> None:
        if table and table != NO_LABELS:
            where = self._where()
            self._call(lambda: browse.shape(self.db, table, **where), self._show_labels)
        else:
            self.label_column.clear()
        self.label_column.setEnabled(bool(table) and table != NO_LABELS)

    def _show_labels(self, shape: browse.TableShape) -> None:
        texts = [c for c, kind in shape.fields.items() if kind == "text"]
        _refill(self.label_column, texts or list(shape.fields), "label")

    def _mode_chosen(self, polled: bool) -> None:
        self.changed.setEnabled(polled)
        self.interval.setEnabled(polled)
        self.install_later.setEnabled(not polled)

    # -- actions ------------------------------------------------------------------------

    def capture(self) -> registry.Capture:
        if self.trigger_mode.isChecked():
            return registry.Capture(install=not self.install_later.isChecked())
        changed = self.changed.currentText()
        return registry.Capture(
            "poll",
            changed_column=None if changed in ("", COMPARE_ALL) else changed,
            poll_seconds=self.interval.value(),
        )

    def add(self) -> None:
        labels = self.labels.currentText()
        has_labels = bool(labels) and labels != NO_LABELS
        arguments: dict[str, Any] = {
            "name": self.name.text().strip(),
            "table": self.table.currentText(),
            "key_column": self.key.currentText(),
            "status_column": self.status.currentText(),
            "label_table": labels if has_labels else None,
            "label_column": self.label_column.currentText() or "label",
            "capture": self.capture(),
            "host_url": self.host_url(),
            "actor": self.actor,
        }
        self._say("Working…")
        self._call(lambda: registry.add_source(self.db, **arguments), self._added)

    def _added(self, source: registry.SourceInfo) -> None:
        self.name.clear()
        self._call(lambda: registry.list_sources(self.db), self._show_sources)
        self._call(lambda: source.name, self._select)
        self._check(source.name)

    def _select(self, name: str) -> None:
        for row in range(self.existing.count()):
            if self.existing.item(row).data(256) == name:
                self.existing.setCurrentRow(row)

    def selected(self) -> str | None:
        item = self.existing.currentItem()
        return None if item is None else str(item.data(256))

    def check_selected(self) -> None:
        name = self.selected()
        if name is not None:
            self._check(name)

    def _check(self, name: str) -> None:
        self._say("Checking…")
        self._call(
            lambda: readiness.check_source(self.db, name, actor=self.actor),
            lambda result: self.result.setHtml(findings_html(result)),
        )

    def remove_selected(self) -> None:
        name = self.selected()
        if name is None:
            return
        answer = QMessageBox.question(
            self,
            "Stop watching",
            f"Stop watching '{name}'? Its triggers are removed; graphs that use it must be "
            "deleted first.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self._call(
                lambda: registry.remove_source(self.db, name, actor=self.actor), self._removed
            )

    def _removed(self, _result: object) -> None:
        self._say("No longer watched; nothing of StatusFlow's is left on the table.")
        self._call(lambda: registry.list_sources(self.db), self._show_sources)

    # -- plumbing -----------------------------------------------------------------------

    def _call(self, call: Callable[[], Any], on_done: Callable[[Any], None]) -> None:
        self.worker.run(call, on_done, self._failed)

    def _failed(self, exc: Exception) -> None:
        text = str(exc) if isinstance(exc, StatusFlowError) else INTERNAL_ERROR
        colour = _colour(ERROR_COLOUR)
        self.result.setHtml(f'<p style="color:{colour}">{escape(text)}</p>')

    def _say(self, text: str) -> None:
        self.result.setHtml(f"<p>{escape(text)}</p>")


def _explained(text: str) -> QLabel:
    label = QLabel(text, wordWrap=True)
    label.setContentsMargins(22, 0, 0, 4)
    label.setStyleSheet("color: palette(placeholder-text);")
    return label


def _refill(combo: QComboBox, items: list[str] | tuple[str, ...], chosen: str = "") -> None:
    """New choices; the one named ``chosen`` (if there) is selected, signals fire once."""
    combo.blockSignals(True)
    combo.clear()
    combo.addItems(list(items))
    if chosen in items:
        combo.setCurrentText(chosen)
    combo.blockSignals(False)
    combo.currentTextChanged.emit(combo.currentText())
