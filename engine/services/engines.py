"""Running an engine (as a service, or inside the designer) and reading how every
engine on the database is doing."""

from __future__ import annotations

from engine.runtime.engine import Engine
from engine.runtime.scheduler import EngineRunner
from engine.runtime.status import EngineInfo, EngineStatus, engine_status

__all__ = ["Engine", "EngineInfo", "EngineRunner", "EngineStatus", "engine_status"]
