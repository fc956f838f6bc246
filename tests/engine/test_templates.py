"""Templates fill in record data safely, and explain their mistakes in plain words."""

from __future__ import annotations

import json
from datetime import date

import pytest

from engine.graph.templates import (
    BUILTIN_NAMES,
    TemplateError,
    json_template_strings,
    render,
    render_json,
    template_problem,
    variables,
)


def test_variables_are_the_top_level_names_a_template_uses() -> None:
    text = "{{ customer.name }} {% for line in lines %}{{ line }}{% endfor %} {{ now|date }}"
    assert variables(text) == {"customer", "lines", "now"}


def test_render_fills_in_values_without_escaping_text() -> None:
    assert render("Dear {{ name }} & co", {"name": "<Ann>"}) == "Dear <Ann> & co"


def test_html_is_escaped() -> None:
    assert render("<p>{{ name }}</p>", {"name": "<Ann>"}, html=True) == "<p>&lt;Ann&gt;</p>"


def test_date_and_money_filters() -> None:
    values = {"day": date(2024, 5, 1), "text_day": "2024-05-01T10:00", "total": 1234.5}
    out = render("{{ day|date }}|{{ text_day|date('%d.%m.%Y') }}|{{ total|money('EUR ') }}", values)
    assert out == "01 May 2024|01.05.2024|EUR 1,234.50"


def test_an_unknown_name_fails_instead_of_rendering_empty() -> None:
    with pytest.raises(TemplateError, match="customer_nme"):
        render("Dear {{ customer_nme }}", {"customer_name": "Ann"})


def test_a_syntax_error_names_the_line() -> None:
    with pytest.raises(TemplateError, match="Line 2"):
        render("Dear\n{{ name }", {"name": "Ann"})


@pytest.mark.parametrize(
    "text",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ name.__class__.__init__.__globals__ }}",
        "{{ items.append(1) }}",
        "{{ range(10) }}",
    ],
)
def test_sandbox_escapes_fail_with_a_template_error(text: str) -> None:
    with pytest.raises(TemplateError):
        render(text, {"name": "Ann", "items": [1]})


def test_template_problem_reports_syntax_then_unknown_names() -> None:
    assert "Line 1" in template_problem("{{ name", None)
    assert template_problem("{{ nme }} {{ record_key }}", ["name"]) == (
        "It uses {{ nme }}, which is not a field you can use here."
    )
    assert template_problem("{{ name }} {{ today }}", ["name"]) is None
    assert template_problem("{{ anything }}", None) is None


def test_builtin_names_are_described_for_the_field_menu() -> None:
    assert {"record_key", "status", "previous_status", "now", "today"} <= set(BUILTIN_NAMES)
    assert all(description for description in BUILTIN_NAMES.values())


def test_json_templates_render_values_as_json_strings() -> None:
    text = '{"order": "{{ record_key }}", "lines": ["{{ note }}", 2]}'
    assert json_template_strings(text) == ["{{ record_key }}", "{{ note }}"]
    rendered = json.loads(render_json(text, {"record_key": "A-1", "note": 'say "hi"'}))
    assert rendered == {"order": "A-1", "lines": ['say "hi"', 2]}


def test_a_json_template_that_is_not_json_says_where() -> None:
    with pytest.raises(TemplateError, match="line 1, column"):
        json_template_strings('{"a": }')
