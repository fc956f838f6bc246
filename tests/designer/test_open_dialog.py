"""Opening a saved automation, and starting a new one from the template gallery."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox
from pytestqt.qtbot import QtBot

from designer.gallery import GalleryDialog, Start
from designer.open_dialog import NAME_ROLE, NO_GRAPHS, OpenDialog
from designer.session import Session
from engine import demo
from engine.clock import ManualClock
from engine.governance import versions
from engine.graph.model import Graph
from engine.storage.database import Database
from tests.designer.screens import save_screenshot
from tests.engine.runtime.support import publish

sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

DELIVERED = "Delivered → confirmation email"
LADDER = "Salesperson not assigned → escalation ladder"
WELCOME = "New customer → welcome journey"


@pytest.fixture
def session(db: Database) -> Session:
    """The demo shop with its three seed automations, saved as drafts."""
    demo.install(db, actor="ana", clock=ManualClock())
    return Session(db, "ana")


def open_dialog(qtbot: QtBot, session: Session) -> OpenDialog:
    dialog = OpenDialog(session.list_graphs())
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def row_texts(dialog: OpenDialog, name: str) -> list[str]:
    row = dialog.visible_names().index(name)
    return [dialog.proxy.index(row, column).data() for column in range(dialog.proxy.columnCount())]


@sqlite_only
def test_typing_filters_and_enter_opens_the_match(qtbot: QtBot, session: Session) -> None:
    dialog = open_dialog(qtbot, session)
    assert dialog.visible_names() == [DELIVERED, WELCOME, LADDER]

    qtbot.keyClicks(dialog.search, "welcome")
    assert dialog.visible_names() == [WELCOME]
    qtbot.keyClick(dialog.search, Qt.Key.Key_Return)

    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.chosen_name() == WELCOME


@sqlite_only
def test_typing_a_record_source_finds_its_automations(qtbot: QtBot, session: Session) -> None:
    dialog = open_dialog(qtbot, session)
    qtbot.keyClicks(dialog.search, "customers")
    assert dialog.visible_names() == [WELCOME]


@sqlite_only
def test_double_click_opens_that_row(qtbot: QtBot, session: Session) -> None:
    dialog = open_dialog(qtbot, session)
    index = dialog.proxy.index(dialog.visible_names().index(LADDER), 0)
    rect = dialog.table.visualRect(index)

    qtbot.mouseClick(dialog.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(dialog.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())

    assert dialog.chosen_name() == LADDER


@sqlite_only
def test_rows_say_what_is_live_and_who_edited_it(
    qtbot: QtBot, session: Session, db: Database
) -> None:
    clock = ManualClock()
    publish(db, DELIVERED, clock)
    publish(db, LADDER, clock)
    versions.set_enabled(db, LADDER, False, actor="ben", clock=clock)

    dialog = open_dialog(qtbot, session)

    assert row_texts(dialog, DELIVERED)[1:4] == ["orders", "Published V1.0", "ana"]
    assert row_texts(dialog, LADDER)[2] == "Disabled (V1.0 is published)"
    assert row_texts(dialog, WELCOME)[1:3] == ["customers", "Draft only"]
    assert row_texts(dialog, WELCOME)[4]  # when it was last edited


@sqlite_only
def test_no_match_says_so_and_cannot_open(qtbot: QtBot, session: Session) -> None:
    dialog = open_dialog(qtbot, session)
    qtbot.keyClicks(dialog.search, "invoices")

    assert dialog.empty.isVisible()
    assert dialog.empty.text() == "No automation matches 'invoices'."
    assert not dialog.buttons.button(QDialogButtonBox.StandardButton.Open).isEnabled()


def test_empty_database_explains_how_to_make_the_first(qtbot: QtBot) -> None:
    dialog = OpenDialog([])
    qtbot.addWidget(dialog)
    dialog.show()

    assert dialog.empty.isVisible()
    assert dialog.empty.text() == NO_GRAPHS
    assert "File → New automation" in dialog.empty.text()


@sqlite_only
def test_open_screenshot(qtbot: QtBot, session: Session, db: Database) -> None:
    publish(db, DELIVERED, ManualClock())
    dialog = open_dialog(qtbot, session)
    save_screenshot(dialog, "open")
    assert dialog.visible_names() == [DELIVERED, WELCOME, LADDER]
    assert [row_texts(dialog, name)[2] for name in dialog.visible_names()] == [
        "Published V1.0",
        "Draft only",
        "Draft only",
    ]
    [chosen] = dialog.table.selectionModel().selectedRows()
    assert chosen.data(NAME_ROLE) == DELIVERED  # Enter opens the first row
    assert dialog.buttons.button(QDialogButtonBox.StandardButton.Open).isEnabled()
    viewport = dialog.table.viewport().rect()
    cells = [(row, column) for row in range(3) for column in range(dialog.proxy.columnCount())]
    cut_off = [
        cell
        for cell in cells
        if not viewport.contains(dialog.table.visualRect(dialog.proxy.index(*cell)))
    ]
    assert cut_off == []  # every row and column is in view
    name_width = dialog.table.fontMetrics().horizontalAdvance(LADDER)
    assert name_width < dialog.table.columnWidth(0)  # the longest name is not shortened


# -- the gallery -----------------------------------------------------------------------


def gallery(qtbot: QtBot, session: Session) -> GalleryDialog:
    dialog = GalleryDialog(session)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


@sqlite_only
def test_template_becomes_a_copy_with_new_ids_and_a_free_name(
    qtbot: QtBot, session: Session
) -> None:
    original = session.open_graph(DELIVERED)
    dialog = gallery(qtbot, session)

    qtbot.mouseClick(dialog.cards["delivered_email"], Qt.MouseButton.LeftButton)

    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.choice is Start.TEMPLATE
    copy = Graph.from_document(dialog.new_document())
    assert copy.name == f"{DELIVERED} (copy)"
    assert copy.id != original.id
    assert {n.id for n in copy.nodes}.isdisjoint({n.id for n in original.nodes})
    assert [n.type for n in copy.nodes] == [n.type for n in original.nodes]
    assert set(copy.layout) == {n.id for n in copy.nodes}
    assert session.save(copy, stored=False).name == f"{DELIVERED} (copy)"


@sqlite_only
def test_blank_and_quick_rule_cards_say_how_to_start(qtbot: QtBot, session: Session) -> None:
    dialog = gallery(qtbot, session)
    qtbot.mouseClick(dialog.cards["quick_rule"], Qt.MouseButton.LeftButton)
    assert (dialog.choice, dialog.new_document()) == (Start.QUICK_RULE, None)

    dialog = gallery(qtbot, session)
    qtbot.mouseClick(dialog.cards["blank"], Qt.MouseButton.LeftButton)
    assert dialog.choice is Start.BLANK


@sqlite_only
def test_templates_need_their_records(qtbot: QtBot, db: Database) -> None:
    dialog = gallery(qtbot, Session(db, "ana"))  # a database without the demo shop

    card = dialog.cards["delivered_email"]
    assert not card.isEnabled()
    assert card.description.text() == (
        "Needs the 'orders' records, which this database does not have."
    )
    assert dialog.cards["blank"].isEnabled()


@sqlite_only
def test_gallery_screenshot(qtbot: QtBot, session: Session) -> None:
    dialog = gallery(qtbot, session)
    save_screenshot(dialog, "gallery")
    assert dialog.windowTitle() == "New automation"
    cards = list(dialog.cards.values())
    assert [card.accessibleName() for card in cards] == [
        "Blank automation",
        "Quick rule…",
        DELIVERED,
        LADDER,
        WELCOME,
    ]
    assert all(card.isVisible() and card.isEnabled() for card in cards)  # the shop has orders
    assert all(dialog.rect().contains(card.geometry()) for card in cards)
    overlapping = [
        (a.accessibleName(), b.accessibleName())
        for i, a in enumerate(cards)
        for b in cards[i + 1 :]
        if a.geometry().intersects(b.geometry())
    ]
    assert overlapping == []
