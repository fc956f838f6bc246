"""Trigger node types: what starts a run (a status, a label, a new record, a schedule...).

Triggers have no input and one output. ``trigger_kind`` tells the engine which kind
of status event (or the scheduler, or a person) a trigger listens to. The schedule
trigger's five-field cron text is checked and put into words here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.nodes.common import (
    MISSING,
    THEN,
    duration_problem,
    duration_text,
    join_words,
    shorten,
    status_codes_param,
    statuses,
    text,
)
from engine.nodes.spec import (
    Category,
    Choice,
    ChoicesSource,
    NodeType,
    Param,
    ParamKind,
    SummaryContext,
)

DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


@dataclass(frozen=True)
class _CronField:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names[i] stands for low + i

    def number(self, word: str) -> int:
        """The number a word stands for ('5', 'mon', 'JAN'), -1 for none; range not checked."""
        if word.isascii() and word.isdigit():
            return int(word)
        if word.lower() in self.names:
            return self.low + self.names.index(word.lower())
        return -1


_CRON_FIELDS = (
    _CronField("minute", 0, 59),
    _CronField("hour", 0, 23),
    _CronField("day of the month", 1, 31),
    _CronField("month", 1, 12, MONTH_NAMES),
    _CronField("weekday", 0, 7, DAY_NAMES),
)
_CRON_EXAMPLE = "for example '0 8 * * 1-5' means 08:00 on weekdays"


def _cron_value_problem(word: str, cron_field: _CronField) -> str | None:
    number = cron_field.number(word)
    if not cron_field.low <= number <= cron_field.high:
        return (
            f"The {cron_field.name} must be a number from {cron_field.low} to "
            f"{cron_field.high}; '{word}' is not."
        )
    return None


def _cron_item_problem(item: str, cron_field: _CronField) -> str | None:
    """One comma-separated part: '*', '5', '1-5', 'mon-fri', '*/15', '0-30/10'."""
    if not item:
        return f"The {cron_field.name} has an empty entry; remove the extra comma."
    base, slash, step = item.partition("/")
    if slash and not (step.isascii() and step.isdigit() and int(step) >= 1):
        return f"The step after '/' in the {cron_field.name} must be a whole number above 0."
    if base == "*":
        return None
    start, dash, end = base.partition("-")
    problem = _cron_value_problem(start, cron_field)
    if problem or not dash:
        return problem
    problem = _cron_value_problem(end, cron_field)
    if problem is None and cron_field.number(start) > cron_field.number(end):
        return f"The {cron_field.name} range '{base}' runs backwards; put the smaller value first."
    return problem


def cron_problem(value: Any) -> str | None:
    """Why a five-field crontab text (minute hour day month weekday) is not usable."""
    if not isinstance(value, str) or not value.strip():
        return f"Write when to run, {_CRON_EXAMPLE}."
    parts = value.split()
    if len(parts) != len(_CRON_FIELDS):
        return (
            "A schedule has five parts: minute, hour, day of the month, month and weekday; "
            f"{_CRON_EXAMPLE}."
        )
    for part, cron_field in zip(parts, _CRON_FIELDS, strict=True):
        for item in part.split(","):
            problem = _cron_item_problem(item, cron_field)
            if problem:
                return problem
    return None


def _weekday(word: str) -> str | None:
    number = _CRON_FIELDS[4].number(word)
    return _WEEKDAYS[number % 7] if number >= 0 else None


def _cron_days(day: str, month: str, weekday: str) -> tuple[str, str] | None:
    """('Every weekday', 'on weekdays') for common day patterns; None for the rest."""
    if month != "*" or (day != "*" and weekday != "*"):
        return None
    if day != "*":
        if not day.isdigit():
            return None
        phrase = f"day {int(day)} of every month"
        return f"On {phrase}", f"on {phrase}"
    if weekday == "*":
        return "Every day", ""
    if weekday.lower() in ("1-5", "mon-fri"):
        return "Every weekday", "on weekdays"
    words = weekday.split(",")
    names = [name for name in map(_weekday, words) if name]
    if len(names) != len(words):
        return None
    return f"Every {join_words(names, 'and')}", f"on {join_words((n + 's' for n in names), 'and')}"


def _cron_clock(minute: str, hour: str) -> tuple[bool, str] | None:
    """(True, 'at 08:00') for a time of day, (False, 'Every 15 minutes') for a frequency."""
    if minute.isdigit() and hour.isdigit():
        return True, f"at {int(hour):02d}:{int(minute):02d}"
    if hour != "*":
        return None
    if minute == "*":
        return False, "Every minute"
    if minute.startswith("*/") and minute[2:].isdigit():
        return False, f"Every {minute[2:]} minutes"
    return (False, f"Every hour at {int(minute)} minutes past") if minute.isdigit() else None


def describe_cron(value: Any) -> str:
    """'Every weekday at 08:00', 'Every 15 minutes'; the cron text for rarer shapes."""
    if cron_problem(value):
        return f"On schedule {shorten(value)}"
    minute, hour, day, month, weekday = value.split()
    clock, days = _cron_clock(minute, hour), _cron_days(day, month, weekday)
    if clock is None or days is None:
        return f"On schedule {' '.join(value.split())}"
    at_time, when = clock
    if at_time:
        return f"{days[0]} {when}"
    return f"{when} {days[1]}".rstrip()


WHILE_RUNNING = Param(
    name="while_running",
    label="If it is still running for this record",
    kind=ParamKind.CHOICE,
    help="What to do when this happens again while an earlier run for the same record "
    "has not finished: ignore it (the usual choice), or start another run alongside.",
    default="skip",
    choices=(
        Choice("skip", "Ignore the new change"),
        Choice("parallel", "Start another run alongside"),
    ),
    group="Repeats",
)


def _trigger(
    type_id: str, label: str, description: str, params: tuple[Param, ...], **fields: Any
) -> NodeType:
    """A trigger: no input, one output, and the shared re-enrollment choice."""
    return NodeType(
        type_id=type_id,
        category=Category.TRIGGER,
        label=label,
        description=description,
        params=(*params, WHILE_RUNNING),
        inputs=(),
        outputs=(THEN,),
        **fields,
    )


def _status_entered(p: Mapping[str, Any], context: SummaryContext) -> str:
    before = text(p.get("from_code"))
    after = f" from {context.status(before)}" if before else ""
    return f"Status becomes {statuses(p.get('codes'), context)}{after}"


def _record_created(p: Mapping[str, Any], context: SummaryContext) -> str:
    codes = statuses(p.get("codes"), context)
    return "New record" if codes == MISSING else f"New record with status {codes}"


def _field_changed(p: Mapping[str, Any], _context: SummaryContext) -> str:
    target = text(p.get("to_value"))
    to_value = f" to '{shorten(target)}'" if target else ""
    return f"{text(p.get('field')) or MISSING} changes{to_value}"


def _schedule(p: Mapping[str, Any], context: SummaryContext) -> str:
    words = describe_cron(p.get("cron"))
    codes = statuses(p.get("in_status"), context)
    if codes != MISSING:
        words += f" for records in {codes}"
        if not duration_problem(p.get("min_age")):
            words += f" longer than {duration_text(p.get('min_age'))}"
    return words


NODE_TYPES: tuple[NodeType, ...] = (
    _trigger(
        "trigger.status_entered",
        "Status becomes",
        "Starts when a record gets one of the chosen statuses.",
        params=(
            status_codes_param(
                "codes", "Statuses", "The run starts when the record gets any of these.", True
            ),
            Param(
                "from_code",
                "Only when it was",
                ParamKind.CHOICE,
                help="Leave empty to start whatever the status was before.",
                choices_source=ChoicesSource.STATUS_CODES,
            ),
        ),
        summary=_status_entered,
        icon="status.svg",
        keywords=("status", "changed", "enters", "code"),
        trigger_kind="status",
    ),
    _trigger(
        "trigger.label_applied",
        "Label applied",
        "Starts when a label is put on a record.",
        params=(
            Param(
                "label",
                "Label",
                ParamKind.TEXT,
                help="The label to watch for, for example VIP.",
                required=True,
                choices_source=ChoicesSource.LABELS,
            ),
        ),
        summary=lambda p, _c: f"Label '{shorten(p.get('label'))}' applied",
        icon="label.svg",
        keywords=("tag", "flag"),
        trigger_kind="label",
    ),
    _trigger(
        "trigger.record_created",
        "Record created",
        "Starts when a new record appears.",
        params=(
            status_codes_param(
                "codes", "Only with status", "Leave empty to start for every new record.", False
            ),
        ),
        summary=_record_created,
        icon="record_new.svg",
        keywords=("new", "inserted", "added"),
        trigger_kind="created",
    ),
    _trigger(
        "trigger.field_changed",
        "Field changed",
        "Starts when a field of a record gets a new value.",
        params=(
            Param(
                "field",
                "Field",
                ParamKind.CHOICE,
                required=True,
                choices_source=ChoicesSource.FIELDS,
            ),
            Param(
                "to_value",
                "Only when it becomes",
                ParamKind.TEXT,
                help="Leave empty to start on any change.",
            ),
        ),
        summary=_field_changed,
        icon="field.svg",
        keywords=("column", "value", "updated"),
        trigger_kind="field",
    ),
    _trigger(
        "trigger.schedule",
        "On a schedule",
        "Starts at set times for every record that sits in the chosen statuses.",
        params=(
            Param(
                "cron",
                "When",
                ParamKind.CRON,
                help="Five parts: minute, hour, day of the month, month, weekday; "
                "'0 8 * * 1-5' is 08:00 Monday to Friday, '*/15 * * * *' every 15 minutes.",
                default="0 8 * * 1-5",
                required=True,
                check=cron_problem,
            ),
            status_codes_param(
                "in_status", "For records in", "Records in any of these statuses.", True
            ),
            Param(
                "min_age",
                "Only records in that status longer than",
                ParamKind.DURATION,
                help="Leave empty to include every record in those statuses.",
                check=duration_problem,
            ),
        ),
        summary=_schedule,
        icon="schedule.svg",
        keywords=("cron", "time", "daily", "every", "timer", "reminder"),
        trigger_kind="schedule",
    ),
    _trigger(
        "trigger.manual",
        "Started by hand",
        "Starts when a person starts it for a record.",
        params=(),
        summary=lambda _p, _c: "Started by hand",
        icon="manual.svg",
        keywords=("manual", "button", "start", "person"),
        trigger_kind="manual",
    ),
)
