"""Failed attempts are read under the step they retried, wherever they happened."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.runtime.timeline import StepLine, with_attempts

AT = datetime(2026, 1, 5, 9, tzinfo=UTC)


def step(kind: str, node: str) -> StepLine:
    return StepLine(AT, kind, f"{kind} on {node}", node, None, None, None, None, None)


def test_attempts_go_under_the_step_of_their_node_and_others_stay_in_order() -> None:
    steps = [
        step("trigger", "start"),  # 0
        step("retry", "hook"),  # 1
        step("retry", "mail"),  # 2: another node's attempt, not followed by its step
        step("retry", "hook"),  # 3
        step("action", "hook"),  # 4: the step the hook attempts retried
    ]

    assert with_attempts(steps) == [(0, []), (2, []), (4, [1, 3])]


def test_attempts_of_a_step_still_retrying_stay_at_the_end() -> None:
    steps = [step("trigger", "start"), step("retry", "hook"), step("retry", "hook")]

    assert with_attempts(steps) == [(0, []), (1, []), (2, [])]
