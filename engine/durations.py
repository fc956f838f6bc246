"""Durations as people write them: an amount and a unit ("5 minutes", "2 hours").

Graph documents store ``{"amount": 5, "unit": "minutes"}``; the designer edits the
two parts; the runtime turns them into a ``timedelta``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

UNITS: dict[str, timedelta] = {
    "seconds": timedelta(seconds=1),
    "minutes": timedelta(minutes=1),
    "hours": timedelta(hours=1),
    "days": timedelta(days=1),
    "weeks": timedelta(weeks=1),
}

MAX_SECONDS = 3660 * 86400


def problem(value: Any) -> str | None:
    """Why ``value`` is not a usable duration, in plain words; None when it is."""
    if not isinstance(value, dict) or "amount" not in value or "unit" not in value:
        return "Give an amount and a unit, for example 5 minutes."
    amount, unit = value["amount"], value["unit"]
    if not isinstance(unit, str) or unit not in UNITS:
        return f"'{unit}' is not a unit; use one of: {', '.join(UNITS)}."
    if isinstance(amount, bool) or not isinstance(amount, int | float) or amount != amount:
        return f"The amount must be a number, not '{amount}'."
    if amount <= 0:
        return "The amount must be more than zero."
    if amount > MAX_SECONDS / UNITS[unit].total_seconds():
        return "That is more than ten years; use a shorter duration."
    return None


def to_timedelta(value: dict[str, Any]) -> timedelta:
    """The duration as a timedelta (call :func:`problem` first on untrusted input)."""
    return value["amount"] * UNITS[value["unit"]]


def describe(value: Any) -> str:
    """'5 minutes', '1 hour', '1.5 days'; '?' when the value is unusable."""
    if problem(value) is not None:
        return "?"
    amount, unit = value["amount"], value["unit"]
    shown = int(amount) if float(amount).is_integer() else amount
    return f"{shown} {unit[:-1] if shown == 1 else unit}"
