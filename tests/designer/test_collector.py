"""Cycles are collected on the GUI thread, never on a worker thread that allocates."""

from __future__ import annotations

import gc
import threading
from typing import ClassVar

from designer.collector import GuiThreadCollector


class _Cycle:
    freed_on: ClassVar[list[str]] = []

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        _Cycle.freed_on.append(threading.current_thread().name)


def test_a_worker_thread_that_allocates_never_collects_but_the_gui_timer_does(qtbot) -> None:
    _Cycle.freed_on.clear()
    collector = GuiThreadCollector()
    assert not gc.isenabled()
    _Cycle()  # garbage now, freed only by a collection

    kept: list[object] = []

    def allocate() -> None:
        kept.append([[i] for i in range(50_000)])  # far past generation 0's threshold

    worker = threading.Thread(target=allocate, name="worker")
    worker.start()
    worker.join()
    assert _Cycle.freed_on == []  # the worker's allocations did not set the collector off
    qtbot.waitUntil(lambda: bool(_Cycle.freed_on), timeout=5000)
    assert _Cycle.freed_on == [threading.main_thread().name]
    collector.stop()


def test_stop_collects_what_is_left_and_turns_automatic_collection_back_on(qtbot) -> None:
    gc.enable()  # as before the designer started (the conftest's collector turned it off)
    try:
        collector = GuiThreadCollector()
        assert not gc.isenabled()
        _Cycle.freed_on.clear()
        _Cycle()
        collector.stop()
        assert _Cycle.freed_on == [threading.main_thread().name]
        assert gc.isenabled()
    finally:
        gc.disable()
