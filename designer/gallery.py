"""The template gallery: the ways to start a new automation, as cards to click.

A blank canvas is daunting for someone who has never drawn an automation. The
gallery offers the demo scenarios as templates (copied with fresh ids and a free
name, so the copy never collides with the original) and the quick-rule form next to
the blank canvas. It only decides how to start; the window loads what it returns.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from designer.node_classes import COLOURS
from designer.palette import node_icon, svg_icon
from designer.session import Session
from engine.demo import DEMO_GRAPHS, demo_graph_document
from engine.nodes import catalogue
from engine.nodes.spec import Category
from engine.quick_rules import copy_as_new, unique_name

COLUMNS = 2
CARD_WIDTH = 340
CARD_STYLE = """
QPushButton { text-align: left; border: 1px solid #c9ced6; border-radius: 8px;
              background: white; padding: 10px; }
QPushButton:hover { border-color: #1565c0; background: #f1f6fd; }
QPushButton:disabled { background: #f4f4f4; }
"""


class Start(StrEnum):
    """How the person chose to start."""

    BLANK = "blank"
    TEMPLATE = "template"
    QUICK_RULE = "quick_rule"


class _Card(QPushButton):
    """A clickable card: icon, title in bold, one line saying what it is."""

    def __init__(self, icon: QIcon, title: str, description: str) -> None:
        super().__init__()
        self.setAccessibleName(title)
        self.setStyleSheet(CARD_STYLE)
        picture = QLabel(pixmap=icon.pixmap(36, 36))
        heading = QLabel(f"<b>{title}</b>", wordWrap=True)
        self.description = QLabel(description, wordWrap=True)
        self.description.setStyleSheet("color: #555;")
        words = QVBoxLayout()
        words.addWidget(heading)
        words.addWidget(self.description)
        words.addStretch(1)
        layout = QHBoxLayout(self)
        layout.addWidget(picture, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(words, 1)
        for label in (picture, heading, self.description):
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        # A button ignores its layout's size; wrapped text needs the height it asks for.
        self.setFixedWidth(CARD_WIDTH)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Minimum)
        self.setMinimumHeight(layout.totalHeightForWidth(CARD_WIDTH))


def template_icon(document: dict[str, Any]) -> QIcon:
    """The icon of the template's first step after its trigger (what it mostly does)."""
    for node in document.get("nodes", []):
        node_type = catalogue.get(node["type"])
        if node_type is not None and node_type.category is not Category.TRIGGER:
            return node_icon(node_type)
    return svg_icon("trigger.svg", COLOURS[Category.TRIGGER])


class GalleryDialog(QDialog):
    """Pick a start; read ``choice`` (and ``new_document()`` for a template) after exec()."""

    def __init__(self, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent, windowTitle="New automation")
        self.choice: Start | None = None
        self._document: dict[str, Any] | None = None
        self._taken = [summary.name for summary in session.list_graphs()]
        self._sources = set(session.source_names())
        self.cards: dict[str, _Card] = {}
        grid = QGridLayout()
        for position, (key, card) in enumerate(self._make_cards()):
            self.cards[key] = card
            grid.addWidget(card, position // COLUMNS, position % COLUMNS)
        intro = QLabel("How would you like to start? Click one of these.")
        intro.setStyleSheet("font-size: 12pt; margin-bottom: 6px;")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(grid)
        layout.addWidget(buttons)

    def _make_cards(self) -> list[tuple[str, _Card]]:
        blank = _Card(
            svg_icon("record_new.svg", COLOURS[Category.ACTION]),
            "Blank automation",
            "An empty canvas: add steps from the list on the left.",
        )
        blank.clicked.connect(lambda: self._choose(Start.BLANK))
        quick = _Card(
            svg_icon("trigger.svg", COLOURS[Category.TRIGGER]),
            "Quick rule…",
            "Fill in one sentence: when a status is reached, do one thing.",
        )
        quick.clicked.connect(lambda: self._choose(Start.QUICK_RULE))
        return [("blank", blank), ("quick_rule", quick), *map(self._template_card, DEMO_GRAPHS)]

    def _template_card(self, template: str) -> tuple[str, _Card]:
        document = demo_graph_document(template)
        card = _Card(template_icon(document), str(document["name"]), str(document["description"]))
        source = document.get("source")
        if source is not None and source not in self._sources:
            card.setEnabled(False)
            card.description.setText(
                f"Needs the '{source}' records, which this database does not have."
            )
        card.clicked.connect(lambda: self._use_template(document))
        return template, card

    def _choose(self, choice: Start) -> None:
        self.choice = choice
        self.accept()

    def _use_template(self, document: dict[str, Any]) -> None:
        self._document = copy_as_new(document, unique_name(str(document["name"]), self._taken))
        self._choose(Start.TEMPLATE)

    def new_document(self) -> dict[str, Any] | None:
        """The copied template (new ids, a free name), when ``choice`` is TEMPLATE."""
        return self._document
