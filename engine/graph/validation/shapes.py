"""Whether a parameter's value has the form its kind holds (a number, a list of texts...).

A value of the wrong shape (an imported or hand-edited graph) is reported before any
other check looks inside it, so those checks may rely on the shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.nodes.common import duration_problem
from engine.nodes.spec import Param, ParamKind


def is_empty(value: Any) -> bool:
    return value is None or value in ([], {}) or (isinstance(value, str) and not value.strip())


def shape_problem(kind: ParamKind, value: Any) -> str | None:
    """Why ``value`` does not have the shape a ``kind`` parameter holds, or None."""
    return _SHAPES[kind](value)


def range_problem(param: Param, value: Any) -> str | None:
    if param.kind not in (ParamKind.INTEGER, ParamKind.NUMBER):
        return None
    if param.minimum is not None and value < param.minimum:
        return f"this must be at least {param.minimum:g}."
    if param.maximum is not None and value > param.maximum:
        return f"this must be at most {param.maximum:g}."
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_whole(value: Any) -> bool:
    return _is_number(value) and (isinstance(value, int) or value.is_integer())


def _is_texts(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _rules_problem(value: Any) -> str | None:
    if not isinstance(value, dict) or value.get("match") not in ("all", "any"):
        return "choose whether all rules or any one rule must hold."
    rules = value.get("rules")
    if not isinstance(rules, list) or not rules:
        return "add at least one rule."
    for number, rule in enumerate(rules, start=1):
        if (
            not isinstance(rule, dict)
            or not isinstance(rule.get("field"), str)
            or "operator" not in rule
        ):
            return f"rule {number} is incomplete; choose its field and how to compare."
    return None


def _cases_problem(value: Any) -> str | None:
    ok = isinstance(value, list) and all(
        isinstance(case, dict) and "value" in case and isinstance(case.get("port"), str)
        for case in value
    )
    return None if ok else "the cases could not be read; set them up again."


def _check(test: Callable[[Any], bool], sentence: str) -> Callable[[Any], str | None]:
    return lambda value: None if test(value) else sentence


_TEXT = _check(lambda v: isinstance(v, str), "this should be text.")
_SHAPES: dict[ParamKind, Callable[[Any], str | None]] = {
    **{kind: _TEXT for kind in ParamKind},
    ParamKind.INTEGER: _check(_is_whole, "this should be a whole number."),
    ParamKind.NUMBER: _check(_is_number, "this should be a number."),
    ParamKind.BOOLEAN: _check(lambda v: isinstance(v, bool), "this should be yes or no."),
    ParamKind.MULTI_CHOICE: _check(_is_texts, "this should be a list of choices."),
    ParamKind.STRING_LIST: _check(_is_texts, "this should be a list of texts."),
    ParamKind.HEADERS: _check(
        lambda v: isinstance(v, dict) and _is_texts(list(v.values())),
        "each header should have a text value.",
    ),
    ParamKind.DURATION: duration_problem,
    ParamKind.RULES: _rules_problem,
    ParamKind.CASES: _cases_problem,
}
