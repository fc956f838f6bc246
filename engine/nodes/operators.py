"""Operators of the condition rule builder: structured, never evaluated as code."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Operator:
    """One comparison a rule can make; ``takes_value`` is False for unary checks."""

    name: str
    label: str  # as shown in the rule builder: "is", "is not", "contains"
    takes_value: bool = True
    list_value: bool = False  # the value is a list (one of)


OPERATORS: dict[str, Operator] = {
    op.name: op
    for op in (
        Operator("equals", "is"),
        Operator("not_equals", "is not"),
        Operator("less_than", "is less than"),
        Operator("greater_than", "is greater than"),
        Operator("contains", "contains"),
        Operator("one_of", "is one of", list_value=True),
        Operator("is_empty", "is empty", takes_value=False),
        Operator("is_not_empty", "is not empty", takes_value=False),
        Operator("changed_since_start", "changed since the run started", takes_value=False),
    )
}
