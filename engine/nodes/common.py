"""What several node types share, declared once.

The ports, the "Safety" group every wait and action carries, the "Retries" group
every action carries, the value checks more than one node type uses, and the
forgiving text helpers summaries are built from. Summaries run on half-edited
nodes on the canvas, so every helper here accepts any value and never raises.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from engine import durations
from engine.nodes.spec import Choice, ChoicesSource, Param, ParamKind, Port, SummaryContext

IN = Port("in", "In")
THEN = Port("out", "Then")
MISSING = "…"  # shown in a summary where a parameter is not filled in yet

SAFETY_PARAMS: tuple[Param, ...] = (
    Param(
        "skip_if_changed",
        "Skip this step if",
        ParamKind.CHOICE,
        help="Checked just before the step runs: if the record moved on since the run "
        "started, this step and everything after it is skipped.",
        default="never",
        required=True,
        choices=(
            Choice("never", "never (always run it)"),
            Choice("status", "the status changed since the run started"),
            Choice("field", "a chosen field changed"),
        ),
        group="Safety",
    ),
    Param(
        "skip_field",
        "Field to watch",
        ParamKind.CHOICE,
        help="Skip the step when this field has a different value than when the run started.",
        required=True,
        choices_source=ChoicesSource.FIELDS,
        group="Safety",
        visible_when={"skip_if_changed": ("field",)},
    ),
)


# The check every DURATION parameter carries; graph validation uses it for the kind too.
duration_problem = durations.problem

RETRY_ATTEMPTS = 3  # tries in all, when a step does not say
RETRY_BACKOFF: dict[str, Any] = {"amount": 30, "unit": "seconds"}  # before the first retry


def retry_attempts(params: dict[str, Any]) -> int:
    """How many times in all a step is tried: its setting, else :data:`RETRY_ATTEMPTS`
    (the one default the form, the dispatcher and a take-over all use)."""
    return int(params.get("retry_attempts") or RETRY_ATTEMPTS)


def retry_backoff(params: dict[str, Any]) -> dict[str, Any]:
    """How long before a step's first retry (each next one waits twice as long)."""
    return dict(params.get("retry_backoff") or RETRY_BACKOFF)


RETRY_PARAMS: tuple[Param, ...] = (
    Param(
        "retry_attempts",
        "Attempts",
        ParamKind.INTEGER,
        help="How many times in all to try this step before giving up (1 to 10).",
        default=RETRY_ATTEMPTS,
        required=True,
        minimum=1,
        maximum=10,
        group="Retries",
    ),
    Param(
        "retry_backoff",
        "First retry after",
        ParamKind.DURATION,
        help="How long to wait before the first retry; each next retry waits twice as "
        "long, give or take a little so that retries do not all arrive at once.",
        default=RETRY_BACKOFF,
        required=True,
        group="Retries",
        check=duration_problem,
    ),
    Param(
        "on_failure",
        "When every attempt fails",
        ParamKind.CHOICE,
        help="A task lets a person do the step by hand and the run still succeeds.",
        default="task",
        required=True,
        choices=(
            Choice("task", "create a task for a person to do it by hand"),
            Choice("fail", "fail the run"),
        ),
        group="Retries",
    ),
)


def wait_params(*params: Param) -> tuple[Param, ...]:
    """A wait's own parameters followed by the shared Safety group."""
    return (*params, *SAFETY_PARAMS)


def action_params(*params: Param) -> tuple[Param, ...]:
    """An action's own parameters followed by the shared Safety and Retries groups."""
    return (*params, *SAFETY_PARAMS, *RETRY_PARAMS)


def names_check(noun: str, empty: str) -> Callable[[Any], str | None]:
    """A check for a list of distinct, non-blank names (statuses, approvals, documents)."""

    def check(value: Any) -> str | None:
        if not isinstance(value, list | tuple) or not value:
            return empty
        seen: set[str] = set()
        for item in value:
            if not isinstance(item, str) or not item.strip():
                return f"One {noun} is blank; fill it in or remove it."
            if item.strip() in seen:
                return f"The {noun} '{item.strip()}' is listed twice; keep it once."
            seen.add(item.strip())
        return None

    return check


def status_codes_param(name: str, label: str, help_text: str, required: bool) -> Param:
    """A choice of one or more status codes of the graph's record source."""
    return Param(
        name,
        label,
        ParamKind.MULTI_CHOICE,
        help=help_text,
        required=required,
        choices_source=ChoicesSource.STATUS_CODES,
        check=names_check("status", "Choose at least one status."),
    )


def text(value: Any) -> str:
    """The value as one short line for a summary; '' when it is not text or a number."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return ""
    return " ".join(str(value).split())


def texts(value: Any) -> list[str]:
    """The non-blank texts in a list (or a lone text) for a summary."""
    items = value if isinstance(value, list | tuple) else [value]
    return [t for t in (text(item) for item in items) if t]


def join_words(items: Iterable[str], last: str = "or") -> str:
    """'A', 'A or B', 'A, B or C'; MISSING for no items."""
    words = list(items)
    if not words:
        return MISSING
    if len(words) == 1:
        return words[0]
    return f"{', '.join(words[:-1])} {last} {words[-1]}"


def statuses(value: Any, context: SummaryContext) -> str:
    """'DEL – Delivered or CAN – Cancelled' for a list of codes (or a single code)."""
    return join_words(context.status(code) for code in texts(value))


def duration_text(value: Any) -> str:
    """'5 minutes'; MISSING when the duration is not usable yet."""
    return MISSING if duration_problem(value) else durations.describe(value)


PLACEHOLDER = re.compile(r"\{\{\s*([\w.]+)\s*\}\}")


def shorten(value: Any, limit: int = 40) -> str:
    """The text on one line, placeholders shown as ‹field› (people are not meant to read
    template syntax on the canvas), cut near ``limit`` characters with an ellipsis."""
    line = PLACEHOLDER.sub(r"‹\1›", text(value))
    if not line:
        return MISSING
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space >= limit // 2 else cut).rstrip() + "…"
