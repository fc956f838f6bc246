"""The audit trail viewer: who changed what, when, and what it looked like before.

Auditors and IT filter by person, kind of change, kind of object and dates; the
details pane shows the entry's before and after. The trail cannot be changed from
here (nor anywhere: the database refuses it); "Export CSV…" writes exactly the rows
shown, through the same export an auditor gets from the command line.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QGridLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from designer.tables import fill_table, make_table, save_csv
from designer.times import day_start, when
from designer.worker import Worker, show_failure
from engine.services import audit
from engine.services.database import Database

EVERYONE = "Everyone"
ACTION_GROUPS = (  # (words, action prefix); None shows everything
    ("Everything", None),
    ("Automations (any change)", "graph."),
    ("Editing automations", "graph.edit"),
    ("Submitting for review", "graph.submit"),
    ("Approvals", "graph.approve"),
    ("Rejections", "graph.reject"),
    ("Publishing", "graph.publish"),
    ("Rolling back", "graph.rollback"),
    ("Switching automations on", "graph.enable"),
    ("Switching automations off", "graph.disable"),
    ("Tasks", "task."),
    ("Users", "user."),
    ("Settings", "settings."),
    ("Record sources", "source."),
    ("Status codes", "status_codes."),
    ("Records changed by hand", "record."),
    ("Loop guard stops", "engine.loop_guard"),
)
OBJECT_TYPES = (
    ("Any kind", None),
    ("Automation", "graph"),
    ("Version", "graph_version"),
    ("Run", "run"),
    ("Task", "task"),
    ("User", "user"),
    ("Setting", "setting"),
    ("Record source", "record_source"),
    ("Record", "record"),
)
ACTION_WORDS = {
    "graph.create": "Created an automation",
    "graph.edit": "Edited an automation",
    "graph.submit": "Submitted for review",
    "graph.approve": "Approved",
    "graph.reject": "Rejected",
    "graph.publish": "Published",
    "graph.rollback": "Rolled back",
    "graph.enable": "Switched on",
    "graph.disable": "Switched off",
    "graph.loop_override": "Published despite a loop",
    "engine.loop_guard": "Loop guard stopped a run",
    "settings.set": "Changed a setting",
    "record.status": "Changed a record's status",
    "record.label": "Applied a label to a record",
}
OBJECT_WORDS = {value: words for words, value in OBJECT_TYPES if value}
COLUMNS = ("When", "Who", "What", "Object", "Summary")
DEFAULT_DAYS = 30


def _pretty(value: Any) -> str:
    if value is None:
        return "(nothing)"
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def object_text(entry: audit.AuditEntry, full: bool = False) -> str:
    """ "Version", "Task 12": long generated ids only where there is room (details)."""
    words = OBJECT_WORDS.get(entry.object_type, entry.object_type)
    shown = entry.object_id and (full or len(entry.object_id) <= 20)
    return f"{words} {entry.object_id}" if shown else words


def details_text(entry: audit.AuditEntry) -> str:
    """What the details pane shows for one entry."""
    what = ACTION_WORDS.get(entry.action, entry.action)
    return (
        f"When: {when(entry.at)}\nWho: {entry.actor}\n"
        f"What: {what} ({entry.action})\nObject: {object_text(entry, full=True)}\n\n"
        f"{entry.summary}\n\nBefore:\n{_pretty(entry.before)}\n\nAfter:\n{_pretty(entry.after)}"
    )


class AuditPanel(QWidget):
    """Filters over a table of audit entries, newest first, and one entry's details."""

    def __init__(self, db: Database, actor: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db, self.actor = db, actor
        self.entries: list[audit.AuditEntry] = []
        self.worker = Worker(self)
        self.who = self._combo([(EVERYONE, None)])
        self.what = self._combo(ACTION_GROUPS)
        self.object_type = self._combo(OBJECT_TYPES)
        today = QDate.currentDate()
        self.date_from = self._date(today.addDays(-DEFAULT_DAYS))
        self.date_to = self._date(today)
        self.export_button = QPushButton("Export CSV…")
        self.count = QLabel()
        self.table = make_table(COLUMNS)
        self.details = QPlainTextEdit(readOnly=True)
        self.details.setPlaceholderText("Choose an entry to see what it changed.")
        self._layout()
        for combo in (self.who, self.what, self.object_type):
            combo.currentIndexChanged.connect(lambda _i: self.refresh())
        for edit in (self.date_from, self.date_to):
            edit.dateChanged.connect(lambda _d: self.refresh())
        self.table.itemSelectionChanged.connect(self._show_details)
        self.export_button.clicked.connect(self.export_csv)
        self.refresh()

    @staticmethod
    def _combo(choices: tuple[tuple[str, str | None], ...] | list[tuple[str, None]]) -> QComboBox:
        combo = QComboBox()
        for words, value in choices:
            combo.addItem(words, value)
        return combo

    @staticmethod
    def _date(day: QDate) -> QDateEdit:
        edit = QDateEdit(day)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("dd MMM yyyy")
        return edit

    def _layout(self) -> None:
        filters = QGridLayout()
        for column, (label, widget) in enumerate(
            (
                ("Who", self.who),
                ("What", self.what),
                ("On", self.object_type),
                ("From", self.date_from),
                ("To (including)", self.date_to),
            )
        ):
            filters.addWidget(QLabel(label), 0, column)
            filters.addWidget(widget, 1, column)
        filters.addWidget(self.export_button, 1, 5)
        filters.setColumnStretch(6, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.details)
        split.setSizes([400, 200])
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.count)
        layout.addWidget(split)

    def filters(self) -> dict[str, Any]:
        """The chosen filters as :func:`audit.query` takes them."""
        return {
            "actor": self.who.currentData(),
            "action": self.what.currentData(),
            "object_type": self.object_type.currentData(),
            "since": day_start(self.date_from.date().toPython()),
            "until": day_start(self.date_to.date().toPython() + timedelta(days=1)),
        }

    def refresh(self) -> None:
        """Read the entries the filters choose, and everyone the Who list may offer."""
        chosen = self.filters()

        self.worker.run(
            lambda: audit.audit_page(self.db, self.actor, **chosen),
            self._show,
            lambda exc: show_failure(self, "Audit not read", exc),
        )

    def _show(self, found: tuple[list[audit.AuditEntry], list[audit.Actor]]) -> None:
        entries, actors = found
        self.entries = entries
        self._offer_people(actors)
        rows = [
            (
                when(e.at),
                e.actor,
                ACTION_WORDS.get(e.action, e.action),
                object_text(e),
                e.summary,
            )
            for e in entries
        ]
        fill_table(self.table, rows)
        self.details.clear()
        more = (
            " (the newest 1000; narrow the filters to see older ones)" if len(rows) >= 1000 else ""
        )
        self.count.setText(f"{len(rows)} entr{'y' if len(rows) == 1 else 'ies'}{more}.")

    def _offer_people(self, actors: list[audit.Actor]) -> None:
        """Offer every account and every other name in the trail, keeping the choice
        (nobody leaves the list: accounts are deactivated, never removed)."""
        known = {self.who.itemData(i) for i in range(1, self.who.count())}
        if known == {actor.name for actor in actors}:
            return
        chosen = self.who.currentData()
        self.who.blockSignals(True)
        self.who.clear()
        self.who.addItem(EVERYONE, None)
        for actor in actors:
            self.who.addItem(actor.name, actor.name)
            self.who.setItemData(
                self.who.count() - 1, actor.display_name, Qt.ItemDataRole.ToolTipRole
            )
        self.who.setCurrentIndex(max(0, self.who.findData(chosen)))
        self.who.blockSignals(False)

    def _show_details(self) -> None:
        rows = {index.row() for index in self.table.selectedIndexes()}
        if len(rows) == 1:
            self.details.setPlainText(details_text(self.entries[rows.pop()]))

    def export_csv(self) -> None:
        entries = self.entries
        path = save_csv(self, "audit.csv", lambda file: audit.to_csv(entries, file))
        if path is not None:
            self.count.setText(f"Saved {len(entries)} entries to {path}.")
