"""Records of a source as the designer previews them."""

from __future__ import annotations

from typing import Any

from engine.runtime.records import RecordStore
from engine.sources import registry
from engine.storage.database import Database


def sample_record(db: Database, source: str) -> dict[str, Any] | None:
    """One record of the source, for previews (the lowest key); None when it is empty."""
    store = RecordStore()
    with db.read() as conn:
        info = registry.get_source(conn, source)
        keys = store.first_keys(conn, info, 1)
        return store.read(conn, info, keys[0]) if keys else None
