"""What the designer remembers between starts, per person (QSettings): the window's
size and docks, and the automation worked on last."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow

from engine.graphs import GraphSummary

SETTINGS_ORG, SETTINGS_APP = "StatusFlow", "Designer"
LAYOUT_VERSION = 4  # bump when the docks change: an older saved layout is then ignored
DEFAULT_SIZE = (1400, 860)


def _settings() -> QSettings:
    return QSettings(SETTINGS_ORG, SETTINGS_APP)


def restore_layout(window: QMainWindow) -> bool:
    """Size and docks as the person left them; False when there was no usable layout
    (first start, or docks changed since), so the caller lays out its defaults."""
    settings = _settings()
    geometry = settings.value("geometry")
    if isinstance(geometry, QByteArray):
        window.restoreGeometry(geometry)
    else:
        window.resize(*DEFAULT_SIZE)
    state = settings.value("state")
    return isinstance(state, QByteArray) and window.restoreState(state, LAYOUT_VERSION)


def save_layout(window: QMainWindow) -> None:
    settings = _settings()
    settings.setValue("geometry", window.saveGeometry())
    settings.setValue("state", window.saveState(LAYOUT_VERSION))


def remember_graph(graph_id: str) -> None:
    _settings().setValue("last_graph", graph_id)


def graph_to_reopen(summaries: Sequence[GraphSummary]) -> GraphSummary | None:
    """The automation worked on last here, else the one changed last, else none."""
    remembered = _settings().value("last_graph")
    latest = sorted(
        summaries,
        key=lambda g: g.updated_at.timestamp() if g.updated_at else 0.0,
        reverse=True,
    )
    return next((g for g in latest if g.id == remembered), None) or next(iter(latest), None)
