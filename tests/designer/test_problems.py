"""Live validation and the problems panel, driven the way the designer drives them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from designer.document import GraphDocument
from designer.problems import (
    EMPTY_TEXT,
    NODE_ROLE,
    STEP_ROLE,
    ProblemsPanel,
    problems_by_node,
    summary,
)
from designer.validation_runner import ValidationRunner
from engine.graph.context import ValidationContext
from engine.graph.model import Graph, PortRef, new_edge, new_node
from engine.graph.validation import Problem, validate
from tests.designer.screens import save_screenshot

NO_TRIGGER = "This graph has no trigger"


def valid_graph() -> tuple[Graph, str]:
    """'Started by hand' → 'Send email'; returns the graph and the email step's id."""
    trigger = new_node("trigger.manual")
    email = new_node(
        "action.send_email", {"subject": "Your order {{ record_key }}", "body_text": "Hello"}
    )
    edge = new_edge(PortRef(trigger.id, "out"), PortRef(email.id, "in"))
    graph = Graph(
        id="g1", name="Order mail", source="orders", nodes=(trigger, email), edges=(edge,)
    )
    return graph, email.id


@pytest.fixture
def document() -> GraphDocument:
    return GraphDocument(Graph(id="g0", name="New graph"))


@pytest.fixture
def runner(document: GraphDocument) -> Iterator[ValidationRunner]:
    checker = ValidationRunner(document, delay_ms=50)
    yield checker
    checker.wait_for_done()


@pytest.fixture
def panel(qtbot: QtBot, document: GraphDocument) -> ProblemsPanel:
    widget = ProblemsPanel(document)
    qtbot.addWidget(widget)
    widget.resize(520, 220)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


# -- the runner ---------------------------------------------------------------------------


def test_empty_graph_has_no_trigger_then_a_valid_graph_is_clean(
    qtbot: QtBot, document: GraphDocument, runner: ValidationRunner
) -> None:
    with qtbot.waitSignal(runner.problems_changed) as first:
        runner.refresh()
    assert [p.message.startswith(NO_TRIGGER) for p in first.args[0]] == [True]
    with qtbot.waitSignal(runner.problems_changed) as second:
        document.load(valid_graph()[0])
    assert second.args == [[]]


def test_clearing_a_required_field_reports_it_on_that_step(
    qtbot: QtBot, document: GraphDocument, runner: ValidationRunner
) -> None:
    graph, email_id = valid_graph()
    document.load(graph)
    params = dict(graph.node(email_id).params, subject="")
    with qtbot.waitSignal(runner.problems_changed) as signal:
        document.set_params(email_id, params)
    [problem] = signal.args[0]
    assert (problem.node_id, problem.field, problem.severity) == (email_id, "subject", "error")
    assert "Subject is required" in problem.message


def test_quick_edits_are_checked_once_after_the_pause(
    qtbot: QtBot, document: GraphDocument
) -> None:
    graph, email_id = valid_graph()
    document.load(graph)
    runner = ValidationRunner(document, delay_ms=300)
    results: list[list[Problem]] = []
    runner.problems_changed.connect(results.append)
    for subject in ("H", "He", ""):
        document.set_params(email_id, dict(graph.node(email_id).params, subject=subject))
    qtbot.wait(100)
    assert results == []  # nothing is checked while the person is still typing
    qtbot.waitUntil(lambda: bool(results))
    qtbot.wait(100)
    runner.wait_for_done()
    assert len(results) == 1
    assert [p.field for p in results[0]] == ["subject"]


def test_stale_results_are_dropped(
    qtbot: QtBot, document: GraphDocument, runner: ValidationRunner
) -> None:
    results: list[list[Problem]] = []
    runner.problems_changed.connect(results.append)
    runner.refresh()  # the empty graph: its result cannot arrive before the next check
    document.load(valid_graph()[0])
    runner.refresh()
    qtbot.waitUntil(lambda: bool(results))
    runner.wait_for_done()
    qtbot.wait(100)
    assert results == [[]]
    assert runner.problems == []


def test_a_new_context_is_checked_at_once(
    qtbot: QtBot, document: GraphDocument, runner: ValidationRunner
) -> None:
    trigger = new_node("trigger.status_entered", {"codes": ["XYZ"]})
    document.load(Graph(id="g2", name="Status", source="orders", nodes=(trigger,)))
    known = ValidationContext(
        source="orders", status_codes={"DEL": "Delivered"}, lookups_known=True
    )
    with qtbot.waitSignal(runner.problems_changed) as signal:
        runner.set_context(known)
    [problem] = signal.args[0]
    assert problem.node_id == trigger.id
    assert "no status code 'XYZ'" in problem.message


# -- the panel ----------------------------------------------------------------------------


def _two_problems(document: GraphDocument) -> tuple[list[Problem], str, str]:
    """A loose wait (a warning) and an email without a subject (an error), as validated."""
    graph, email_id = valid_graph()
    wait = new_node("wait.duration")
    graph = graph.with_node(wait, (300.0, 0.0)).with_params(
        email_id, dict(graph.node(email_id).params, subject="")
    )
    document.load(graph)
    problems = validate(graph, ValidationContext())
    assert [p.severity for p in problems] == ["warning", "error"]
    return problems, email_id, wait.id


def test_empty_state_says_the_graph_can_be_submitted(panel: ProblemsPanel) -> None:
    panel.set_problems([])
    assert panel.empty.isVisible()
    assert not panel.list.isVisible()
    assert panel.empty.text() == EMPTY_TEXT
    assert panel.count.isHidden()


def test_errors_come_first_under_their_step_title(
    panel: ProblemsPanel, document: GraphDocument
) -> None:
    problems, email_id, wait_id = _two_problems(document)
    panel.set_problems(problems)
    rows = [panel.list.item(i) for i in range(panel.list.count())]
    assert [row.data(NODE_ROLE) for row in rows] == [email_id, wait_id]
    assert rows[0].data(STEP_ROLE) == "Email ‹email›: …"
    assert rows[0].text() == "Subject is required. Fill it in."
    assert rows[0].toolTip() == "'Email ‹email›: …': Subject is required. Fill it in."
    assert rows[1].data(STEP_ROLE) == "Wait 5 minutes"
    assert rows[1].text().startswith("'Wait 5 minutes' is not connected to a trigger")
    assert panel.count.text() == "1 error, 1 warning"
    assert panel.list.isVisible()
    assert not panel.empty.isVisible()


def test_a_graph_wide_problem_is_shown_as_about_the_whole_graph(panel: ProblemsPanel) -> None:
    panel.set_problems([Problem(None, None, "This graph has no trigger.")])
    assert panel.list.item(0).data(STEP_ROLE) == "The whole graph"


def test_double_clicking_a_problem_asks_for_its_step(
    qtbot: QtBot, panel: ProblemsPanel, document: GraphDocument
) -> None:
    problems, email_id, _wait_id = _two_problems(document)
    panel.set_problems(problems)
    centre = panel.list.visualItemRect(panel.list.item(0)).center()
    viewport, left = panel.list.viewport(), Qt.MouseButton.LeftButton
    with qtbot.waitSignal(panel.node_requested) as signal:
        qtbot.mouseClick(viewport, left, pos=centre)
        qtbot.mouseDClick(viewport, left, pos=centre)
    assert signal.args == [email_id]


def test_summary_counts_errors_and_warnings() -> None:
    error, warning = Problem(None, None, "e"), Problem(None, None, "w", "warning")
    assert summary([error, error, warning]) == "2 errors, 1 warning"
    assert summary([warning, warning]) == "2 warnings"
    assert summary([]) == "No problems"


def test_problems_by_node_feeds_the_canvas_markers() -> None:
    problems = [
        Problem("a", None, "look at this", "warning"),
        Problem(None, None, "graph-wide"),
        Problem("a", "subject", "fix this"),
        Problem("b", None, "and this"),
    ]
    assert problems_by_node(problems) == {"a": ["fix this", "look at this"], "b": ["and this"]}


def test_screenshot(panel: ProblemsPanel, document: GraphDocument) -> None:
    panel.set_problems(_two_problems(document)[0])
    save_screenshot(panel, "problems")
    assert panel.count.text() == "1 error, 1 warning"
    rows = [panel.list.item(i) for i in range(panel.list.count())]
    assert len(rows) == 2 and rows[0].text() == "Subject is required. Fill it in."
    viewport = panel.list.viewport().rect()
    assert all(viewport.contains(panel.list.visualItemRect(row)) for row in rows)  # in view
