"""The properties panel: the selected step's settings, as a form built from its declaration.

Nothing about a node type is written here: the form follows the type's parameters
(label, help, placeholder, group, ``visible_when``), the editors follow their kinds,
and the red sentences come from the engine's own graph validation, run on the values
as they are being typed. Every finished edit is one ``set_params`` on the document,
so it can be undone; undo and redo flow back into the form through the document.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QLabel,
    QScrollArea,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from designer.document import Changes, GraphDocument
from designer.properties.editors import (
    BooleanEditor,
    ChoiceEditor,
    CronEditor,
    DurationEditor,
    Editor,
    HeadersEditor,
    LineEditor,
    MultiChoiceEditor,
    NumberEditor,
    PlainEditor,
    StringListEditor,
)
from designer.properties.email import EMAIL_TYPE, EmailPreview, TemplateEditor, preview_values
from designer.properties.rules import CasesEditor, RulesEditor
from engine.graph.context import ValidationContext
from engine.graph.validation import validate
from engine.nodes import catalogue
from engine.nodes.spec import NodeType, Param, ParamKind, SummaryContext

NO_SELECTION = "Select a step to see its settings."
UNKNOWN_TYPE = (
    "This step is of a kind this StatusFlow does not know, so its settings cannot be shown. "
    "Delete the step, or update StatusFlow."
)
STYLE = """
QLabel#title { font-size: 16px; font-weight: 600; }
QLabel#caption { font-weight: 600; }
QLabel#hint { color: #5f6b73; }
QLabel#problem { color: #c62828; }
*[invalid="true"] { border: 1px solid #d32f2f; border-radius: 3px; }
QToolButton#section { border: none; font-weight: 600; padding: 4px 0; }
QToolButton#insert::menu-indicator { image: none; }
QFrame#preview { background: #f7f9fa; border: 1px solid #cfd8dc; border-radius: 4px; }
QLabel#previewTitle { font-weight: 600; color: #37474f; }
QPlainTextEdit#previewText { background: white; border: 1px solid #e0e6e9; }
"""

_Factory = Callable[[Param, ValidationContext], Editor]
_FACTORIES: dict[ParamKind, _Factory] = {
    ParamKind.TEXT: LineEditor,
    ParamKind.EMAIL_LIST: LineEditor,
    ParamKind.URL: LineEditor,
    ParamKind.SECRET: LineEditor,
    ParamKind.CRON: CronEditor,
    ParamKind.MULTILINE: lambda p, _c: PlainEditor(p),
    ParamKind.STRING_LIST: lambda p, _c: StringListEditor(p),
    ParamKind.TEMPLATE: TemplateEditor,
    ParamKind.JSON_TEMPLATE: lambda p, c: TemplateEditor(p, c, monospace=True),
    ParamKind.INTEGER: lambda p, _c: NumberEditor(p, whole=True),
    ParamKind.NUMBER: lambda p, _c: NumberEditor(p, whole=False),
    ParamKind.BOOLEAN: lambda p, _c: BooleanEditor(p),
    ParamKind.CHOICE: ChoiceEditor,
    ParamKind.MULTI_CHOICE: MultiChoiceEditor,
    ParamKind.DURATION: lambda p, _c: DurationEditor(p),
    ParamKind.RULES: RulesEditor,
    ParamKind.HEADERS: lambda p, _c: HeadersEditor(p),
}


def make_editor(param: Param, context: ValidationContext, node_type: NodeType) -> Editor:
    """The editor for ``param``'s kind (cases need the node's outputs to name them)."""
    if param.kind is ParamKind.CASES:
        return CasesEditor(param, {port.name: port.label for port in node_type.outputs})
    return _FACTORIES[param.kind](param, context)


def same(a: Any, b: Any) -> bool:
    """Equal, counting "nothing" in any form (None, '', [], {}) as the same."""
    return a == b or (a in (None, "", [], {}) and b in (None, "", [], {}))


def tidy(message: str, prefix: str, label: str) -> str:
    """A validation sentence without what the form already shows (step and label)."""
    message = message.removeprefix(prefix)
    for lead in (f"{label}: ", f"{label}, "):
        message = message.removeprefix(lead)
    return message[:1].upper() + message[1:]


class FieldRow(QWidget):
    """Caption, editor, and the red sentence or the grey help under it."""

    def __init__(self, param: Param, editor: Editor) -> None:
        super().__init__()
        self.param, self.editor = param, editor
        caption = QLabel(param.label, objectName="caption", toolTip=param.help, wordWrap=True)
        self.problem = QLabel(objectName="problem", wordWrap=True, visible=False)
        self.help = QLabel(param.help, objectName="hint", wordWrap=True, visible=bool(param.help))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 4)
        layout.setSpacing(3)
        for widget in (caption, editor, self.problem, self.help):
            layout.addWidget(widget)

    def show_problem(self, message: str | None) -> None:
        self.editor.set_invalid(bool(message))
        self.problem.setText(message or "")
        self.problem.setVisible(bool(message))
        self.help.setVisible(not message and bool(self.param.help))


class Section(QWidget):
    """A folded group of settings ("Safety", "Retries"...), opened by its title."""

    def __init__(self, title: str) -> None:
        super().__init__()
        self.toggle = QToolButton(text=title, objectName="section", checkable=True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.toggled.connect(self.set_open)
        self.body = QWidget()
        self.rows = QVBoxLayout(self.body)
        self.rows.setContentsMargins(14, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(self.toggle)
        layout.addWidget(self.body)
        self.set_open(False)

    def set_open(self, opened: bool) -> None:
        self.toggle.setChecked(opened)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if opened else Qt.ArrowType.RightArrow)
        self.body.setVisible(opened)


class PropertiesPanel(QWidget):
    """The settings of the selected step; put it in a dock widget."""

    def __init__(self, document: GraphDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.context = ValidationContext()
        self.sample_record: dict[str, Any] | None = None
        self.node_id: str | None = None
        self.rows: dict[str, FieldRow] = {}
        self.sections: dict[str, Section] = {}
        self.preview: EmailPreview | None = None
        self.setStyleSheet(STYLE)
        self.title = QLabel(objectName="title", wordWrap=True)
        self.description = QLabel(objectName="hint", wordWrap=True)
        self.hint = QLabel(objectName="hint", wordWrap=True, alignment=Qt.AlignmentFlag.AlignCenter)
        self.scroll = QScrollArea(widgetResizable=True, frameShape=QScrollArea.Shape.NoFrame)
        self.split = QSplitter(Qt.Orientation.Vertical, childrenCollapsible=False)
        self.split.addWidget(self.scroll)
        layout = QVBoxLayout(self)
        for widget in (self.title, self.description, self.hint, self.split):
            layout.addWidget(widget)
        document.changed.connect(self._on_changed)
        document.replaced.connect(lambda: self.show_node(self.node_id))
        self.show_node(None)

    # -- what the window calls --------------------------------------------------------

    def set_context(self, context: ValidationContext, sample_record: dict | None) -> None:
        """The record source's facts (codes, fields...) and one record for previews."""
        self.context, self.sample_record = context, sample_record
        self.show_node(self.node_id)

    def show_node(self, node_id: str | None) -> None:
        """Show the settings of ``node_id``; None (or a step that is gone) shows a hint."""
        self._commit()
        for row in self.rows.values():
            row.editor.blockSignals(True)
        node = self.document.graph.node(node_id) if node_id else None
        self.node_id = node.id if node else None
        node_type = catalogue.get(node.type) if node else None
        self.title.setText(node_type.label if node_type else "")
        self.description.setText(node_type.description if node_type else "")
        self.hint.setText(UNKNOWN_TYPE if node and not node_type else NO_SELECTION)
        self.hint.setVisible(node_type is None)
        for widget in (self.title, self.description, self.split):
            widget.setVisible(node_type is not None)
        self._build(node_type)

    # -- building the form ------------------------------------------------------------

    def _build(self, node_type: NodeType | None) -> None:
        if self.preview is not None:
            self.preview.hide()
            self.preview.deleteLater()
        self.rows, self.sections, self.preview = {}, {}, None
        form = QWidget()
        layout = QVBoxLayout(form)
        for param in node_type.params if node_type else ():
            row = self._row(param, node_type)
            if param.group:
                self.sections.setdefault(param.group, Section(param.group)).rows.addWidget(row)
            else:
                layout.addWidget(row)
        for section in self.sections.values():
            layout.addWidget(section)
        if node_type is not None and node_type.type_id == EMAIL_TYPE:
            self.preview = EmailPreview()
            self.split.addWidget(self.preview)
            self.split.setStretchFactor(0, 1)
            self.split.setStretchFactor(1, 0)
        layout.addStretch(1)
        self.scroll.setWidget(form)
        if node_type is not None:
            self._refresh(open_problems=True)

    def _row(self, param: Param, node_type: NodeType) -> FieldRow:
        editor = make_editor(param, self.context, node_type)
        editor.changing.connect(self._update)
        editor.committed.connect(self._commit)
        row = FieldRow(param, editor)
        self.rows[param.name] = row
        return row

    # -- values -------------------------------------------------------------------------

    def _node_type(self) -> NodeType | None:
        node = self.document.graph.node(self.node_id) if self.node_id else None
        return catalogue.get(node.type) if node else None

    def _stored(self) -> dict[str, Any]:
        node = self.document.graph.node(self.node_id or "")
        node_type = self._node_type()
        return node_type.with_defaults(node.params) if node and node_type else {}

    def _edited(self) -> dict[str, Any]:
        """The step's parameters with what the editors show now."""
        node = self.document.graph.node(self.node_id or "")
        params = dict(node.params) if node else {}
        stored = self._stored()
        for name, row in self.rows.items():
            shown = row.editor.value()
            if not same(shown, stored.get(name)):
                params[name] = shown
        return params

    def _commit(self) -> None:
        """Save a finished edit as one undoable change (nothing when nothing changed)."""
        node = self.document.graph.node(self.node_id or "")
        if node is None or not self.rows:
            return
        params = self._edited()
        if params != dict(node.params):
            self.document.set_params(node.id, params)
        else:
            self._update()

    def _on_changed(self, changes: Changes) -> None:
        if self.node_id in changes.nodes_removed:
            self.show_node(None)
        elif self.node_id in changes.nodes_changed or changes.header_changed:
            self._refresh()

    def _refresh(self, open_problems: bool = False) -> None:
        """Show the document's values; an editor already showing its value is left alone."""
        stored = self._stored()
        for name, row in self.rows.items():
            if not same(row.editor.value(), stored.get(name)):
                row.editor.set_value(stored.get(name))
        self._update()
        if open_problems:
            for section in self.sections.values():
                rows = (self.rows[p.name] for p in self._grouped(section))
                section.set_open(any(row.problem.text() for row in rows))

    def _grouped(self, section: Section) -> list[Param]:
        node_type = self._node_type()
        group = section.toggle.text()
        return [p for p in node_type.params if p.group == group] if node_type else []

    # -- what the person sees while editing ---------------------------------------------

    def _update(self) -> None:
        node_type = self._node_type()
        if node_type is None:
            return
        params = self._edited()
        values = node_type.with_defaults(params)
        for row in self.rows.values():
            wanted = row.param.visible_when.items()
            row.setVisible(all(values.get(name) in allowed for name, allowed in wanted))
        problems = self._problems(node_type, params)
        for name, row in self.rows.items():
            row.show_problem(problems.get(name))
        if self.preview is not None:
            self.preview.show_email(values, self._sample_values())

    def _problems(self, node_type: NodeType, params: Mapping[str, Any]) -> dict[str, str]:
        """One sentence per parameter from the engine's validation of the edited graph."""
        graph = self.document.graph.with_params(self.node_id or "", params)
        summary = SummaryContext(status_descriptions=self.context.status_codes)
        prefix = f"'{node_type.title(params, summary)}': "
        found: dict[str, str] = {}
        for problem in sorted(validate(graph, self.context), key=lambda p: p.severity != "error"):
            row = self.rows.get(problem.field or "")
            if problem.node_id == self.node_id and row is not None:
                found.setdefault(row.param.name, tidy(problem.message, prefix, row.param.label))
        return found

    def _sample_values(self) -> dict[str, Any] | None:
        if self.sample_record is None:
            return None
        return preview_values(self.sample_record, self.context, self.document.graph.name)
