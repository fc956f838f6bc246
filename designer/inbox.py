"""The task inbox: the approvals and manual tasks waiting for me and my roles.

A run that needs a person parks until someone decides, so the inbox makes waiting
work obvious: tasks grouped by kind, overdue ones marked red, and beside the chosen
task everything needed to act without looking elsewhere (instructions, documents to
check, what failed and why, the record's fields). Each button calls
``engine.runtime.tasks.decide`` off the GUI thread and says in words what happens next; each
document ticked is saved at once through ``engine.runtime.tasks.tick_document``. Approving
with documents unticked asks why, and the approval records which were missing and the
reason given (the task service refuses it without one, as it refuses a rejection
without a comment; the checks here only save a round trip).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.checklist_box import ChecklistBox
from designer.problems import ERROR_COLOUR, OK_COLOUR
from designer.times import when
from designer.worker import Worker, show_failure
from engine.clock import SYSTEM_CLOCK, Clock
from engine.nodes import catalogue
from engine.services.database import Database
from engine.services.inbox import (
    ACCEPTED,
    DECISIONS,
    InboxTask,
    TaskInfo,
    decide,
    load_inbox,
    tick_document,
)

REFRESH_MS = 10_000
TASK_ROLE = Qt.ItemDataRole.UserRole
GROUPS = {
    "approval": "Approvals",
    "compensation": "Manual tasks",
    "follow_up": "Follow-ups",
    "alert": "Alerts",
}
BUTTONS = {"approve": "Approve", "reject": "Reject", "done": "Mark done", "abandon": "Abandon"}
CONFIRMATIONS = {
    ("approval", "approve"): "Approved. The run continues when the engine next looks.",
    (
        "approval",
        "reject",
    ): "Rejected. The run takes its 'Rejected' path next.",
    ("compensation", "done"): "Marked done. The run continues when the engine next looks.",
    ("compensation", "abandon"): "Abandoned. The run ends as failed.",
}
OTHER_CONFIRMATIONS = {"done": "Marked done.", "abandon": "Abandoned."}
REJECT_NEEDS_COMMENT = (
    "Write in the comment box why you reject it, then press Reject again: the people "
    "who asked need to know what to change."
)
UNTICKED_QUESTION = (
    "Not ticked yet: {missing}.\n\nTo go ahead anyway, say why they are not ticked. "
    "Your decision records which documents were not ticked and your reason."
)
CHOOSE = "Choose a task on the left to see what to do."
EMPTY = "Nothing to do: there are no open tasks for you or your roles."


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return "" if value is None else str(value)


def due_words(task: InboxTask) -> str:
    if task.task.due_at is None:
        return "No due date"
    return f"{'Overdue since' if task.overdue else 'Due'} {when(task.task.due_at)}"


def assignee_words(task: TaskInfo) -> str:
    if task.assignee_user:
        return f"For {task.assignee_user}"
    return f"For the {task.assignee_role} role" if task.assignee_role else "For anyone"


# -- the panel ------------------------------------------------------------------------


class InboxPanel(QWidget):
    """Open tasks by kind; the chosen task's details and the decisions it allows."""

    counts_changed = Signal(int, int)  # open, overdue

    def __init__(
        self,
        db: Database,
        actor: str,
        parent: QWidget | None = None,
        *,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        super().__init__(parent)
        self.db, self.actor, self.clock = db, actor, clock
        self.worker = Worker(self)
        self.tasks: dict[int, InboxTask] = {}
        self.refresh_timer = QTimer(self, interval=REFRESH_MS)
        self.refresh_timer.timeout.connect(self.refresh)
        self._build()
        self.refresh_timer.start()
        self.refresh()

    def _build(self) -> None:
        self.list = QTreeWidget()
        self.list.setHeaderLabels(["Task", "Record", "Due", ""])
        self.list.setRootIsDecorated(False)
        self.list.setSortingEnabled(False)
        self.list.itemSelectionChanged.connect(self._chosen)
        self.list.setColumnWidth(0, 230)
        self.list.setColumnWidth(1, 160)
        self.list.header().setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.list.setColumnWidth(3, 80)  # the "Overdue" badge
        self.empty = QLabel(EMPTY)
        self.confirmation = QLabel()
        self.confirmation.setWordWrap(True)
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        for widget in (self.empty, self.list, self.confirmation):
            column.addWidget(widget, 1 if widget is self.list else 0)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self._details())
        splitter.setSizes([640, 460])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

    def _details(self) -> QWidget:
        self.title = QLabel()
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        self.facts = QLabel(wordWrap=True)
        self.instructions = QLabel(wordWrap=True)
        self.documents = ChecklistBox()
        self.documents.tick_clicked.connect(self.tick)
        self.failure = QLabel(wordWrap=True)
        self.why_not = QLabel(wordWrap=True, visible=False)
        self.fields = QTableWidget(0, 2)
        self.fields.setHorizontalHeaderLabels(["Field", "Value"])
        self.fields.verticalHeader().hide()
        self.fields.verticalHeader().setDefaultSectionSize(22)
        self.fields.horizontalHeader().setStretchLastSection(True)
        self.fields.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.comment = QPlainTextEdit(placeholderText="Comment (needed to reject)")
        self.comment.setMaximumHeight(70)
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for decision, text in BUTTONS.items():
            button = QPushButton(text)
            button.clicked.connect(lambda _=False, d=decision: self.decide(d))
            self.buttons[decision] = button
            row.addWidget(button)
        row.addStretch(1)
        self.detail_box = QWidget()
        layout = QVBoxLayout(self.detail_box)
        for widget in (self.title, self.facts, self.instructions, self.documents, self.failure):
            layout.addWidget(widget)
        layout.addWidget(QLabel("The record"))
        layout.addWidget(self.fields, 1)
        layout.addWidget(self.comment)
        layout.addLayout(row)
        layout.addWidget(self.why_not)
        self.pages = QStackedWidget()
        self.pages.addWidget(QLabel(CHOOSE, alignment=Qt.AlignmentFlag.AlignCenter))
        self.pages.addWidget(self.detail_box)
        scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        scroll.setWidget(self.pages)  # a long task scrolls instead of forcing the dock taller
        return scroll

    # -- reading ---------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the open tasks again (skipped while a read or a decision is under way)."""
        if not self.worker.busy:
            actor, now = self.actor, self.clock.now()
            self.worker.run(lambda: load_inbox(self.db, actor, now), self._show, self._failed)

    def _show(self, found: list[InboxTask]) -> None:
        chosen = self.chosen_task_id()
        self.tasks = {item.task.id: item for item in found}
        self.list.blockSignals(True)
        self.list.clear()
        for kind, words in GROUPS.items():
            mine = [item for item in found if item.task.kind == kind]
            if mine:
                self._add_group(f"{words} ({len(mine)})", mine)
        self.list.expandAll()
        self.list.blockSignals(False)
        self.empty.setVisible(not found)
        self._reselect(chosen)
        self.counts_changed.emit(len(found), sum(item.overdue for item in found))

    def _add_group(self, heading: str, members: list[InboxTask]) -> None:
        group = QTreeWidgetItem(self.list, [heading])
        font = group.font(0)
        font.setBold(True)
        group.setFont(0, font)
        group.setFlags(Qt.ItemFlag.ItemIsEnabled)
        for member in members:
            due = when(member.task.due_at)
            item = QTreeWidgetItem(group, [member.task.title, member.record, due])
            item.setData(0, TASK_ROLE, member.task.id)
            item.setToolTip(0, member.task.title)
            item.setToolTip(1, member.record)
            if member.overdue:
                badge = QLabel(" Overdue ")
                badge.setStyleSheet(
                    f"background:{QColor(*ERROR_COLOUR).name()}; color:white; "
                    "font-weight:bold; border-radius:3px;"
                )
                badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
                self.list.setItemWidget(item, 3, badge)
                item.setForeground(2, QColor(*ERROR_COLOUR))

    def _reselect(self, task_id: int | None) -> None:
        for item in self.task_items():
            if item.data(0, TASK_ROLE) == task_id:
                self.list.setCurrentItem(item)
                return
        self._chosen()

    def task_items(self) -> list[QTreeWidgetItem]:
        groups = [self.list.topLevelItem(i) for i in range(self.list.topLevelItemCount())]
        return [group.child(i) for group in groups for i in range(group.childCount())]

    def chosen_task_id(self) -> int | None:
        chosen = [item for item in self.list.selectedItems() if item.data(0, TASK_ROLE)]
        return int(chosen[0].data(0, TASK_ROLE)) if chosen else None

    # -- details ---------------------------------------------------------------------

    def _chosen(self) -> None:
        task_id = self.chosen_task_id()
        self.pages.setCurrentIndex(0 if task_id is None else 1)
        if task_id is None:
            return
        item = self.tasks[task_id]
        task = item.task
        self.title.setText(task.title)
        about = f"About {item.record}\n" if item.record else ""
        self.facts.setText(f"{about}{assignee_words(task)} · {due_words(item)}")
        self.instructions.setText(task.instructions or "No instructions were given.")
        self.documents.show_checklist(task.checklist, task.ticks)
        self._show_failure(task.context)
        self._show_fields(item.fields)
        for decision, button in self.buttons.items():  # as the inbox service answered
            button.setVisible(item.why_not is None and decision in DECISIONS[task.kind])
        self.why_not.setText(item.why_not or "")
        self.why_not.setVisible(item.why_not is not None)

    def _show_failure(self, context: dict[str, Any]) -> None:
        self.failure.setVisible("error" in context)
        if "error" in context:
            node_type = catalogue.get(str(context.get("action")))
            step = f"The step '{node_type.label}'" if node_type else "A step"
            self.failure.setText(f"{step} failed. The error was: {context['error']}")
            self.failure.setStyleSheet(f"color:{QColor(*ERROR_COLOUR).name()}")

    def _show_fields(self, fields: dict[str, Any]) -> None:
        self.fields.setRowCount(len(fields))
        for row, (name, value) in enumerate(fields.items()):
            self.fields.setItem(row, 0, QTableWidgetItem(name))
            self.fields.setItem(row, 1, QTableWidgetItem(_text(value)))
        self.fields.resizeColumnToContents(0)

    # -- deciding --------------------------------------------------------------------

    def decide(self, decision: str) -> None:
        task_id = self.chosen_task_id()
        if task_id is None:
            return
        comment = self.comment.toPlainText().strip()
        if decision == "reject" and not comment:
            QMessageBox.warning(self, "Say why you reject it", REJECT_NEEDS_COMMENT)
            self.comment.setFocus()
            return
        kind = self.tasks[task_id].task.kind
        reason = ""
        if DECISIONS[kind][decision] in ACCEPTED:
            answer = self._unticked_reason()
            if answer is None:
                return
            reason = answer
        db, actor, clock = self.db, self.actor, self.clock
        self.worker.run(
            lambda: decide(
                db,
                task_id,
                decision,
                actor=actor,
                comment=comment,
                unticked_reason=reason,
                clock=clock,
            ),
            lambda _task: self._decided(kind, decision),
            self._refused,
        )

    def _unticked_reason(self) -> str | None:
        """Why the person goes ahead with documents unticked ("" when all are ticked);
        None when they cancel."""
        missing = self.documents.unticked()
        if not missing:
            return ""
        reason, ok = QInputDialog.getText(
            self,
            "Some documents are not ticked",
            UNTICKED_QUESTION.format(missing=", ".join(f"'{d}'" for d in missing)),
        )
        return reason if ok else None

    def tick(self, document: str, ticked: bool) -> None:
        """Save a tick as soon as it is clicked, for everyone who works this task."""
        task_id = self.chosen_task_id()
        if task_id is None:
            return
        db, actor, clock = self.db, self.actor, self.clock
        self.worker.run(
            lambda: tick_document(db, task_id, document, ticked=ticked, actor=actor, clock=clock),
            self._ticked,
            self._refused,
        )

    def _ticked(self, task: TaskInfo) -> None:
        if task.id in self.tasks:
            self.tasks[task.id] = replace(self.tasks[task.id], task=task)
        if self.chosen_task_id() == task.id:
            self.documents.show_checklist(task.checklist, task.ticks)

    def _decided(self, kind: str, decision: str) -> None:
        self._confirm(CONFIRMATIONS.get((kind, decision)) or OTHER_CONFIRMATIONS[decision])
        self.comment.clear()
        self.refresh()

    def _refused(self, exc: Exception) -> None:
        self._confirm("")
        show_failure(self, "The task was not changed", exc)
        self.refresh()

    def _confirm(self, text: str) -> None:
        self.confirmation.setText(text)
        self.confirmation.setStyleSheet(f"color:{QColor(*OK_COLOUR).name()}; font-weight:bold")

    def _failed(self, exc: Exception) -> None:
        show_failure(self, "Could not read your tasks", exc)
