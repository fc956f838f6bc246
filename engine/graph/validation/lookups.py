"""Values checked against the record source: codes, fields, labels, users, templates.

These checks run only when the context describes the graph's source (see
``ValidationContext.describes``); offline, a code or field cannot be called unknown.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from engine.graph.templates import (
    BUILTIN_NAMES,
    TemplateError,
    json_template_strings,
    template_problem,
    variables,
)
from engine.graph.validation.facts import Facts
from engine.graph.validation.findings import Finding, listing
from engine.nodes.spec import ChoicesSource, Param, ParamKind


def choice_problems(facts: Facts, param: Param, value: Any) -> Iterator[Finding]:
    for item in value if isinstance(value, list) else [value]:
        if not isinstance(item, str):
            continue
        if param.choices and item not in {c.value for c in param.choices}:
            yield (
                f"{param.label}: '{item}' is not one of the options "
                f"({listing(c.label for c in param.choices)}). Pick one of them.",
                "error",
            )
        elif param.choices_source is not None:
            found = _lookup_problems(facts, param.choices_source, item)
            yield from ((f"{param.label}: {m}", s) for m, s in found)


def _lookup_problems(facts: Facts, source: ChoicesSource, item: str) -> Iterator[Finding]:
    ctx, records, known = facts.context, facts.records, facts.record_data
    if source is ChoicesSource.STATUS_CODES and known and item not in ctx.status_codes:
        codes = (f"{code} ({text})" for code, text in ctx.status_codes.items())
        yield (
            f"{records} have no status code '{item}'. Known codes: {listing(codes)}.",
            "error",
        )
    elif source is ChoicesSource.FIELDS and known:
        yield from field_problems(facts, item)
    elif source is ChoicesSource.DATE_FIELDS and known:
        if item not in ctx.date_fields():
            dates = listing(sorted(ctx.date_fields()))
            yield f"'{item}' is not a date field of {records}. Date fields: {dates}.", "error"
    elif source is ChoicesSource.LABELS and known and item not in ctx.labels:
        yield (
            f"the label '{item}' has never been used on {records}; check the spelling. "
            f"Known labels: {listing(sorted(ctx.labels))}.",
            "warning",
        )
    elif source is ChoicesSource.USERS and ctx.lookups_known and item not in ctx.users:
        yield f"there is no user '{item}'. Users: {listing(sorted(ctx.users))}.", "error"
    elif source is ChoicesSource.ROLES and item not in ctx.roles:
        yield f"there is no role '{item}'. Roles: {listing(sorted(ctx.roles))}.", "error"


def field_problems(facts: Facts, name: str) -> Iterator[Finding]:
    if name not in facts.context.fields:
        yield (
            f"{facts.records} have no field '{name}'. "
            f"Fields you can use: {listing(sorted(facts.context.fields))}.",
            "error",
        )


def template_problems(facts: Facts, param: Param, value: Any) -> Iterator[str]:
    """Template syntax first; then, when the source is known, every unknown field."""
    if param.kind is ParamKind.JSON_TEMPLATE:
        try:
            json_template_strings(value)
        except TemplateError as exc:
            yield f"{param.label}: {exc}"
    for text in _template_texts(param.kind, value):
        if problem := template_problem(text, None):
            yield f"{param.label}: {problem}"
    if not facts.record_data:
        return
    fields = facts.context.fields
    usable = [*sorted(fields), *(name for name in BUILTIN_NAMES if name not in fields)]
    for name in sorted(names_used(param.kind, value) - set(usable)):
        yield (
            f"the {param.label.lower()} uses {{{{ {name} }}}}, but {facts.records} have no "
            f"field '{name}'. Fields you can use: {listing(usable)}."
        )


def names_used(kind: ParamKind, value: Any) -> set[str]:
    """The names the templates in a well-shaped value use (unreadable ones skipped)."""
    names: set[str] = set()
    for text in _template_texts(kind, value):
        if template_problem(text, None) is None:
            names |= variables(text)
    return names


def _template_texts(kind: ParamKind, value: Any) -> list[str]:
    """The templates inside a well-shaped value of ``kind``."""
    if kind in (ParamKind.TEMPLATE, ParamKind.EMAIL_LIST, ParamKind.URL):
        return [value]
    if kind is ParamKind.HEADERS:
        return list(value.values())
    if kind is ParamKind.JSON_TEMPLATE:
        try:
            return json_template_strings(value)
        except TemplateError:
            return []
    return []
