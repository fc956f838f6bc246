"""The worker runs slow calls off the GUI thread and reports back on the GUI thread."""

from __future__ import annotations

import threading

from PySide6.QtCore import QThread
from PySide6.QtWidgets import QMessageBox, QWidget

from designer.worker import INTERNAL_ERROR, Worker, show_failure
from engine.errors import StatusFlowError


def test_result_comes_back_on_the_gui_thread_and_busy_ends(qtbot) -> None:
    worker = Worker()
    busy: list[bool] = []
    worker.busy_changed.connect(busy.append)
    seen: dict[str, object] = {}
    release = threading.Event()

    def slow() -> int:
        seen["call_thread"] = QThread.currentThread()
        release.wait(5)
        return 42

    def done(result: int) -> None:
        seen["result"], seen["done_thread"] = result, QThread.currentThread()

    worker.run(slow, done, lambda exc: seen.setdefault("error", exc))
    assert worker.busy and busy == [True]  # the call is still waiting: the GUI is free
    release.set()
    qtbot.waitUntil(lambda: "result" in seen, timeout=5000)
    gui = QThread.currentThread()
    assert seen["result"] == 42
    assert seen["call_thread"] is not gui
    assert seen["done_thread"] is gui
    assert busy == [True, False] and not worker.busy
    assert "error" not in seen


def test_an_exception_reaches_on_error_not_on_done(qtbot) -> None:
    worker = Worker()
    errors: list[Exception] = []
    results: list[object] = []

    def refused() -> None:
        raise ValueError("You may not do that.")

    worker.run(refused, results.append, errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert [str(e) for e in errors] == ["You may not do that."]
    assert results == [] and not worker.busy


def test_busy_lasts_until_the_last_of_several_calls_reports(qtbot) -> None:
    worker = Worker(max_threads=2)
    busy: list[bool] = []
    worker.busy_changed.connect(busy.append)
    first, second = threading.Event(), threading.Event()
    results: list[str] = []
    worker.run(lambda: first.wait(5) and "first", results.append, print)
    worker.run(lambda: second.wait(5) and "second", results.append, print)
    first.set()
    qtbot.waitUntil(lambda: results == ["first"], timeout=5000)
    assert worker.busy and busy == [True]
    second.set()
    qtbot.waitUntil(lambda: len(results) == 2, timeout=5000)
    assert busy == [True, False]


def test_a_refusal_shows_its_sentence_and_a_bug_is_logged_not_shown(
    qtbot, monkeypatch, caplog
) -> None:
    shown: list[tuple[str, str, str]] = []
    for kind in ("warning", "critical"):
        monkeypatch.setattr(
            QMessageBox,
            kind,
            lambda _parent, title, text, kind=kind: shown.append((kind, title, text)),
        )
    parent = QWidget()
    qtbot.addWidget(parent)
    parent.show()
    show_failure(parent, "Not published", StatusFlowError("V1.0 is rejected."))
    show_failure(parent, "Not published", KeyError("version"))
    assert shown == [
        ("warning", "Not published", "V1.0 is rejected."),
        ("critical", "Not published", INTERNAL_ERROR),
    ]
    assert "KeyError" in caplog.text
    parent.close()  # a late answer to a closed window is logged, never a modal box
    show_failure(parent, "Could not read your tasks", StatusFlowError("The database is gone."))
    assert len(shown) == 2
    assert "Could not read your tasks (window closed): The database is gone." in caplog.text
