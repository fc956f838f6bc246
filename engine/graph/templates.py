"""The one place StatusFlow renders Jinja2 templates: email subjects, webhook bodies...

Templates are written by operations staff and filled with record data, so they run
in Jinja2's immutable sandbox (no attribute tricks, no changing objects), with
``StrictUndefined`` (a misspelt field is an error, never a silently empty email),
and with no globals beyond our own names. Text is never HTML-escaped; HTML bodies
always are. Validation uses the same environment to check templates at design
time, so what passes there renders the same way at 3 a.m.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import jinja2
from jinja2 import meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from engine.errors import StatusFlowError

BUILTIN_NAMES: dict[str, str] = {
    "record_key": "The key of the record, e.g. the order number",
    "status": "The record's status code now",
    "status_description": "The description of that status code",
    "previous_status": "The status code the record had before",
    "graph_name": "The name of this automation",
    "run_id": "The id of this run, for looking it up later",
    "now": "The date and time the step runs",
    "today": "The date the step runs",
}


class TemplateError(StatusFlowError):
    """A template cannot be read or filled in; the message says where and why."""


def _date(value: Any, format: str = "%d %B %Y") -> str:
    """Format a date, a date-time or an ISO date text; anything else is shown as is."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return value.strftime(format) if isinstance(value, date) else str(value)


def _money(value: Any, currency: str = "") -> str:
    """1234.5 → "1,234.50" (with an optional currency in front, e.g. "EUR ")."""
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{currency}{amount:,.2f}"


def _environment(html: bool) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        autoescape=html, undefined=jinja2.StrictUndefined, keep_trailing_newline=True
    )
    env.globals.clear()
    env.filters.update(date=_date, money=_money)
    return env


_TEXT = _environment(html=False)
_HTML = _environment(html=True)


@functools.lru_cache(maxsize=2048)
def _compiled(text: str, html: bool) -> jinja2.Template:
    """A template is compiled once: the same subject renders for thousands of records."""
    return (_HTML if html else _TEXT).from_string(text)


def variables(template_text: str) -> set[str]:
    """The top-level names a template uses ("customer" in ``{{ customer.name }}``)."""
    return set(meta.find_undeclared_variables(_parse(template_text)))


def template_problem(text: str, known_names: Collection[str] | None) -> str | None:
    """Why ``text`` cannot be used, in plain words, or None. With ``known_names`` None
    only the syntax is checked; otherwise the names must be known or built in."""
    try:
        used = variables(text)
    except TemplateError as exc:
        return str(exc)
    if known_names is None:
        return None
    unknown = sorted(used - set(known_names) - set(BUILTIN_NAMES))
    if not unknown:
        return None
    names = ", ".join(f"{{{{ {name} }}}}" for name in unknown)
    verb = "is not a field" if len(unknown) == 1 else "are not fields"
    return f"It uses {names}, which {verb} you can use here."


def render(text: str, values: Mapping[str, Any], *, html: bool = False) -> str:
    """Fill in the template; TemplateError with a plain sentence if it cannot be."""
    try:
        return _compiled(text, html).render(dict(values))
    except jinja2.TemplateSyntaxError as exc:
        raise _syntax_error(exc) from exc
    except jinja2.UndefinedError as exc:
        raise TemplateError(
            f"The template uses something that has no value here ({exc.message}). "
            "Check the spelling of the field names."
        ) from exc
    except jinja2.exceptions.SecurityError as exc:
        raise TemplateError(
            "The template tries to reach parts of the program that templates may not use. "
            "Use only record fields and the names offered in the field menu."
        ) from exc
    except (jinja2.TemplateError, ArithmeticError, LookupError, TypeError, ValueError) as exc:
        raise TemplateError(
            f"The template could not be filled in ({exc}). Check the expression in braces."
        ) from exc


def json_template_strings(text: str) -> list[str]:
    """The string values inside a JSON template (each one is a template)."""
    return list(_strings(_load_json(text)))


def render_json(text: str, values: Mapping[str, Any]) -> str:
    """Fill in every string value of a JSON template; the result is always valid JSON,
    because values are inserted as JSON strings, never pasted into the JSON text."""
    return json.dumps(_render_strings(_load_json(text), values), ensure_ascii=False)


def _load_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TemplateError(
            f"This is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}). "
            "Check the quotes, commas and braces."
        ) from exc


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | dict):
        for item in value.values() if isinstance(value, dict) else value:
            yield from _strings(item)


def _render_strings(value: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        return render(value, values)
    if isinstance(value, list):
        return [_render_strings(item, values) for item in value]
    if isinstance(value, dict):
        return {key: _render_strings(item, values) for key, item in value.items()}
    return value


def _parse(text: str) -> jinja2.nodes.Template:
    try:
        return _TEXT.parse(text)
    except jinja2.TemplateSyntaxError as exc:
        raise _syntax_error(exc) from exc


def _syntax_error(exc: jinja2.TemplateSyntaxError) -> TemplateError:
    return TemplateError(
        f"Line {exc.lineno} of the template has a mistake ({(exc.message or '').rstrip('.')}). "
        "Check that "
        "every {{ is closed by }} and every {% by %}."
    )
