"""The quick-rule form: "When status is DEL on orders, do send an email", in one sentence.

Most automations are one trigger and one action; this form makes them without the
canvas. The form asks only the few fields the action needs, with the labels, help
and defaults of the node type's own declaration, and the graph it makes comes from
``engine.quick_rules``. Before anything is stored the graph is validated against the
record source, and the problems are shown next to the fields they are about.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from designer.session import Session
from engine.errors import StatusFlowError
from engine.graph.context import ValidationContext
from engine.graph.model import Graph
from engine.graph.validation import Problem, validate
from engine.nodes import catalogue
from engine.nodes.spec import ChoicesSource, Param, ParamKind, SummaryContext
from engine.quick_rules import (
    QUICK_ACTIONS,
    TRIGGER_TYPE,
    QuickAction,
    build_quick_rule,
    name_problem,
    unique_name,
)

LONG_TEXTS = frozenset({"body_text", "message", "note"})  # several lines to write in
PROBLEM_STYLE = "color: #c62828;"
HINT = "It is saved as a draft; open it on the canvas to add waits, checks or more steps."

Editor = QLineEdit | QPlainTextEdit | QComboBox


def _fill_codes(combo: QComboBox, codes: Mapping[str, str]) -> None:
    """Put "DEL – Delivered" entries in a combo, keeping the chosen code if it still exists."""
    chosen = combo.currentData()
    combo.clear()
    for code, description in codes.items():
        combo.addItem(f"{code} – {description}" if description else code, code)
    combo.setCurrentIndex(max(combo.findData(chosen), 0))


def _editor(param: Param, roles: tuple[str, ...]) -> Editor:
    if param.kind is ParamKind.CHOICE:
        combo = QComboBox()
        for role in roles if param.choices_source is ChoicesSource.ROLES else ():
            combo.addItem(role, role)
        return combo
    if param.kind is ParamKind.MULTILINE or param.name in LONG_TEXTS:
        text = QPlainTextEdit(str(param.default or ""), placeholderText=param.placeholder)
        text.setFixedHeight(90)
        return text
    return QLineEdit(str(param.default or ""), placeholderText=param.placeholder)


def _value(editor: Editor) -> Any:
    if isinstance(editor, QComboBox):
        return editor.currentData()
    if isinstance(editor, QPlainTextEdit):
        return editor.toPlainText()
    return editor.text()


class _ActionForm(QWidget):
    """The fields one quick action asks for, built from its node type's parameters."""

    def __init__(self, action: QuickAction, roles: tuple[str, ...]) -> None:
        super().__init__()
        self.action = action
        node_type = catalogue.require(action.type_id)
        self.editors: dict[str, Editor] = {}
        self.labels: dict[str, QLabel] = {}
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        for name in action.fields:
            param = node_type.param(name)
            editor = _editor(param, roles)
            editor.setToolTip(param.help)
            editor.setAccessibleName(param.label)
            self.labels[name] = QLabel(f"{param.label}:", toolTip=param.help)
            self.editors[name] = editor
            form.addRow(self.labels[name], editor)

    def values(self) -> dict[str, Any]:
        return {name: _value(editor) for name, editor in self.editors.items()}

    def set_codes(self, codes: Mapping[str, str]) -> None:
        node_type = catalogue.require(self.action.type_id)
        for name, editor in self.editors.items():
            is_code = node_type.param(name).choices_source is ChoicesSource.STATUS_CODES
            if is_code and isinstance(editor, QComboBox):
                _fill_codes(editor, codes)


class QuickRuleDialog(QDialog):
    """Fill in the sentence, press Create; ``created_name()`` is the stored graph's name."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent, windowTitle="Quick rule")
        self.session = session
        self._created: str | None = None
        self._taken = [summary.name for summary in session.list_graphs()]
        self._context = ValidationContext()
        self._name_typed = False
        self.name = QLineEdit(placeholderText="Name of the automation")
        self.name.setAccessibleName("Name")
        self.code, self.source, self.action = QComboBox(), QComboBox(), QComboBox()
        self.forms = [_ActionForm(action, tuple(self._context.roles)) for action in QUICK_ACTIONS]
        self.pages = QStackedWidget()
        for action, form in zip(QUICK_ACTIONS, self.forms, strict=True):
            self.action.addItem(action.verb, action.type_id)
            self.pages.addWidget(form)
        self.problems = QLabel(wordWrap=True, styleSheet=PROBLEM_STYLE, visible=False)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.create_button = self.buttons.addButton(
            "Create", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self._lay_out()
        self._wire()
        self.source.addItems(session.source_names())
        self.resize(640, 0)

    def _lay_out(self) -> None:
        sentence = QHBoxLayout()
        for part in ("When status is", self.code, "on", self.source, "then", self.action):
            sentence.addWidget(QLabel(part) if isinstance(part, str) else part)
        sentence.addStretch(1)
        self.name_label = QLabel("Name:")
        top = QFormLayout()
        top.addRow(self.name_label, self.name)
        hint = QLabel(HINT, wordWrap=True, styleSheet="color: #555;")
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(sentence)
        layout.addWidget(self.pages)
        layout.addWidget(self.problems)
        layout.addWidget(hint)
        layout.addWidget(self.buttons)

    def _wire(self) -> None:
        self.source.currentTextChanged.connect(self._source_chosen)
        self.action.currentIndexChanged.connect(self.pages.setCurrentIndex)
        self.action.currentIndexChanged.connect(lambda _index: self._suggest_name())
        self.code.currentIndexChanged.connect(lambda _index: self._suggest_name())
        self.name.textEdited.connect(lambda _text: setattr(self, "_name_typed", True))
        self.buttons.accepted.connect(self.create_rule)
        self.buttons.rejected.connect(self.reject)

    # -- following the person's choices --------------------------------------------------

    def _source_chosen(self, source: str) -> None:
        try:
            self._context = self.session.context(source or None)
        except StatusFlowError as exc:
            self._show([str(exc)])
            return
        _fill_codes(self.code, self._context.status_codes)
        for form in self.forms:
            form.set_codes(self._context.status_codes)
        self._suggest_name()

    def _suggest_name(self) -> None:
        """Name the rule after its sentence until the person types a name of their own."""
        if self._name_typed:
            return
        code = self.code.currentData()
        status = self._context.status_codes.get(code) or code or "Status"
        self.name.setText(unique_name(f"{status} → {self.action.currentText()}", self._taken))

    def form(self) -> _ActionForm:
        return self.forms[self.action.currentIndex()]

    # -- creating -----------------------------------------------------------------------

    def document(self) -> dict[str, Any]:
        """The graph the form describes now."""
        code = self.code.currentData()
        return build_quick_rule(
            name=self.name.text(),
            source=self.source.currentText() or None,
            codes=[code] if code else [],
            action_type=self.action.currentData(),
            params=self.form().values(),
        )

    def create_rule(self) -> None:
        """Validate, and store the rule as a new graph only when nothing is wrong."""
        graph = Graph.from_document(self.document())
        found = self._problems(graph)
        if found:
            self._show([message for _field, message in found], {f for f, _m in found})
            return
        try:
            summary = self.session.save(graph, stored=False)
        except StatusFlowError as exc:
            self._show([str(exc)])
            return
        self._created = summary.name
        self.accept()

    def _problems(self, graph: Graph) -> list[tuple[str | None, str]]:
        """(field, sentence) for the name and for every error validation finds."""
        found: list[tuple[str | None, str]] = []
        if refusal := name_problem(self.name.text(), self._taken):
            found.append(("name", refusal))
        for problem in validate(graph, self._context):
            if problem.severity == "error":
                found.append((problem.field, self._words(problem, graph)))
        return found

    def _words(self, problem: Problem, graph: Graph) -> str:
        """The message without the canvas title of the step: the form has no steps."""
        node = graph.node(problem.node_id or "")
        if node is None:
            return problem.message
        summary = SummaryContext(status_descriptions=self._context.status_codes)
        title = catalogue.require(node.type).title(node.params, summary)
        words = problem.message.removeprefix(f"'{title}': ")
        return f"When status is: {words}" if node.type == TRIGGER_TYPE else words

    def _show(self, messages: list[str], fields: set[str | None] | None = None) -> None:
        self.problems.setText("\n".join(f"• {message}" for message in messages))
        self.problems.setVisible(bool(messages))
        marked = fields or set()
        labels = {"name": self.name_label, **self.form().labels}
        for field, label in labels.items():
            label.setStyleSheet(PROBLEM_STYLE if field in marked else "")

    def created_name(self) -> str | None:
        return self._created
