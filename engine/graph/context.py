"""What validation may look up about the world a graph runs in.

A graph names its record source; whether "DEL" is a status code or "email" a field
depends on that source's rows in the database. Validation gets those facts through
this object so it stays a pure function (and testable without a database). When a
graph is checked without a database, ``lookups_known`` is False and the checks that
need these facts are skipped instead of flagging every code and field as unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.storage.tables import ROLES

FIELD_TYPES = ("text", "number", "date", "datetime", "boolean")
DATE_TYPES = frozenset({"date", "datetime"})


@dataclass(frozen=True)
class ValidationContext:
    """Facts about ``source``: status codes (code → description), fields (name → type
    from FIELD_TYPES), labels, usernames and roles."""

    source: str | None = None
    status_codes: Mapping[str, str] = field(default_factory=dict)
    fields: Mapping[str, str] = field(default_factory=dict)
    labels: frozenset[str] = frozenset()
    users: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset(ROLES)
    lookups_known: bool = False

    def describes(self, source: str | None) -> bool:
        """True when codes, fields, labels and users can be checked for ``source``."""
        return self.lookups_known and source is not None and self.source == source

    def date_fields(self) -> list[str]:
        return [name for name, kind in self.fields.items() if kind in DATE_TYPES]
