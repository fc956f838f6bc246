"""Screenshots the UI tests save, so a person can look at what was built."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWidget

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def save_screenshot(widget: QWidget, name: str) -> Path:
    """Saves ``widget`` as ``artifacts/screenshots/<name>.png``; fails if nothing was written."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    assert widget.grab().save(str(path)), f"could not save {path}"
    assert path.stat().st_size > 0
    return path
