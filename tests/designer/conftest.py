"""Fixtures for the designer's widget tests: the demo graph, its record source's facts."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from typing import Any

import pytest

from designer.document import GraphDocument
from engine.demo import demo_graph_document
from engine.graph.context import ValidationContext
from engine.graph.model import Graph


@pytest.fixture
def orders_context() -> ValidationContext:
    return ValidationContext(
        source="orders",
        status_codes={"NEW": "New", "DEL": "Delivered", "SNA": "Salesperson not assigned"},
        fields={
            "id": "number",
            "customer_name": "text",
            "email": "text",
            "amount": "number",
            "delivery_date": "date",
            "status": "text",
        },
        lookups_known=True,
    )


@pytest.fixture
def sample_order() -> dict[str, Any]:
    return {
        "id": 17,
        "customer_name": "Anna Berg",
        "email": "anna.berg@example.com",
        "amount": 129.5,
        "delivery_date": "2024-05-02",
        "status": "DEL",
    }


@pytest.fixture
def delivered_email() -> GraphDocument:
    """The seed scenario "when an order is delivered, email the client"."""
    return GraphDocument(Graph.from_document(demo_graph_document("delivered_email")))


@pytest.fixture(autouse=True)
def message_boxes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Message boxes are modal: in a test they would wait forever. Record them instead
    (title, text); questions are answered "Cancel" unless a test says otherwise."""
    from PySide6.QtWidgets import QMessageBox

    shown: list[tuple[str, str]] = []

    def record(answer: QMessageBox.StandardButton):  # type: ignore[no-untyped-def]
        def show(_parent: object, title: str, text: str, *_args: object, **_kw: object):  # type: ignore[no-untyped-def]
            shown.append((title, text))
            return answer

        return show

    for name in ("warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, name, record(QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "question", record(QMessageBox.StandardButton.Cancel))
    return shown


@pytest.fixture(autouse=True)
def own_settings(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Window layouts and remembered names go to a test folder, not the user's."""
    from PySide6.QtCore import QSettings

    folder = str(tmp_path_factory.mktemp("qsettings"))
    for form in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(form, QSettings.Scope.UserScope, folder)


@pytest.fixture(autouse=True)
def collect_on_gui_thread(qapp: Any) -> Iterator[None]:
    """As in the application: cycles are collected on the GUI thread only, so a worker
    thread never frees a widget (which crashes Qt)."""
    from designer.collector import GuiThreadCollector

    collector = GuiThreadCollector()
    yield
    collector.stop()
    collector.deleteLater()
