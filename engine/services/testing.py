"""Test runs: playing a graph against a record at virtual time, sending nothing
(needs the "test-run a graph" permission: designers and publishers)."""

from __future__ import annotations

from engine.governance.test_run import ScriptedChange, TestRunResult, simulate
from engine.governance.test_run_records import (
    PASTE_HINT,
    RecordChoices,
    parse_record,
    record_choices,
)

__all__ = [
    "PASTE_HINT",
    "RecordChoices",
    "ScriptedChange",
    "TestRunResult",
    "parse_record",
    "record_choices",
    "simulate",
]
