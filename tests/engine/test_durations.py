"""Durations as people write them."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from engine import durations


def test_usable_durations_convert_and_read_naturally() -> None:
    five = {"amount": 5, "unit": "minutes"}
    assert durations.problem(five) is None
    assert durations.to_timedelta(five) == timedelta(minutes=5)
    assert durations.describe({"amount": 1, "unit": "hours"}) == "1 hour"
    assert durations.describe({"amount": 1.5, "unit": "days"}) == "1.5 days"


def test_unusable_durations_say_why() -> None:
    assert "more than zero" in durations.problem({"amount": 0, "unit": "hours"})
    assert "not a unit" in durations.problem({"amount": 2, "unit": "fortnights"})
    assert "amount and a unit" in durations.problem("2h")
    assert "ten years" in durations.problem({"amount": 1e308, "unit": "weeks"})
    assert durations.describe("2h") == "?"


@given(st.dictionaries(st.sampled_from(["amount", "unit", "x"]), st.from_type(object)) | st.none())
def test_problem_never_raises(value: object) -> None:
    assert durations.problem(value) is None or durations.problem(value).endswith(".")
