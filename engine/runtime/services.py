"""What executors may use besides the database: secrets, records, senders, caches."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from engine.runtime.index import Versions
from engine.runtime.records import RecordStore
from engine.secrets import SecretStore
from engine.sources.registry import SourceInfo
from engine.sources.status_codes import list_codes


@dataclass
class Services:
    """Shared by every step an engine executes.

    ``dry_run`` makes email, SMS and webhook steps render without sending: the
    governance test run uses it to show exactly what would go out.
    """

    secrets: SecretStore = field(default_factory=SecretStore)
    records: RecordStore = field(default_factory=RecordStore)
    versions: Versions = field(default_factory=Versions)
    engine_id: str = "engine"
    dry_run: bool = False
    _descriptions: dict[int, dict[str, str]] = field(default_factory=dict)

    def refresh(self, conn: Connection) -> None:
        """Pick up newly published versions; status codes are read again after one."""
        if self.versions.refresh(conn):
            self._descriptions.clear()

    def load_descriptions(self, conn: Connection, source: SourceInfo) -> None:
        """Status code descriptions, read once per source (again after a publish)."""
        if source.id not in self._descriptions:
            codes = list_codes(conn, source.name)
            self._descriptions[source.id] = {c.code: c.description for c in codes}

    def status_description(self, source: SourceInfo, code: Any) -> str | None:
        return self._descriptions.get(source.id, {}).get(str(code)) if code is not None else None
