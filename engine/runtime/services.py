"""What executors may use besides the database: secrets, records, senders, caches."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from typing import Any

from sqlalchemy import Connection

from engine.runtime.index import Versions
from engine.runtime.records import RecordStore
from engine.secrets import SecretStore
from engine.settings import get_setting, organisation_zone
from engine.sources.registry import SourceInfo
from engine.sources.status_codes import STATUS_CODES_CHANGED, list_codes


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
    zone: tzinfo = UTC  # the organisation's time zone (engine.settings)
    _descriptions: dict[int, dict[str, str]] = field(default_factory=dict)
    _codes_seen: Any = None  # the STATUS_CODES_CHANGED token the descriptions were read at

    def refresh(self, conn: Connection) -> None:
        """Pick up newly published versions; status codes are read again after one."""
        if self.versions.refresh(conn):
            self._descriptions.clear()

    def read_settings(self, conn: Connection) -> None:
        """The time zone, and whether a status code catalogue changed since the
        descriptions were read. The engine calls this at start and on each heartbeat,
        so an admin's change reaches every engine within seconds at no cost per step."""
        self.zone = organisation_zone(conn)
        changed = get_setting(conn, STATUS_CODES_CHANGED)
        if changed != self._codes_seen:
            self._descriptions.clear()
            self._codes_seen = changed

    def load_descriptions(self, conn: Connection, source: SourceInfo) -> None:
        """Status code descriptions, read once per source (again after a publish, or a
        catalogue change that ``read_settings`` noticed)."""
        if source.id not in self._descriptions:
            codes = list_codes(conn, source.name)
            self._descriptions[source.id] = {c.code: c.description for c in codes}

    def status_description(self, source: SourceInfo, code: Any) -> str | None:
        return self._descriptions.get(source.id, {}).get(str(code)) if code is not None else None
