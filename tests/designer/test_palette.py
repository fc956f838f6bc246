"""The palette as a person uses it: type to find a step, drag it or double-click it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from designer.canvas import NODE_MIME
from designer.palette import TYPE_ROLE, Palette
from engine.nodes import catalogue
from tests.designer.screens import save_screenshot


@pytest.fixture
def palette(qtbot: QtBot) -> Palette:
    widget = Palette()
    qtbot.addWidget(widget)
    widget.resize(300, 720)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _item(palette: Palette, type_id: str):  # type: ignore[no-untyped-def]
    for group_index in range(palette.tree.topLevelItemCount()):
        group = palette.tree.topLevelItem(group_index)
        for index in range(group.childCount()):
            if group.child(index).data(0, TYPE_ROLE) == type_id:
                return group.child(index)
    raise AssertionError(f"{type_id} is not in the palette")


def test_every_step_is_offered_in_catalogue_order(palette: Palette) -> None:
    assert palette.visible_type_ids() == [t.type_id for t in catalogue.all_types()]


def test_groups_have_friendly_names(palette: Palette) -> None:
    groups = [palette.tree.topLevelItem(i).text(0) for i in range(palette.tree.topLevelItemCount())]
    assert groups == ["Triggers — when…", "Conditions — check…", "Waits", "Actions", "People"]


def test_an_item_shows_label_icon_and_description(palette: Palette) -> None:
    item = _item(palette, "action.send_email")
    assert item.text(0) == "Send email"
    assert not item.icon(0).isNull()
    assert item.toolTip(0) == catalogue.require("action.send_email").description


def test_typing_email_filters_to_send_email(palette: Palette, qtbot: QtBot) -> None:
    qtbot.keyClicks(palette.search, "email")
    assert palette.visible_type_ids() == ["action.send_email"]
    assert _item(palette, "action.send_email").parent().isHidden() is False
    assert _item(palette, "trigger.status_entered").parent().isHidden() is True


def test_clearing_the_search_shows_everything_again(palette: Palette, qtbot: QtBot) -> None:
    qtbot.keyClicks(palette.search, "email")
    palette.search.clear()
    assert len(palette.visible_type_ids()) == len(catalogue.all_types())


def test_double_click_asks_to_add_the_step(palette: Palette, qtbot: QtBot) -> None:
    item = _item(palette, "wait.duration")
    rect = palette.tree.visualItemRect(item)
    viewport, left = palette.tree.viewport(), Qt.MouseButton.LeftButton
    with qtbot.waitSignal(palette.add_requested) as signal:
        # QTest's double click lacks the first press a real double click starts with.
        qtbot.mouseClick(viewport, left, pos=rect.center())
        qtbot.mouseDClick(viewport, left, pos=rect.center())
    assert signal.args == ["wait.duration"]


def test_keyboard_only_search_down_enter(palette: Palette, qtbot: QtBot) -> None:
    qtbot.keyClicks(palette.search, "sms")
    qtbot.keyClick(palette.search, Qt.Key.Key_Down)
    assert palette.tree.hasFocus()
    assert palette.tree.currentItem().data(0, TYPE_ROLE) == "action.send_sms"
    with qtbot.waitSignal(palette.add_requested) as signal:
        qtbot.keyClick(palette.tree, Qt.Key.Key_Return)
    assert signal.args == ["action.send_sms"]


def test_enter_in_the_search_box_adds_the_first_match(palette: Palette, qtbot: QtBot) -> None:
    qtbot.keyClicks(palette.search, "approval")
    with qtbot.waitSignal(palette.add_requested) as signal:
        qtbot.keyClick(palette.search, Qt.Key.Key_Return)
    assert signal.args == ["human.approval"]


def test_a_drag_carries_the_type_id_in_the_canvas_format(palette: Palette) -> None:
    item = _item(palette, "action.webhook")
    mime = palette.tree.mimeData([item])
    assert mime.formats() == [NODE_MIME]
    assert bytes(mime.data(NODE_MIME)).decode() == "action.webhook"


def test_group_headings_cannot_be_dragged(palette: Palette) -> None:
    group = palette.tree.topLevelItem(0)
    assert not group.flags() & Qt.ItemFlag.ItemIsDragEnabled
    assert _item(palette, "action.webhook").flags() & Qt.ItemFlag.ItemIsDragEnabled


def test_screenshot(palette: Palette) -> None:
    email = _item(palette, "action.send_email")
    palette.tree.setCurrentItem(email)
    save_screenshot(palette, "palette")
    assert palette.tree.currentItem().text(0) == "Send email"
    viewport = palette.tree.viewport().rect()
    assert viewport.contains(palette.tree.visualItemRect(email))  # the chosen step is in view
