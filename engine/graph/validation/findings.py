"""What a check reports: a problem on a step or a parameter, in a sentence."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]
Finding = tuple[str, Severity]  # a sentence about one value, before it names its step


@dataclass(frozen=True)
class Problem:
    """One thing to fix (error) or to look at (warning); ``field`` is a parameter name."""

    node_id: str | None
    field: str | None
    message: str
    severity: Severity = "error"


def listing(names: Iterable[str], limit: int = 25) -> str:
    """The choices a sentence offers, cut short so a long catalogue stays readable."""
    shown = list(names)
    more = ", …" if len(shown) > limit else ""
    return (", ".join(shown[:limit]) + more) if shown else "(none yet)"
