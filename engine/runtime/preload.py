"""The runs and records a round of steps needs, read with one query each.

The items of a round belong to different records (one item per record is claimed), so
their runs and records can be read together before the steps execute instead of one
query each per step. A preloaded row serves one step only: a second step of the same
run in the round (parallel branches) reads again, since the first may have changed it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from engine.runtime.leases import Claim
from engine.runtime.runs import Run, get_runs
from engine.runtime.services import Services
from engine.sources.registry import SourceInfo


class Preload:
    """Runs and records of claimed items, each handed out once."""

    def __init__(self, conn: Connection, services: Services, claims: list[Claim]) -> None:
        self.services = services
        self._runs = get_runs(conn, {claim.run_id for claim in claims})
        wanted: dict[int, tuple[SourceInfo, set[str]]] = {}
        for run in self._runs.values():
            if run.state == "active":
                source = services.versions.get(conn, run.version_id).source
                wanted.setdefault(source.id, (source, set()))[1].add(run.record_key)
        self._records: dict[tuple[int, str], dict[str, Any] | None] = {}
        for source, keys in wanted.values():
            for key, record in services.records.read_many(conn, source, keys).items():
                self._records[(source.id, key)] = record

    def run(self, run_id: str) -> Run | None:
        """The preloaded run, once; None when the caller must read it."""
        return self._runs.pop(run_id, None)

    def record(self, conn: Connection, source: SourceInfo, key: str) -> dict[str, Any] | None:
        if (source.id, key) in self._records:
            return self._records.pop((source.id, key))
        return self.services.records.read(conn, source, key)
