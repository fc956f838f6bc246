"""The designer's main window: it wires panels, menus and the canvas, nothing more.

Palette on the left, canvas in the middle, properties on the right, problems below.
Every action calls a document command or a session (engine service) method; the
panels hold their own logic in their own modules.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QWidget,
)

from designer.audit_panel import AuditPanel
from designer.canvas import Canvas
from designer.document import GraphDocument
from designer.engine_panel import EnginePanel
from designer.gallery import GalleryDialog, Start
from designer.inbox import InboxPanel
from designer.open_dialog import OpenDialog
from designer.outbox_panel import OutboxPanel
from designer.palette import Palette
from designer.problems import ProblemsPanel, problems_by_node
from designer.properties import PropertiesPanel
from designer.quick_rule import QuickRuleDialog
from designer.records_panel import RecordsPanel
from designer.reports_panel import ReportsPanel
from designer.runs_panel import RunsPanel
from designer.session import Session
from designer.settings_dialog import SettingsDialog
from designer.sources_dialog import SourcesDialog
from designer.test_run_dialog import TestRunDialog
from designer.times import set_display_zone
from designer.validation_runner import ValidationRunner
from designer.versions_panel import VersionsPanel
from designer.window_memory import graph_to_reopen, remember_graph, restore_layout, save_layout
from engine.errors import StatusFlowError
from engine.graph.model import Graph, dumps, loads
from engine.graph.validation import Problem
from engine.nodes.spec import SummaryContext
from engine.outbox import LoopbackOutbox
from engine.services import review
from engine.services.database import new_id
from engine.services.engines import Engine, EngineRunner


def blank_graph(source: str | None) -> Graph:
    return Graph(id=new_id(), name="Untitled automation", source=source)


class MainWindow(QMainWindow):
    """One window editing one graph at a time."""

    def __init__(
        self,
        session: Session,
        parent: QWidget | None = None,
        *,
        outbox: LoopbackOutbox | None = None,
        runner: EngineRunner | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.runner = runner
        set_display_zone(session.time_zone())
        sources = session.source_names()
        self.document = GraphDocument(blank_graph(sources[0] if sources else None), self)
        self.canvas = Canvas(self.document, self)
        self.palette = Palette(self)
        self.properties = PropertiesPanel(self.document, self)
        self.problems = ProblemsPanel(self.document, self)
        self.validation = ValidationRunner(self.document, parent=self)
        self._problems: list[Problem] = []
        self.setCentralWidget(self.canvas.widget)
        steps_dock = self._dock("Steps", self.palette, Qt.DockWidgetArea.LeftDockWidgetArea)
        settings_dock = self._dock(
            "Settings", self.properties, Qt.DockWidgetArea.RightDockWidgetArea
        )
        problems_dock = self._dock(
            "Problems", self.problems, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        self.versions = VersionsPanel(session.db, session.actor, self)
        self.versions.attach_canvas(self.canvas)
        self.versions_dock = self._dock(
            "Versions", self.versions, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.tasks_label = QLabel("")
        self.records = RecordsPanel(session.db, session.actor, self)
        records_dock = self._dock("Records", self.records, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(problems_dock, records_dock)
        if outbox is not None:
            self.outbox = OutboxPanel(outbox, self)
            outbox_dock = self._dock("Outbox", self.outbox, Qt.DockWidgetArea.BottomDockWidgetArea)
            self.tabifyDockWidget(records_dock, outbox_dock)
        self.runs = RunsPanel(session.db, session.actor, self)
        runs_dock = self._dock("Runs", self.runs, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(problems_dock, runs_dock)
        self.inbox = InboxPanel(session.db, session.actor, self)
        # The inbox reads a task beside the list, so it lives where the window is wide.
        tasks_dock = self._dock("Tasks", self.inbox, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(runs_dock, tasks_dock)
        problems_dock.raise_()
        self._sized_docks = (steps_dock, settings_dock, problems_dock)
        self.reports = ReportsPanel(session.db, parent=self)
        self.audit = AuditPanel(session.db, session.actor, parent=self)
        self.engine_status = EnginePanel(
            session.db,
            runner=runner,
            new_runner=(lambda: EngineRunner(Engine(session.db, secrets=session.secrets)))
            if runner is not None
            else None,
            parent=self,
        )
        self.engine_status.runner_changed.connect(self._runner_changed)
        self.operations = [
            self._dock(title, panel, Qt.DockWidgetArea.BottomDockWidgetArea)
            for title, panel in (
                ("Reports", self.reports),
                ("Audit", self.audit),
                ("Engine", self.engine_status),
            )
        ]
        for dock in self.operations:
            dock.hide()
        self._actions()
        self._wire()
        self.statusBar().addPermanentWidget(self.tasks_label)
        self.statusBar().addPermanentWidget(QLabel(f"Signed in as {session.actor}"))
        self._load_context()
        self._retitle()
        self._restore_layout()

    # -- construction ---------------------------------------------------------------

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title.lower()}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _action(self, menu, text: str, slot, shortcut=None) -> QAction:  # type: ignore[no-untyped-def]
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _actions(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self._action(file, "&New automation", self.new_graph, QKeySequence.StandardKey.New)
        self._action(file, "New &quick rule…", self.new_quick_rule)
        self._action(file, "&Rename…", self.rename)
        self._action(file, "&Open…", self.open_graph, QKeySequence.StandardKey.Open)
        self.save_action = self._action(
            file, "&Save draft", self.save, QKeySequence.StandardKey.Save
        )
        file.addSeparator()
        self._action(file, "&Import JSON…", self.import_json)
        self._action(file, "&Export JSON…", self.export_json)
        file.addSeparator()
        self._action(file, "Record &sources…", self.open_sources)
        self._action(file, "Se&ttings…", self.open_settings, QKeySequence.StandardKey.Preferences)
        self._action(file, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        edit = bar.addMenu("&Edit")
        undo = self.document.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.document.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcut(QKeySequence.StandardKey.Redo)
        edit.addActions([undo, redo])
        edit.addSeparator()
        self._action(edit, "&Copy", self.copy, QKeySequence.StandardKey.Copy)
        self._action(edit, "&Paste", self.paste, QKeySequence.StandardKey.Paste)
        self._action(edit, "&Delete", self.delete_selected, QKeySequence.StandardKey.Delete)
        self._action(
            edit, "Select &all", self.canvas.graph.select_all, QKeySequence.StandardKey.SelectAll
        )
        view = bar.addMenu("&View")
        self._action(
            view, "Zoom &in", lambda: self.canvas.zoom(0.1), QKeySequence.StandardKey.ZoomIn
        )
        self._action(
            view, "Zoom &out", lambda: self.canvas.zoom(-0.1), QKeySequence.StandardKey.ZoomOut
        )
        self._action(view, "&Fit to view", self.canvas.fit, "F")
        operations = bar.addMenu("&Operations")
        for title in ("Reports", "Audit", "Engine"):
            self._action(operations, f"{title}…", lambda _=False, t=title: self.show_dock(t))
        review = bar.addMenu("&Review")
        self.test_action = self._action(review, "&Test run…", self.test_run, "Ctrl+T")
        self._action(review, "&Versions and review…", self.show_versions)
        self.toolbar = self.addToolBar("Main")
        self.toolbar.setObjectName("toolbar-main")
        self.toolbar.addActions([self.save_action, undo, redo, self.test_action])
        self._clipboard: tuple[list, list] = ([], [])

    def _wire(self) -> None:
        self.palette.add_requested.connect(lambda type_id: self.canvas.add_node(type_id))
        self.canvas.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.canvas.selection_changed.connect(
            lambda ids: self.properties.show_node(ids[0] if len(ids) == 1 else None)
        )
        self.validation.problems_changed.connect(self._show_problems)
        self.problems.node_requested.connect(lambda node_id: self.canvas.select([node_id]))
        self.document.undo_stack.cleanChanged.connect(lambda _clean: self._retitle())
        self.document.changed.connect(self._on_changed)
        self.document.replaced.connect(self._on_replaced)
        self.versions.changed.connect(self._retitle)
        self.versions.compare_pane.back_to_draft_requested.connect(self.open_named)
        self.versions.compare_pane.viewing_version.connect(self._viewing_version)
        self.records.record_chosen.connect(self._show_record)
        self.runs.show_path.connect(self._show_path)
        self.inbox.counts_changed.connect(self._show_task_counts)

    # -- reacting to the document ---------------------------------------------------

    def _on_changed(self, changes) -> None:  # type: ignore[no-untyped-def]
        if changes.header_changed:
            self._load_context()
        self._retitle()

    def _on_replaced(self) -> None:
        self.save_action.setEnabled(True)  # a version shown read-only disables it again
        self._load_context()
        self._retitle()
        self.versions.show_graph(self.document.graph_id_in_db)
        QTimer.singleShot(0, self.canvas.fit)  # once the view has its final size

    def _viewing_version(self, label: str) -> None:
        self.save_action.setEnabled(False)
        self.setWindowTitle(f"{self.document.graph.name} {label} (read-only) — StatusFlow")

    def _load_context(self) -> None:
        source = self.document.graph.source
        try:
            context = self.session.context(source)
            sample = self.session.sample_record(source)
        except StatusFlowError as exc:
            self.statusBar().showMessage(str(exc), 8000)
            return
        summary_context = SummaryContext(dict(context.status_codes))
        if summary_context != self.canvas.summary_context:  # titles show code descriptions
            self.canvas.summary_context = summary_context
            self.problems.summary_context = summary_context
            for node in self.document.graph.nodes:
                self.canvas.retitle(node.id)
        self.properties.set_context(context, sample)
        self.validation.set_context(context)

    def _show_problems(self, problems: list[Problem]) -> None:
        self._problems = problems
        self.problems.set_problems(problems)
        self.canvas.mark(problems_by_node(problems))
        self.versions.compare_pane.diff_view.apply()  # keep diff colours over the marks

    def _retitle(self) -> None:
        star = " •" if self.document.dirty else ""
        self.setWindowTitle(f"{self.document.graph.name}{star} — StatusFlow")

    # -- files and database ---------------------------------------------------------

    def _confirm_discard(self) -> bool:
        if not self.document.dirty:
            return True
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            f"'{self.document.graph.name}' has changes that are not saved. Save them first?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def new_graph(self) -> None:
        if not self._confirm_discard():
            return
        gallery = GalleryDialog(self.session, self)
        if not gallery.exec():
            return
        if gallery.choice is Start.TEMPLATE:
            self.document.load(Graph.from_document(gallery.new_document()))
        elif gallery.choice is Start.QUICK_RULE:
            self.new_quick_rule()
        else:
            self._new_blank()

    def _new_blank(self) -> None:
        sources = self.session.source_names()
        source = sources[0] if sources else None
        if len(sources) > 1:
            source, ok = QInputDialog.getItem(
                self, "New automation", "Which records does it watch?", sources, 0, False
            )
            if not ok:
                return
        self.document.load(blank_graph(source))

    def new_quick_rule(self) -> None:
        if not self._confirm_discard():
            return
        dialog = QuickRuleDialog(self.session, self)
        if dialog.exec():
            self.open_named(dialog.created_name())

    def rename(self) -> None:
        """Name and describe the automation (names must be unique; saving says so)."""
        graph = self.document.graph
        name, ok = QInputDialog.getText(self, "Rename", "Name of this automation:", text=graph.name)
        if not ok or not name.strip():
            return
        description, ok = QInputDialog.getMultiLineText(
            self, "Rename", "What it does, in a sentence:", graph.description
        )
        if ok:
            self.document.set_header(
                name=name.strip(), description=description.strip(), source=graph.source
            )

    def open_graph(self) -> None:
        if not self._confirm_discard():
            return
        dialog = OpenDialog(self.session.list_graphs(), self)
        if dialog.exec():
            self.open_named(dialog.chosen_name())

    def open_named(self, name: str) -> None:
        try:
            graph = self.session.open_graph(name)
        except StatusFlowError as exc:
            QMessageBox.warning(self, "Cannot open", str(exc))
            return
        self.document.load(graph, graph_id_in_db=graph.id)
        remember_graph(graph.id)

    def save(self) -> bool:
        stored = self.document.graph_id_in_db is not None
        try:
            summary = self.session.save(self.document.graph, stored)
        except StatusFlowError as exc:
            QMessageBox.warning(self, "Not saved", str(exc))
            return False
        self.document.graph_id_in_db = summary.id
        self.document.mark_saved()
        remember_graph(summary.id)
        self.versions.show_graph(summary.id)
        self.statusBar().showMessage(f"Saved the draft of '{summary.name}'.", 5000)
        return True

    def import_json(self) -> None:
        if not self._confirm_discard():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Import", "", "StatusFlow graph (*.json)")
        if not path:
            return
        try:
            graph = loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, StatusFlowError) as exc:
            QMessageBox.warning(self, "Cannot import", str(exc))
            return
        self.document.load(graph)
        self.document.undo_stack.resetClean()

    def export_json(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export", f"{self.document.graph.name}.json", "StatusFlow graph (*.json)"
        )
        if path:
            Path(path).write_text(dumps(self.document.graph) + "\n", encoding="utf-8")
            self.statusBar().showMessage(f"Exported to {path}.", 5000)

    # -- review ----------------------------------------------------------------------

    def test_run(self) -> None:
        unsaved = self.document.graph_id_in_db is None or self.document.dirty
        if unsaved and not self.save():  # the test plays the saved draft
            return
        TestRunDialog(
            self.session.db, self.session.actor, self.document.graph.name, self.canvas, parent=self
        ).exec()

    def open_sources(self) -> None:
        SourcesDialog(self.session.db, self.session.actor, self).exec()
        self._load_context()  # a new source, or new columns, for the forms and validation

    def open_settings(self) -> None:
        SettingsDialog(self.session.db, self.session.actor, self).exec()
        set_display_zone(self.session.time_zone())  # an admin may have changed it

    def show_versions(self) -> None:
        self.versions_dock.show()
        self.versions_dock.raise_()

    def show_dock(self, title: str) -> None:
        dock = self.findChild(QDockWidget, f"dock-{title.lower()}")
        if dock is not None:
            dock.show()
            dock.raise_()

    def _show_record(self, source: str, key: str) -> None:
        self.show_dock("Runs")
        self.runs.show_record(source, key)

    def _show_path(self, graph_id: str, version_id: str, node_ids: list[str]) -> None:
        """Open the version a run executed, read-only, with the path it took marked."""
        if not self._confirm_discard():
            return
        self.document.load(review.read_version_graph(self.session.db, version_id))
        self._viewing_version("(the version this run used)")
        self.canvas.mark({}, highlighted=set(node_ids))

    def _show_task_counts(self, open_tasks: int, overdue: int) -> None:
        text = f"{open_tasks} open task{'s' * (open_tasks != 1)}"
        if overdue:
            text += f", {overdue} overdue"
        self.tasks_label.setText(text)
        self.tasks_label.setStyleSheet("color: #c62828;" if overdue else "")

    def _runner_changed(self, runner: EngineRunner | None) -> None:
        self.runner = runner  # the embedded engine the person started or stopped

    # -- editing ---------------------------------------------------------------------

    def delete_selected(self) -> None:
        self.document.remove_nodes(self.canvas.selected_ids())

    def copy(self) -> None:
        ids = set(self.canvas.selected_ids())
        graph = self.document.graph
        nodes = [n for n in graph.nodes if n.id in ids]
        edges = [e for e in graph.edges if e.source.node in ids and e.target.node in ids]
        self._clipboard = (nodes, edges)
        self.statusBar().showMessage(f"Copied {len(nodes)} step(s).", 3000)

    def paste(self) -> None:
        nodes, edges = self._clipboard
        if nodes:
            self.canvas.select(self.document.paste(nodes, edges, (40.0, 40.0)))

    # -- window state --------------------------------------------------------------------

    def _restore_layout(self) -> None:
        if not restore_layout(self):
            # Docks take their sizes only once the window is laid out: the canvas gets
            # the room, the side panels what they need.
            QTimer.singleShot(0, self._default_dock_sizes)

    def _default_dock_sizes(self) -> None:
        steps, settings, problems = self._sized_docks
        self.resizeDocks([steps, settings], [230, 400], Qt.Orientation.Horizontal)
        self.resizeDocks([problems], [210], Qt.Orientation.Vertical)

    def reopen_last(self) -> None:
        """Open the automation worked on last (see window_memory); a blank one only when
        there is none, so a first start shows a working example."""
        chosen = graph_to_reopen(self.session.list_graphs())
        if chosen is not None:
            self.open_named(chosen.id)

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._confirm_discard():
            event.ignore()
            return
        self.validation.wait_for_done(2000)
        self.versions.worker.wait_for_done(2000)
        self.engine_status.timer.stop()
        self.inbox.refresh_timer.stop()  # a closed window reads no more tasks
        for panel in (self.reports, self.audit, self.engine_status, self.runs, self.inbox):
            panel.worker.wait_for_done(2000)
        save_layout(self)
        event.accept()
