"""The Outbox: the emails the embedded demo sent, shown as the client would receive them.

The built-in outbox (:mod:`engine.outbox`) is a real SMTP server on this computer, so
an automation's email arrives there instead of leaving the building. The panel looks
for new messages every two seconds; reading them is a copy of an in-memory list, so
it needs no worker thread.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from designer.times import when
from engine.outbox import LoopbackOutbox, OutboxMessage

REFRESH_MS = 2000
INTRO = (
    "Emails sent by your automations in this demo arrive here. Nothing leaves this "
    "computer: the built-in outbox catches every message."
)
EMPTY = (
    "No emails yet. Publish an automation that sends email (for example "
    "'Delivered → confirmation email'), then change a record's status in Records."
)


class OutboxPanel(QWidget):
    """Newest emails first; the chosen one below, formatted and as plain text."""

    def __init__(self, outbox: LoopbackOutbox, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.outbox = outbox
        self.shown: list[OutboxMessage] = []  # newest first, as in the table
        self._build()
        self.refresh()
        self._timer = QTimer(self, interval=REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()

    def _build(self) -> None:
        self.intro = QLabel(INTRO, wordWrap=True)
        self.table = QTableWidget(0, 3, self)
        self.table.setHorizontalHeaderLabels(["Received", "To", "Subject"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._show_selected)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.table)
        splitter.addWidget(self._reader())
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(splitter, 1)

    def _reader(self) -> QWidget:
        reader = QWidget(self)
        self.sender_label, self.to_label, self.subject_label = QLabel(), QLabel(), QLabel()
        for label in (self.sender_label, self.to_label, self.subject_label):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setWordWrap(True)
        self.subject_label.setStyleSheet("font-weight: bold;")
        headers = QFormLayout()
        headers.addRow("From:", self.sender_label)
        headers.addRow("To:", self.to_label)
        headers.addRow("Subject:", self.subject_label)
        self.formatted = QTextBrowser(openLinks=False)  # an email never navigates the app
        self.plain = QPlainTextEdit(readOnly=True)
        self.bodies = QTabWidget(self)
        self.bodies.addTab(self.formatted, "As the client sees it")
        self.bodies.addTab(self.plain, "Plain text")
        layout = QVBoxLayout(reader)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(headers)
        layout.addWidget(self.bodies, 1)
        return reader

    def refresh(self) -> None:
        """Show messages that arrived since the last look, keeping the chosen one chosen."""
        messages = list(reversed(self.outbox.messages()))
        if messages == self.shown:
            return
        chosen = self.chosen()
        self.shown = messages
        self.table.blockSignals(True)
        self.table.setRowCount(len(messages))
        for row, message in enumerate(messages):
            values = (when(message.received_at), ", ".join(message.to), message.subject)
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.blockSignals(False)
        self.table.selectRow(messages.index(chosen) if chosen in messages else 0)
        self._show_selected()

    def chosen(self) -> OutboxMessage | None:
        rows = self.table.selectionModel().selectedRows()
        return self.shown[rows[0].row()] if rows and rows[0].row() < len(self.shown) else None

    def _show_selected(self) -> None:
        message = self.chosen()
        self.sender_label.setText(message.mail_from if message else "")
        self.to_label.setText(", ".join(message.to) if message else "")
        self.subject_label.setText(message.subject if message else "")
        self.plain.setPlainText(message.text if message else "")
        if message is None:
            self.formatted.setPlainText(EMPTY)
        elif message.html is not None:
            self.formatted.setHtml(message.html)
        else:
            self.formatted.setPlainText(message.text)
