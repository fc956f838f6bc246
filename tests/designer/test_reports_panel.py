"""The reports panel as an operations manager uses it: pick a period, read, export."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from designer.reports_panel import TABS, ReportsPanel
from engine.clock import ManualClock
from engine.storage.database import Database
from tests.designer.screens import save_screenshot
from tests.engine.test_reports import WAREHOUSE, busy_shop

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def panel(qtbot: QtBot, db: Database, clock: ManualClock, http_server) -> ReportsPanel:
    busy_shop(db, clock, http_server)
    clock.advance(timedelta(days=1))
    widget = ReportsPanel(db, clock)
    qtbot.addWidget(widget)
    widget.resize(1100, 720)
    widget.show()
    widget.worker.wait_for_done(5000)
    return widget


def cells(panel: ReportsPanel, tab: str) -> list[list[str]]:
    table = panel.pages[TABS.index(tab)].table
    return [
        [table.item(r, c).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


def choose(panel: ReportsPanel, qtbot: QtBot, text: str) -> None:
    panel.period.setCurrentIndex(panel.period.findText(text))
    panel.worker.wait_for_done(5000)


def test_the_failing_step_and_the_manual_work_it_caused_are_shown(
    panel: ReportsPanel, qtbot: QtBot
) -> None:
    [failure] = cells(panel, "Failures")
    assert failure[0] == WAREHOUSE
    assert failure[2:] == ["Call a web address", "The web service had an error", "4", "1"]
    assert cells(panel, "Manual work") == [[WAREHOUSE, "1", "0", "2 h 5 min", "2 h 5 min"]]
    assert "50%" in panel.pages[TABS.index("Retries")].headline.text()
    assert "1 run(s)" in panel.pages[TABS.index("Loop guard")].headline.text()
    assert ["Stopped by loop guard", "1"] in cells(panel, "Run outcomes")
    for tab in TABS:
        panel.tabs.setCurrentIndex(TABS.index(tab))
        qtbot.wait(50)
        name = "reports" if tab == "Failures" else f"reports_{tab.lower().replace(' ', '_')}"
        save_screenshot(panel, name)


def test_a_shorter_period_leaves_older_failures_out(
    panel: ReportsPanel, qtbot: QtBot, clock: ManualClock
) -> None:
    clock.advance(timedelta(days=10))

    choose(panel, qtbot, "Last 7 days")
    short = cells(panel, "Failures")
    short_headline = panel.pages[0].headline.text()
    choose(panel, qtbot, "Last 30 days")

    assert short == []
    assert short_headline == "No step failed in this period."
    assert len(cells(panel, "Failures")) == 1


def test_export_saves_the_visible_report(
    panel: ReportsPanel, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "manual.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(target), ""))
    panel.tabs.setCurrentIndex(TABS.index("Manual work"))

    qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)

    assert target.read_text(encoding="utf-8").splitlines() == [
        "graph,tasks,decided,still_open,median_time,max_time",
        f"{WAREHOUSE},1,1,0,7500,7500",
    ]
    assert panel.busy.text() == f"Saved 1 row(s) to {target}."
