"""Evaluating condition rules against a record: comparisons, never ``eval``.

Values typed in a form arrive as text; they are compared as numbers or dates when the
record field is one, so "amount is greater than 500" means what a person means:

* numbers compare as numbers ("1000" > "500", "12,5" is 12.5); only finite numbers
  count, so text such as "nan" or "inf" is text, never a number;
* dates and times compare as moments: an aware time keeps its zone, a plain date or a
  time without a zone is in the organisation's zone (``zone``);
* anything else compares as text, ignoring case and surrounding spaces;
* "less than" and "greater than" never hold between a number or a moment and something
  that is not one (a word is neither above nor below 500), nor for a missing value;
* a list (a record's labels) "is", "contains" or "is one of" a value when one of its
  items is; it is never less or greater than anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.nodes.operators import OPERATORS
from engine.runtime.runs import jsonable
from engine.time_zone import in_zone


def _number(value: Any) -> Decimal | None:
    """A finite number, from a number or from text; None for anything else (True and
    None too: their text is no number)."""
    try:
        number = Decimal(str(value).replace(",", "."))  # Decimal ignores outer spaces
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _moment(value: Any, zone: tzinfo) -> datetime | None:
    """An aware moment, from a date, a time or ISO text; None for anything else."""
    if not isinstance(value, date):
        try:
            value = datetime.fromisoformat(str(value).strip())
        except ValueError:
            return None
    return in_zone(value, zone)


def _comparable(left: Any, right: Any, zone: tzinfo) -> tuple[Any, Any] | None:
    """Both sides as numbers, as moments, or as case-folded text; None when they cannot
    be compared: a list, or a number or moment against something that is not one."""
    if isinstance(left, list | tuple):
        return None
    numbers, moments = (_number(left), _number(right)), (_moment(left, zone), _moment(right, zone))
    for a, b in (numbers, moments):
        if a is not None and b is not None:
            return a, b
    if any(side is not None for side in (*numbers, *moments)):
        return None
    return str(left).strip().casefold(), str(right).strip().casefold()


def _equal(actual: Any, expected: Any, zone: tzinfo) -> bool:
    if isinstance(actual, list | tuple):
        return any(_equal(item, expected, zone) for item in actual)
    pair = _comparable(actual, expected, zone)
    return pair is not None and pair[0] == pair[1]


def _empty(value: Any) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return value is None or (isinstance(value, list | tuple) and not value)


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    return [part.strip() for part in str(value).split(",") if part.strip()]


def holds(
    rule: Mapping[str, Any],
    record: Mapping[str, Any],
    start: Mapping[str, Any],
    zone: tzinfo = UTC,
) -> bool:
    """Whether one rule holds for the record (``start``: the record when the run began,
    as the run stored it)."""
    name, operator, expected = rule["field"], rule["operator"], rule.get("value")
    actual = record.get(name)
    if operator == "is_empty":
        return _empty(actual)
    if operator == "is_not_empty":
        return not _empty(actual)
    if operator == "changed_since_start":  # as stored: decimals as numbers, dates as ISO
        return name in start and str(jsonable({name: actual})[name]) != str(start[name])
    if actual is None:  # a missing value is only "not" something
        return operator == "not_equals" and not _empty(expected)
    if operator == "equals":
        return _equal(actual, expected, zone)
    if operator == "not_equals":
        return not _equal(actual, expected, zone)
    if operator == "one_of":
        return any(_equal(actual, option, zone) for option in _as_list(expected))
    if operator == "contains":
        if isinstance(actual, list | tuple):
            return _equal(actual, expected, zone)
        return str(expected).strip().casefold() in str(actual).casefold()
    pair = _comparable(actual, expected, zone)
    if pair is None:
        return False
    return pair[0] < pair[1] if operator == "less_than" else pair[0] > pair[1]


def _shown(value: Any) -> str:
    """A record's value as the timeline shows it: text in quotes, nothing as 'empty'."""
    if value is None:
        return "empty"
    return repr(value) if isinstance(value, str | list | tuple) else str(value)


def _explained(rule: Mapping[str, Any], ok: bool, record: Mapping[str, Any]) -> str:
    operator = OPERATORS[rule["operator"]]
    words = f"{rule['field']} {operator.label}"
    if operator.list_value:
        words += " " + ", ".join(str(option) for option in _as_list(rule.get("value")))
    elif operator.takes_value:
        words += f" {rule.get('value')}"
    return f"{words}: {'yes' if ok else 'no'} (it is {_shown(record.get(rule['field']))})"


def evaluate(
    rules: Mapping[str, Any],
    record: Mapping[str, Any],
    start: Mapping[str, Any],
    zone: tzinfo = UTC,
) -> tuple[bool, list[str]]:
    """The verdict and, per rule, a plain sentence of what was found."""
    results = [holds(rule, record, start, zone) for rule in rules["rules"]]
    verdict = all(results) if rules["match"] == "all" else any(results)
    explained = [
        _explained(rule, ok, record) for rule, ok in zip(rules["rules"], results, strict=True)
    ]
    return verdict, explained
