"""The node catalogue: every node type of DESIGN.md, declared once and declared well.

What users rely on: the palette lists every step in order and finds it by the words
they type; a new node says which settings still need filling in; a half-edited node
still shows a readable title; every complaint about a setting is a plain sentence.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.nodes import catalogue
from engine.nodes.common import RETRY_PARAMS, SAFETY_PARAMS
from engine.nodes.spec import Category, NodeType, Param, ParamKind, SummaryContext
from engine.nodes.triggers import cron_problem, describe_cron

ALL = catalogue.all_types()
CONTEXT = SummaryContext({"DEL": "Delivered", "CAN": "Cancelled", "NEW": "New", "ASN": "Assigned"})
JARGON = re.compile(
    r"NoneType|KeyError|TypeError|ValueError|Exception|Traceback|\b(None|dict|str|int)\b|[<>]"
)


def _ids(node_types: tuple[NodeType, ...]) -> list[str]:
    return [t.type_id for t in node_types]


def assert_sentence(message: Any) -> None:
    assert isinstance(message, str) and message.strip()
    assert message[0].isupper() or message[0] == "'", message
    assert message.endswith("."), message
    assert not JARGON.search(message), message


# -- the registry ------------------------------------------------------------------


def test_every_node_type_of_the_design_is_in_the_palette_in_order() -> None:
    assert _ids(ALL) == [
        "trigger.status_entered",
        "trigger.label_applied",
        "trigger.record_created",
        "trigger.field_changed",
        "trigger.schedule",
        "trigger.manual",
        "condition.rules",
        "condition.switch",
        "wait.duration",
        "wait.until",
        "wait.status",
        "action.send_email",
        "action.send_sms",
        "action.webhook",
        "action.set_status",
        "action.set_field",
        "action.apply_label",
        "action.archive_record",
        "action.add_note",
        "action.create_task",
        "human.approval",
    ]


def test_categories_follow_palette_order_and_type_ids_name_them() -> None:
    order = list(Category)
    positions = [order.index(t.category) for t in ALL]
    assert positions == sorted(positions)
    for node_type in ALL:
        assert node_type.type_id.startswith(f"{node_type.category.value}.")
        assert catalogue.by_category(node_type.category).count(node_type) == 1


def test_a_type_id_declared_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        catalogue.build_index((ALL[0], ALL[1], ALL[0]))


def test_lookup_by_type_id() -> None:
    assert catalogue.get("wait.duration") is catalogue.require("wait.duration")
    assert catalogue.get("action.fax") is None
    with pytest.raises(KeyError, match=r"no step of type 'action\.fax'.*update StatusFlow"):
        catalogue.require("action.fax")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("mail", "action.send_email"),
        ("EMAIL", "action.send_email"),
        ("http", "action.webhook"),
        ("text message", "action.send_sms"),
        ("cron", "trigger.schedule"),
        ("approve", "human.approval"),
    ],
)
def test_palette_search_finds_by_label_description_or_keyword(typed: str, expected: str) -> None:
    assert expected in _ids(catalogue.search(typed))


def test_palette_search_needs_every_word_and_empty_search_lists_all() -> None:
    assert _ids(catalogue.search("wait status")) == ["wait.status"]
    assert catalogue.search("zebra") == ()
    assert catalogue.search("  ") == ALL


# -- ports and shared groups -------------------------------------------------------


@pytest.mark.parametrize("node_type", ALL, ids=_ids(ALL))
def test_ports_fit_the_category(node_type: NodeType) -> None:
    names = [p.name for p in (*node_type.inputs, *node_type.outputs)]
    assert len(names) == len(set(names))
    assert node_type.outputs
    if node_type.category is Category.TRIGGER:
        assert node_type.inputs == ()
        assert [p.name for p in node_type.outputs] == ["out"]
        assert node_type.trigger_kind
    else:
        assert [p.name for p in node_type.inputs] == ["in"]
        assert node_type.trigger_kind is None
    assert node_type.icon.endswith(".svg")


@pytest.mark.parametrize("node_type", ALL, ids=_ids(ALL))
def test_safety_on_every_wait_and_action_retries_on_every_action(node_type: NodeType) -> None:
    names = [p.name for p in node_type.params]
    assert len(names) == len(set(names))
    has_safety = all(p in node_type.params for p in SAFETY_PARAMS)
    has_retries = all(p in node_type.params for p in RETRY_PARAMS)
    assert has_safety == (node_type.category in (Category.WAIT, Category.ACTION))
    assert has_retries == (node_type.category is Category.ACTION)


def test_actions_that_change_the_record_say_what_they_write() -> None:
    writes = {t.type_id: t.writes for t in ALL if t.writes}
    assert writes == {
        "action.set_status": "status",
        "action.set_field": "field",
        "action.apply_label": "label",
        "action.archive_record": "archive",
    }


# -- defaults and required settings ------------------------------------------------

RULE_SET = {
    "match": "all",
    "rules": [
        {"field": "amount", "operator": "greater_than", "value": 500},
        {"field": "status", "operator": "equals", "value": "DEL"},
    ],
}
RULES_OF_EVERY_KIND = {
    "match": "any",
    "rules": [
        *RULE_SET["rules"],
        {"field": "status", "operator": "one_of", "value": ["DEL", "CAN"]},
        {"field": "email", "operator": "is_empty"},
    ],
}


NEEDS_FILLING_IN = {
    "trigger.status_entered": {"codes"},
    "trigger.label_applied": {"label"},
    "trigger.field_changed": {"field"},
    "trigger.schedule": {"in_status"},
    "condition.rules": {"rules"},
    "condition.switch": {"field", "cases"},
    "wait.status": {"codes"},
    "action.send_email": {"subject", "body_text"},
    "action.send_sms": {"message"},
    "action.webhook": {"url"},
    "action.set_status": {"code"},
    "action.set_field": {"field"},
    "action.apply_label": {"label"},
    "action.add_note": {"note"},
    "action.create_task": {"title"},
    "human.approval": {"approvals"},
}

COMPLETE: dict[str, dict[str, Any]] = {
    "trigger.status_entered": {"codes": ["DEL"]},
    "trigger.label_applied": {"label": "VIP"},
    "trigger.field_changed": {"field": "priority"},
    "trigger.schedule": {"in_status": ["ASN"]},
    "condition.rules": {"rules": RULE_SET},
    "condition.switch": {"field": "status", "cases": [{"value": "DEL", "port": "case_1"}]},
    "wait.status": {"codes": ["ASN"]},
    "action.send_email": {"subject": "Delivered", "body_text": "Hello {{ name }}"},
    "action.send_sms": {"message": "On its way"},
    "action.webhook": {"url": "https://example.com/orders/{{ id }}"},
    "action.set_status": {"code": "ASN"},
    "action.set_field": {"field": "priority"},
    "action.apply_label": {"label": "VIP"},
    "action.add_note": {"note": "Called"},
    "action.create_task": {"title": "Call the customer"},
    "human.approval": {"approvals": ["Price approval"]},
}


def _shown(node_type: NodeType, params: dict[str, Any]) -> list[Param]:
    """The parameters the form shows for these values (spec: ``visible_when``)."""
    return [
        p
        for p in node_type.params
        if all(params.get(k) in allowed for k, allowed in p.visible_when.items())
    ]


def _unusable(param: Param, value: Any) -> bool:
    """Empty, or refused by the parameter's own check."""
    if value in (None, "", [], {}):
        return True
    return param.check is not None and param.check(value) is not None


@pytest.mark.parametrize("node_type", ALL, ids=_ids(ALL))
def test_a_new_node_needs_exactly_these_settings_filled_in(node_type: NodeType) -> None:
    defaults = node_type.defaults()
    needed = {
        p.name for p in _shown(node_type, defaults) if p.required and _unusable(p, defaults[p.name])
    }
    assert needed == NEEDS_FILLING_IN.get(node_type.type_id, set())


@pytest.mark.parametrize("node_type", ALL, ids=_ids(ALL))
def test_filling_in_the_needed_settings_makes_every_shown_setting_usable(
    node_type: NodeType,
) -> None:
    params = node_type.with_defaults(COMPLETE.get(node_type.type_id, {}))
    for param in _shown(node_type, params):
        value = params[param.name]
        assert not (param.required and _unusable(param, value)), param.name
        assert value in (None, [], {}) or not _unusable(param, value), param.name


# Settings that come filled in on a new node. Empty ones (no rules yet, no cases yet) are
# the settings the node asks the user to fill in, so their check may complain.
FILLED_IN_DEFAULTS = [
    (t, p)
    for t in ALL
    for p in t.params
    if p.check and p.default not in (None, [], {}) and p.kind != ParamKind.RULES
]


@pytest.mark.parametrize(
    ("node_type", "param"),
    FILLED_IN_DEFAULTS,
    ids=[f"{t.type_id}.{p.name}" for t, p in FILLED_IN_DEFAULTS],
)
def test_every_default_passes_its_own_check(node_type: NodeType, param: Param) -> None:
    assert param.check is not None
    assert param.check(param.default) is None, f"{node_type.type_id}.{param.name}"


def test_settings_are_shown_only_where_they_apply() -> None:
    until = catalogue.require("wait.until")
    by_time = {p.name for p in _shown(until, until.defaults())}
    by_date = {p.name for p in _shown(until, until.with_defaults({"mode": "field"}))}
    assert {"time"} <= by_time and not {"field", "offset", "offset_direction"} & by_time
    assert {"field", "offset", "offset_direction"} <= by_date and "time" not in by_date
    for node_type in (*catalogue.by_category(Category.WAIT), *catalogue.by_category("action")):
        assert "skip_field" not in {p.name for p in _shown(node_type, node_type.defaults())}
        watching = node_type.with_defaults({"skip_if_changed": "field"})
        assert "skip_field" in {p.name for p in _shown(node_type, watching)}


# -- checks ------------------------------------------------------------------------

BAD_BY_KIND: dict[ParamKind, Any] = {
    ParamKind.CRON: "61 * * * *",
    ParamKind.TEXT: "25:00",  # the only checked text is a time of day
    ParamKind.URL: "example.com/hook",
    ParamKind.EMAIL_LIST: "bob@",
    ParamKind.HEADERS: {"Bad Name": "x"},
    ParamKind.TEMPLATE: "x" * 641,  # the only checked template is an SMS text
    ParamKind.RULES: {"match": "all", "rules": [{"field": "amount", "operator": "bigger"}]},
    ParamKind.CASES: [{"value": "DEL", "port": "case_1"}, {"value": "DEL", "port": "case_2"}],
    ParamKind.MULTI_CHOICE: ["DEL", "DEL"],
    ParamKind.STRING_LIST: ["Price approval", " "],
    ParamKind.DURATION: {"amount": 0, "unit": "minutes"},
}
CHECKED = [(t, p) for t in ALL for p in t.params if p.check]


@pytest.mark.parametrize(
    ("node_type", "param"), CHECKED, ids=[f"{t.type_id}.{p.name}" for t, p in CHECKED]
)
def test_every_check_refuses_bad_input_with_a_sentence(node_type: NodeType, param: Any) -> None:
    assert param.check is not None
    assert_sentence(param.check(BAD_BY_KIND[param.kind]))


GARBAGE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["amount", "unit", "match", "rules", "field", "operator", "value", "port"]
            )
            | st.text(max_size=5),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


DISTINCT_CHECKS = list({id(p.check): (t, p) for t, p in CHECKED}.values())


def near_miss(value: Any) -> st.SearchStrategy[Any]:
    """The value with one part, however deep, or all of it replaced: a half-edited setting."""
    options = [GARBAGE]
    if isinstance(value, dict) and value:
        options.append(
            st.sampled_from(sorted(value)).flatmap(
                lambda key: near_miss(value[key]).map(lambda part: {**value, key: part})
            )
        )
    if isinstance(value, list) and value:
        options.append(
            st.integers(0, len(value) - 1).flatmap(
                lambda i: near_miss(value[i]).map(lambda part: [*value[:i], part, *value[i + 1 :]])
            )
        )
    return st.one_of(options)


def _complete(node_type: NodeType) -> dict[str, Any]:
    params = node_type.with_defaults(COMPLETE.get(node_type.type_id, {}))
    if "rules" in params:
        params["rules"] = RULES_OF_EVERY_KIND
    return params


@settings(max_examples=1000, deadline=None)
@given(data=st.data())
def test_checks_never_fail_on_half_edited_values(data: st.DataObject) -> None:
    node_type, param = data.draw(st.sampled_from(DISTINCT_CHECKS))
    seed = data.draw(st.sampled_from([_complete(node_type)[param.name], BAD_BY_KIND[param.kind]]))
    assert param.check is not None
    message = param.check(data.draw(near_miss(seed)))
    assert message is None or message.endswith(".")


@settings(max_examples=500, deadline=None)
@given(data=st.data())
def test_summaries_never_fail_on_half_edited_or_garbage_settings(data: st.DataObject) -> None:
    node_type = data.draw(st.sampled_from(ALL))
    params = data.draw(near_miss(_complete(node_type)))
    params = params if isinstance(params, dict) else {}
    for title in (
        node_type.title(params, CONTEXT),
        node_type.summary(params, CONTEXT),
        node_type.summary({}, SummaryContext()),
        node_type.title({}),
    ):
        assert isinstance(title, str) and title.strip()


@pytest.mark.parametrize(
    "cron",
    ["0 8 * * 1-5", "*/15 * * * *", "0 9 1 * *", "30 7 * jan-mar mon-fri", "0,30 8-18/2 * * 0,6,7"],
)
def test_cron_accepts_ordinary_schedules(cron: str) -> None:
    assert cron_problem(cron) is None


@pytest.mark.parametrize(
    ("cron", "why"),
    [
        ("61 * * * *", "The minute must be a number from 0 to 59; '61' is not."),
        ("0 8 * *", "A schedule has five parts"),
        ("x", "A schedule has five parts"),
        ("0 24 * * *", "The hour must be a number from 0 to 23"),
        ("0 8 0 * *", "The day of the month must be a number from 1 to 31"),
        ("0 8 * 13 *", "The month must be a number from 1 to 12"),
        ("0 8 * * fri-mon", "The weekday range 'fri-mon' runs backwards"),
        ("*/0 * * * *", "The step after '/' in the minute"),
        ("0 8,,9 * * *", "The hour has an empty entry"),
        ("", "Write when to run"),
    ],
)
def test_cron_refuses_broken_schedules_in_plain_words(cron: str, why: str) -> None:
    message = cron_problem(cron)
    assert message is not None and message.startswith(why)
    assert_sentence(message)


@pytest.mark.parametrize(
    ("cron", "words"),
    [
        ("0 8 * * 1-5", "Every weekday at 08:00"),
        ("30 17 * * *", "Every day at 17:30"),
        ("0 9 * * mon", "Every Monday at 09:00"),
        ("0 9 * * 1,3,5", "Every Monday, Wednesday and Friday at 09:00"),
        ("0 9 1 * *", "On day 1 of every month at 09:00"),
        ("*/15 * * * *", "Every 15 minutes"),
        ("*/15 * * * 1-5", "Every 15 minutes on weekdays"),
        ("5 * * * *", "Every hour at 5 minutes past"),
        ("0 8-18/2 * * *", "On schedule 0 8-18/2 * * *"),
    ],
)
def test_schedules_read_in_words(cron: str, words: str) -> None:
    assert describe_cron(cron) == words


# -- summaries as the canvas shows them --------------------------------------------


@pytest.mark.parametrize(
    ("type_id", "params", "title"),
    [
        ("trigger.status_entered", {"codes": ["DEL"]}, "Status becomes DEL – Delivered"),
        (
            "trigger.status_entered",
            {"codes": ["DEL", "CAN"], "from_code": "NEW"},
            "Status becomes DEL – Delivered or CAN – Cancelled from NEW – New",
        ),
        ("trigger.label_applied", {"label": "VIP"}, "Label 'VIP' applied"),
        (
            "trigger.schedule",
            {"in_status": ["ASN"], "min_age": {"amount": 2, "unit": "days"}},
            "Every weekday at 08:00 for records in ASN – Assigned longer than 2 days",
        ),
        ("condition.rules", {"rules": RULE_SET}, "If amount is greater than 500 and status is DEL"),
        (
            "condition.switch",
            {"field": "status", "cases": [{"value": v, "port": ""} for v in "ABC"]},
            "Switch on status (3 cases)",
        ),
        ("wait.duration", {}, "Wait 5 minutes"),
        ("wait.until", {}, "Wait until 09:00"),
        (
            "wait.until",
            {"mode": "field", "field": "delivery_date", "offset": {"amount": 2, "unit": "days"}},
            "Wait until 2 days after delivery_date",
        ),
        (
            "wait.status",
            {"codes": ["ASN"], "timeout": {"amount": 2, "unit": "days"}},
            "Wait up to 2 days for ASN – Assigned",
        ),
        (
            "action.send_email",
            {"subject": "Your order has been delivered"},
            "Email ‹email›: Your order has been delivered",
        ),
        (
            "action.send_email",
            {"subject": "Your order has been delivered to the address you gave us"},
            "Email ‹email›: Your order has been delivered to the…",
        ),
        ("action.send_sms", {"message": "On its way"}, "SMS ‹phone›: On its way"),
        ("action.webhook", {"url": "https://example.com/hook"}, "POST https://example.com/hook"),
        ("action.set_status", {"code": "ASN"}, "Set status to ASN – Assigned"),
        ("action.set_field", {"field": "priority", "value": "high"}, "Set priority to high"),
        ("action.apply_label", {"label": "VIP", "remove": True}, "Remove label 'VIP'"),
        (
            "action.create_task",
            {"title": "Call the customer", "assignee_role": "operator"},
            "Task for operator: Call the customer",
        ),
        (
            "human.approval",
            {"approvals": ["Price approval", "Legal review"]},
            "Approval: Price approval, Legal review",
        ),
    ],
)
def test_titles_read_as_plain_words(type_id: str, params: dict[str, Any], title: str) -> None:
    assert catalogue.require(type_id).title(params, CONTEXT) == title


def test_status_titles_show_the_bare_code_when_its_description_is_unknown() -> None:
    node_type = catalogue.require("trigger.status_entered")
    assert node_type.title({"codes": ["XYZ"]}) == "Status becomes XYZ"


# -- individual checks users meet often --------------------------------------------


def _check(type_id: str, name: str, value: Any) -> str | None:
    check = catalogue.require(type_id).param(name).check
    assert check is not None
    return check(value)


@pytest.mark.parametrize(
    ("rule", "why"),
    [
        ({"field": "", "operator": "equals", "value": 1}, "Rule 1 has no field"),
        ({"field": "status", "operator": "one_of", "value": []}, "Rule 1 needs at least one"),
        ({"field": "amount", "operator": "equals", "value": ""}, "Rule 1 needs a value"),
        ("amount > 5", "Rule 1 has no field"),
    ],
)
def test_incomplete_rules_are_refused(rule: Any, why: str) -> None:
    message = _check("condition.rules", "rules", {"match": "any", "rules": [rule]})
    assert message is not None and message.startswith(why)


def test_rules_need_all_or_any_and_unary_rules_need_no_value() -> None:
    unary = {"field": "email", "operator": "is_empty"}
    assert _check("condition.rules", "rules", {"match": "all", "rules": [unary]}) is None
    assert _check("condition.rules", "rules", {"match": "most", "rules": [unary]})


def test_switch_refuses_too_many_cases_blank_values_and_shared_outputs() -> None:
    six = [{"value": str(n), "port": f"case_{n}"} for n in range(1, 7)]
    assert "at most 5 cases" in (_check("condition.switch", "cases", six) or "")
    blank = [{"value": " ", "port": "case_1"}]
    assert "has no value" in (_check("condition.switch", "cases", blank) or "")
    shared = [{"value": "A", "port": "case_1"}, {"value": "B", "port": "case_1"}]
    assert "own output" in (_check("condition.switch", "cases", shared) or "")
    assert _check("condition.switch", "cases", six[:5]) is None


def test_sms_length_counts_only_the_fixed_text() -> None:
    long_placeholders = "Hi {{ " + "x" * 700 + " }}"
    assert _check("action.send_sms", "message", long_placeholders) is None
    message = _check("action.send_sms", "message", "x" * 641)
    assert message is not None and "641 characters" in message


@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        ("url", "https://example.com/orders/{{ id }}?x=1", "ftp://example.com"),
        ("url", "https://{{ host }}/hook", "https:///hook"),
        ("headers", {"X-Order-Id": "{{ id }}"}, {"X Order": "1"}),
    ],
)
def test_webhook_checks(name: str, good: Any, bad: Any) -> None:
    assert _check("action.webhook", name, good) is None
    assert_sentence(_check("action.webhook", name, bad))


def test_email_recipients_may_mix_addresses_and_placeholders() -> None:
    assert (
        _check(
            "action.send_email", "to", "ops@example.com; {{ email }}, a.b@c.co, {{ pick(a, b) }}"
        )
        is None
    )
    message = _check("action.send_email", "to", "ops@example.com, bob")
    assert message is not None and message.startswith("'bob' is not an email address")
