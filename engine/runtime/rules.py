"""Evaluating condition rules against a record: comparisons, never ``eval``.

Values typed in a form arrive as text; they are compared as numbers or dates when the
record field is one, so "amount is greater than 500" means what a person means.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.nodes.operators import OPERATORS


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        return None


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    try:
        return datetime.fromisoformat(str(value).strip()).replace(tzinfo=None)
    except ValueError:
        return None


def _comparable(left: Any, right: Any) -> tuple[Any, Any]:
    """Both sides as numbers, as moments, or as case-folded text."""
    for convert in (_number, _moment):
        a, b = convert(left), convert(right)
        if a is not None and b is not None:
            return a, b
    return str(left).strip().casefold(), str(right).strip().casefold()


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | tuple) and not value)


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    return [part.strip() for part in str(value).split(",") if part.strip()]


def holds(rule: Mapping[str, Any], record: Mapping[str, Any], start: Mapping[str, Any]) -> bool:
    """Whether one rule holds for the record (``start``: the record when the run began)."""
    name, operator, expected = rule["field"], rule["operator"], rule.get("value")
    actual = record.get(name)
    if operator == "is_empty":
        return _empty(actual)
    if operator == "is_not_empty":
        return not _empty(actual)
    if operator == "changed_since_start":
        return str(actual) != str(start.get(name)) if name in start else False
    if operator == "one_of":
        return any(_equal(actual, option) for option in _as_list(expected))
    if operator == "contains":
        if isinstance(actual, list | tuple):
            return any(_equal(item, expected) for item in actual)
        return str(expected).casefold() in str(actual or "").casefold()
    if actual is None:
        return operator == "not_equals" and not _empty(expected)
    if operator in ("equals", "not_equals"):
        return _equal(actual, expected) == (operator == "equals")
    a, b = _comparable(actual, expected)
    try:
        return a < b if operator == "less_than" else a > b
    except TypeError:  # text against number: not comparable, so the rule does not hold
        return False


def _equal(actual: Any, expected: Any) -> bool:
    a, b = _comparable(actual, expected)
    return a == b


def evaluate(
    rules: Mapping[str, Any], record: Mapping[str, Any], start: Mapping[str, Any]
) -> tuple[bool, list[str]]:
    """The verdict and, per rule, a plain sentence of what was found."""
    results = [holds(rule, record, start) for rule in rules["rules"]]
    verdict = all(results) if rules["match"] == "all" else any(results)
    explained = [
        f"{rule['field']} {OPERATORS[rule['operator']].label}"
        + (f" {rule.get('value')}" if OPERATORS[rule["operator"]].takes_value else "")
        + f": {'yes' if ok else 'no'} (it is {record.get(rule['field'])!r})"
        for rule, ok in zip(rules["rules"], results, strict=True)
    ]
    return verdict, explained
