"""Wait node types: pause a run for a time, until a moment, or until a status.

A wait becomes a work item due later, so it survives restarts. Like every action,
each wait carries the shared "Safety" group: skip when the record moved on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from engine.nodes.common import (
    IN,
    MISSING,
    THEN,
    duration_problem,
    duration_text,
    status_codes_param,
    statuses,
    text,
    wait_params,
)
from engine.nodes.spec import (
    Category,
    Choice,
    ChoicesSource,
    NodeType,
    Param,
    ParamKind,
    Port,
    SummaryContext,
)

_CLOCK = re.compile(r"([01]?\d|2[0-3]):[0-5]\d")


def time_problem(value: Any) -> str | None:
    """Why a time of day is not written as HH:MM on a 24-hour clock."""
    if isinstance(value, str) and _CLOCK.fullmatch(value.strip()):
        return None
    return "Write the time as hours and minutes on a 24-hour clock, for example 09:00 or 17:30."


def _wait_until(p: Mapping[str, Any], _context: SummaryContext) -> str:
    if p.get("mode") != "field":
        return f"Wait until {text(p.get('time')) or MISSING}"
    field = text(p.get("field")) or MISSING
    if duration_problem(p.get("offset")):
        return f"Wait until {field}"
    direction = "before" if p.get("offset_direction") == "before" else "after"
    return f"Wait until {duration_text(p.get('offset'))} {direction} {field}"


def _wait(type_id: str, label: str, description: str, **fields: Any) -> NodeType:
    return NodeType(
        type_id=type_id,
        category=Category.WAIT,
        label=label,
        description=description,
        inputs=(IN,),
        **fields,
    )


_ON_DATE_FIELD = {"mode": ("field",)}

NODE_TYPES: tuple[NodeType, ...] = (
    _wait(
        "wait.duration",
        "Wait",
        "Pauses the run for a while before going on.",
        params=wait_params(
            Param(
                "duration",
                "How long",
                ParamKind.DURATION,
                default={"amount": 5, "unit": "minutes"},
                required=True,
                check=duration_problem,
            ),
        ),
        outputs=(THEN,),
        summary=lambda p, _c: f"Wait {duration_text(p.get('duration'))}",
        icon="wait.svg",
        keywords=("delay", "pause", "timer", "later", "minutes", "hours"),
    ),
    _wait(
        "wait.until",
        "Wait until a date",
        "Pauses the run until a time of day, or until a date on the record.",
        params=wait_params(
            Param(
                "mode",
                "Until",
                ParamKind.CHOICE,
                default="time",
                required=True,
                choices=(
                    Choice("time", "a time of day"),
                    Choice("field", "a date on the record"),
                ),
            ),
            Param(
                "time",
                "Time of day",
                ParamKind.TEXT,
                help="On a 24-hour clock; if that time has passed today, the run waits "
                "until tomorrow.",
                default="09:00",
                required=True,
                placeholder="09:00",
                visible_when={"mode": ("time",)},
                check=time_problem,
            ),
            Param(
                "field",
                "Date field",
                ParamKind.CHOICE,
                required=True,
                choices_source=ChoicesSource.DATE_FIELDS,
                visible_when=_ON_DATE_FIELD,
            ),
            Param(
                "offset",
                "Shifted by",
                ParamKind.DURATION,
                help="Leave empty to wait until the date itself.",
                visible_when=_ON_DATE_FIELD,
                check=duration_problem,
            ),
            Param(
                "offset_direction",
                "Before or after",
                ParamKind.CHOICE,
                default="after",
                required=True,
                choices=(Choice("before", "before the date"), Choice("after", "after the date")),
                visible_when=_ON_DATE_FIELD,
            ),
        ),
        outputs=(THEN,),
        summary=_wait_until,
        icon="wait_until.svg",
        keywords=("date", "time", "deadline", "calendar", "clock"),
    ),
    _wait(
        "wait.status",
        "Wait for a status",
        "Pauses the run until the record gets one of the chosen statuses, or time runs out.",
        params=wait_params(
            status_codes_param(
                "codes",
                "Statuses",
                "The run goes on through 'Status reached' as soon as the record gets any of these.",
                True,
            ),
            Param(
                "timeout",
                "Give up after",
                ParamKind.DURATION,
                help="When no chosen status comes in time, the run goes on through 'Timed out'.",
                default={"amount": 1, "unit": "days"},
                required=True,
                check=duration_problem,
            ),
        ),
        outputs=(Port("entered", "Status reached"), Port("timeout", "Timed out")),
        summary=lambda p, c: (
            f"Wait up to {duration_text(p.get('timeout'))} for {statuses(p.get('codes'), c)}"
        ),
        icon="wait_status.svg",
        keywords=("status", "until", "timeout", "expect"),
    ),
)
