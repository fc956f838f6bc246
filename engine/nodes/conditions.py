"""Condition node types: choose a branch from structured rules, never from code.

A rule is a field, an operator from :mod:`engine.nodes.operators` and a value. Whether
the field exists is a question for graph validation, which knows the record source;
the checks here cover what the parameters alone can tell.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.nodes.common import IN, MISSING, join_words, shorten, text, texts
from engine.nodes.operators import OPERATORS
from engine.nodes.spec import (
    Category,
    ChoicesSource,
    NodeType,
    Param,
    ParamKind,
    Port,
    SummaryContext,
)

MAX_CASES = 5
CASE_PORTS = tuple(f"case_{n}" for n in range(1, MAX_CASES + 1))
_SHOWN_RULES = 3  # a summary lists this many rules, then "and 2 more"


def _rule_problem(number: int, rule: Any) -> str | None:
    if not isinstance(rule, Mapping) or not text(rule.get("field")):
        return f"Rule {number} has no field; choose the field to check."
    operator = OPERATORS.get(text(rule.get("operator")))
    if operator is None:
        return f"Rule {number} has no comparison; choose one such as 'is' or 'contains'."
    value = rule.get("value")
    if operator.list_value and not texts(value):
        return f"Rule {number} needs at least one value to choose from."
    if operator.takes_value and not operator.list_value and not text(value):
        return f"Rule {number} needs a value to compare with; to test for nothing, use 'is empty'."
    return None


def rules_problem(value: Any) -> str | None:
    """Why a rule set cannot be evaluated; None when every rule is complete."""
    if not isinstance(value, Mapping) or value.get("match") not in ("all", "any"):
        return "Choose whether all rules or any one rule must hold."
    rules = value.get("rules")
    if not isinstance(rules, list) or not rules:
        return "Add at least one rule."
    for number, rule in enumerate(rules, start=1):
        problem = _rule_problem(number, rule)
        if problem:
            return problem
    return None


def _case_problem(number: int, case: Any, seen: set[str], ports: set[str]) -> str | None:
    value = text(case.get("value")) if isinstance(case, Mapping) else ""
    if not value:
        return f"Case {number} has no value; fill it in or remove the case."
    if value in seen:
        return f"The value '{value}' appears in two cases; keep it in one."
    port = case.get("port")
    if port not in CASE_PORTS or port in ports:
        return f"Case {number} is not linked to its own output; remove it and add it again."
    seen.add(value)
    ports.add(port)
    return None


def cases_problem(value: Any) -> str | None:
    """Why switch cases cannot be used: too many, blank, repeated, or sharing an output."""
    if not isinstance(value, list) or not value:
        return "Add at least one case."
    if len(value) > MAX_CASES:
        return f"A switch has at most {MAX_CASES} cases; use a second switch for the rest."
    seen: set[str] = set()
    ports: set[str] = set()
    for number, case in enumerate(value, start=1):
        problem = _case_problem(number, case, seen, ports)
        if problem:
            return problem
    return None


def _rule_words(rule: Any) -> str:
    if not isinstance(rule, Mapping):
        return MISSING
    operator = OPERATORS.get(text(rule.get("operator")))
    field = text(rule.get("field")) or MISSING
    if operator is None:
        return f"{field} {MISSING}"
    if not operator.takes_value:
        return f"{field} {operator.label}"
    value = join_words(texts(rule.get("value"))) if operator.list_value else rule.get("value")
    return f"{field} {operator.label} {shorten(value, 30)}"


def _rules_summary(p: Mapping[str, Any], _context: SummaryContext) -> str:
    value = p.get("rules")
    rule_set = value if isinstance(value, Mapping) else {}
    rules = rule_set.get("rules")
    if not isinstance(rules, list) or not rules:
        return "Check the record (no rules yet)"
    joiner = " or " if rule_set.get("match") == "any" else " and "
    words = joiner.join(_rule_words(rule) for rule in rules[:_SHOWN_RULES])
    hidden = len(rules) - _SHOWN_RULES
    return f"If {words}" + (f"{joiner}{hidden} more" if hidden > 0 else "")


def _switch_summary(p: Mapping[str, Any], _context: SummaryContext) -> str:
    cases = p.get("cases")
    count = len(cases) if isinstance(cases, list) else 0
    noun = "case" if count == 1 else "cases"
    return f"Switch on {text(p.get('field')) or MISSING} ({count} {noun})"


NODE_TYPES: tuple[NodeType, ...] = (
    NodeType(
        type_id="condition.rules",
        category=Category.CONDITION,
        label="Check the record",
        description="Goes to Yes or No depending on the record's fields.",
        params=(
            Param(
                "rules",
                "Rules",
                ParamKind.RULES,
                help="Each rule compares one field with a value; choose whether all rules "
                "or any one of them must hold.",
                default={"match": "all", "rules": []},
                required=True,
                check=rules_problem,
            ),
        ),
        inputs=(IN,),
        outputs=(Port("true", "Yes"), Port("false", "No")),
        summary=_rules_summary,
        icon="rules.svg",
        keywords=("if", "condition", "rule", "filter", "compare", "branch"),
    ),
    NodeType(
        type_id="condition.switch",
        category=Category.CONDITION,
        label="Switch on a field",
        description="Goes a different way for each value of one field.",
        params=(
            Param(
                "field",
                "Field",
                ParamKind.CHOICE,
                required=True,
                choices_source=ChoicesSource.FIELDS,
            ),
            Param(
                "cases",
                "Cases",
                ParamKind.CASES,
                help=f"Up to {MAX_CASES} values, each with its own output; "
                "any other value goes to 'Anything else'.",
                default=[],
                required=True,
                check=cases_problem,
            ),
        ),
        inputs=(IN,),
        outputs=(
            *(Port(port, f"Case {n}") for n, port in enumerate(CASE_PORTS, start=1)),
            Port("default", "Anything else"),
        ),
        summary=_switch_summary,
        icon="switch.svg",
        keywords=("case", "branch", "route", "value"),
    ),
)
