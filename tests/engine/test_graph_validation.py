"""Validation finds every problem of a graph and says each one in plain words."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import GraphFormatError
from engine.graph.context import ValidationContext
from engine.graph.model import Edge, Graph, Node, PortRef
from engine.graph.validation import Problem, validate
from engine.nodes import catalogue

ORDERS = ValidationContext(
    source="orders",
    status_codes={"NEW": "New", "DEL": "Delivered", "SNA": "Salesperson not assigned"},
    fields={"email": "text", "customer_name": "text", "total": "number", "due_on": "date"},
    labels=frozenset({"vip"}),
    users=frozenset({"ann", "bob"}),
    lookups_known=True,
)
OFFLINE = ValidationContext()


def node(node_id: str, type_id: str, **params: Any) -> Node:
    return Node(node_id, type_id, params)


def edge(source: str, target: str, out: str = "out", into: str = "in") -> Edge:
    return Edge(f"{source}-{out}-{target}", PortRef(source, out), PortRef(target, into))


TRIGGER = node("t", "trigger.status_entered", codes=["DEL"])
EMAIL = node("mail", "action.send_email", subject="Order {{ record_key }}", body_text="Thanks")


def build(*nodes: Node, edges: tuple[Edge, ...] = (), source: str | None = "orders") -> Graph:
    return Graph(id="g", name="Test", source=source, nodes=(TRIGGER, *nodes), edges=edges)


def only(problems: list[Problem], node_id: str | None = None) -> Problem:
    matching = [p for p in problems if node_id is None or p.node_id == node_id]
    assert len(matching) == 1, matching
    return matching[0]


def test_a_complete_graph_has_no_problems() -> None:
    graph = build(EMAIL, edges=(edge("t", "mail"),))
    assert validate(graph, ORDERS) == []
    assert validate(graph, OFFLINE) == []


def test_unknown_node_type() -> None:
    problem = only(validate(build(node("x", "action.teleport"), edges=(edge("t", "x"),)), ORDERS))
    assert (problem.node_id, problem.field, problem.severity) == ("x", "type", "error")
    assert "'action.teleport' is not a kind of step" in problem.message
    assert problem.message.endswith(
        "Delete it, or update StatusFlow if the graph came from a newer version."
    )


def test_steps_after_an_unknown_one_are_still_checked() -> None:
    teleport, empty = node("x", "action.teleport"), node("n", "action.add_note", note="")
    graph = build(teleport, empty, edges=(edge("t", "x"), edge("t", "n")))
    assert [(p.node_id, p.field) for p in validate(graph, ORDERS)] == [("x", "type"), ("n", "note")]


def test_no_trigger() -> None:
    graph = Graph(id="g", name="n", source="orders", nodes=(EMAIL,))
    problem = only(validate(graph, OFFLINE))
    assert problem.node_id is None and "has no trigger" in problem.message


def test_several_triggers_are_allowed() -> None:
    manual = node("m", "trigger.manual")
    graph = build(manual, EMAIL, edges=(edge("t", "mail"), edge("m", "mail")))
    assert validate(graph, ORDERS) == []


def test_a_step_not_reachable_from_a_trigger_is_a_warning() -> None:
    problem = only(validate(build(EMAIL), ORDERS))
    assert (problem.node_id, problem.severity) == ("mail", "warning")
    assert "not connected to a trigger, so it will never run" in problem.message


def test_connections_to_missing_steps_and_ports() -> None:
    edges = (
        edge("t", "gone"),
        edge("lost", "mail"),
        edge("t", "mail", out="yes"),
        edge("mail", "t", out="in", into="out"),
    )
    messages = [p.message for p in validate(build(EMAIL, edges=edges), ORDERS)]
    assert any("ends at a step that is no longer in this graph" in m for m in messages)
    assert any("starts at a step that is no longer in this graph" in m for m in messages)
    assert any("at 'yes', but it has no output by that name" in m for m in messages)
    assert any("starts at the input of" in m for m in messages)
    assert any("is a trigger, and a trigger starts a run" in m for m in messages)


def test_structural_problems_are_said_word_for_word_at_the_step_to_fix() -> None:
    """The designer shows these sentences as they are and marks the step each names
    (for a connection from a deleted step: the step it still leads into)."""
    note = node("n", "action.add_note", note="x")
    edges = (
        edge("t", "mail"),
        edge("t", "mail"),
        edge("lost", "mail"),
        edge("mail", "t"),
        edge("t", "n", into="zz"),
        edge("mail", "n", out="in", into="out"),
    )
    said = [
        (p.node_id, p.severity, p.message)
        for p in validate(build(EMAIL, note, edges=edges), ORDERS)
    ]
    trigger, email = "'Status becomes DEL – Delivered'", "'Email ‹email›: Order ‹record_key›'"
    assert said == [
        ("t", "warning", "Two connections join the same two points; delete one of them."),
        (
            "mail",
            "error",
            "A connection starts at a step that is no longer in this graph. "
            "Delete that connection.",
        ),
        (
            "t",
            "error",
            f"{trigger} is a trigger, and a trigger starts a run: no step can lead into it. "
            "Remove the connection into it.",
        ),
        (
            "n",
            "error",
            "A connection goes into 'Note: x' at 'zz', but it has no input by that name. "
            "Delete the connection and draw it again.",
        ),
        (
            "mail",
            "error",
            f"A connection starts at the input of {email}. Connections go from an output "
            "to an input; draw it again.",
        ),
        (
            "n",
            "error",
            "A connection goes into the output of 'Note: x'. Connections go from an output "
            "to an input; draw it again.",
        ),
        (
            "t",
            "error",
            f"These steps would repeat forever without pause: {trigger} → {email} → {trigger}. "
            "Put a wait or an approval in the loop, or remove a connection.",
        ),
    ]
    [untriggered] = validate(Graph(id="g", name="n", source="orders", nodes=(EMAIL,)), ORDERS)
    assert untriggered.message == (
        "This graph has no trigger, so it would never start. Add a trigger such as "
        "'Status becomes' and connect the first step to it."
    )
    [unreached] = validate(build(EMAIL), ORDERS)
    assert unreached.message == (
        f"{email} is not connected to a trigger, so it will never run. "
        "Connect it after a trigger, or delete it."
    )
    [no_source] = validate(build(EMAIL, edges=(edge("t", "mail"),), source=None), ORDERS)
    assert no_source.message == (
        "This graph uses status codes or record fields but does not say which records it "
        "works on. Choose a record source (for example orders) in the graph settings."
    )


def test_each_loop_is_reported_once_even_when_loops_interleave() -> None:
    def step(node_id: str) -> Node:
        return node(node_id, "action.add_note", note=node_id)

    edges = (
        *(edge("t", s) for s in ("a1", "b1")),
        *(edge(x, y) for x, y in (("a1", "a2"), ("a2", "a1"), ("b1", "b2"), ("b2", "b1"))),
    )
    graph = build(step("a1"), step("b1"), step("a2"), step("b2"), edges=edges)
    assert [p.node_id for p in validate(graph, ORDERS)] == ["a1", "b1"]


def test_a_connection_into_an_output() -> None:
    wait = node("w", "wait.duration", duration={"amount": 1, "unit": "hours"})
    graph = build(wait, edges=(edge("t", "w", into="out"),))
    assert "goes into the output of 'Wait 1 hour'" in only(validate(graph, ORDERS), "w").message


def test_an_input_may_have_several_incoming_connections() -> None:
    wait = node("w", "wait.duration", duration={"amount": 5, "unit": "minutes"})
    edges = (edge("t", "w"), edge("t", "mail"), edge("w", "mail"))
    assert validate(build(wait, EMAIL, edges=edges), ORDERS) == []


def test_a_condition_with_no_branch_connected_is_a_warning() -> None:
    rules = {"match": "all", "rules": [{"field": "total", "operator": "greater_than", "value": 9}]}
    check = node("c", "condition.rules", rules=rules)
    problem = only(validate(build(check, edges=(edge("t", "c"),)), ORDERS))
    assert (problem.node_id, problem.severity) == ("c", "warning")
    assert "none of its branches connected" in problem.message and "Yes, No" in problem.message
    connected = build(check, EMAIL, edges=(edge("t", "c"), edge("c", "mail", out="false")))
    assert validate(connected, ORDERS) == []


def test_a_required_parameter_that_is_missing() -> None:
    mail = node("mail", "action.send_email", subject="  ", body_text="Hi")
    problem = only(validate(build(mail, edges=(edge("t", "mail"),)), ORDERS))
    assert (problem.field, problem.severity) == ("subject", "error")
    assert "Subject is required" in problem.message


def test_a_hidden_parameter_is_not_required() -> None:
    mail = node("mail", "action.send_email", subject="S", body_text="B", skip_if_changed="field")
    problem = only(validate(build(mail, edges=(edge("t", "mail"),)), ORDERS))
    assert problem.field == "skip_field"
    shown = node("mail", "action.send_email", subject="S", body_text="B")
    assert validate(build(shown, edges=(edge("t", "mail"),)), ORDERS) == []


def test_a_value_of_the_wrong_shape_uses_the_duration_sentence() -> None:
    wait = node("w", "wait.duration", duration="5 minutes")
    problem = only(validate(build(wait, edges=(edge("t", "w"),)), ORDERS))
    assert problem.field == "duration"
    assert "Give an amount and a unit, for example 5 minutes." in problem.message


def test_numbers_outside_their_range() -> None:
    def said(attempts: int) -> list[str]:
        mail = node(
            "mail", "action.send_email", subject="S", body_text="B", retry_attempts=attempts
        )
        return [p.message for p in validate(build(mail, edges=(edge("t", "mail"),)), ORDERS)]

    assert said(0) == ["'Email ‹email›: S': Attempts: this must be at least 1."]
    assert said(11) == ["'Email ‹email›: S': Attempts: this must be at most 10."]
    assert said(1) == said(10) == []  # both ends of the range are allowed


def test_the_node_types_own_check_is_reported() -> None:
    switch = node("s", "condition.switch", field="customer_name", cases=[])
    cases = [{"value": "x", "port": "case_1"}, {"value": "x", "port": "case_2"}]
    twice = node("s", "condition.switch", field="customer_name", cases=cases)
    edges = (edge("t", "s"), edge("s", "mail", out="default"))
    assert "Cases is required" in only(validate(build(switch, EMAIL, edges=edges), ORDERS)).message
    problem = only(validate(build(twice, EMAIL, edges=edges), ORDERS))
    assert problem.field == "cases" and "appears in two cases" in problem.message


def test_an_unknown_status_code_lists_the_known_codes() -> None:
    trigger = node("t", "trigger.status_entered", codes=["DEL", "DELL"])
    graph = Graph(id="g", name="n", source="orders", nodes=(trigger,))
    problem = only(validate(graph, ORDERS))
    assert (problem.node_id, problem.field) == ("t", "codes")
    assert "orders records have no status code 'DELL'" in problem.message
    assert "NEW (New), DEL (Delivered), SNA (Salesperson not assigned)" in problem.message


def test_unknown_fields_in_choices_date_fields_rules_and_switches() -> None:
    set_field = node("f", "action.set_field", field="colour", value="red")
    wait = node("w", "wait.until", mode="field", field="email")
    rules = {"match": "any", "rules": [{"field": "totl", "operator": "is_empty"}]}
    check = node("c", "condition.rules", rules=rules)
    switch = node("s", "condition.switch", field="region", cases=[{"value": "x", "port": "case_1"}])
    edges = (
        edge("t", "f"),
        edge("f", "w"),
        edge("w", "c"),
        edge("c", "s"),
        edge("s", "f", "default"),
    )
    problems = {
        p.node_id: p for p in validate(build(set_field, wait, check, switch, edges=edges), ORDERS)
    }
    fields = "Fields you can use: customer_name, due_on, email, total."
    assert f"orders records have no field 'colour'. {fields}" in problems["f"].message
    assert (
        "'email' is not a date field of orders records. Date fields: due_on."
        in problems["w"].message
    )
    assert "rule 1: orders records have no field 'totl'" in problems["c"].message
    assert problems["s"].field == "field" and "no field 'region'" in problems["s"].message


def test_an_unknown_label_is_only_a_warning() -> None:
    label = node("l", "action.apply_label", label="vipp")
    problem = only(validate(build(label, edges=(edge("t", "l"),)), ORDERS))
    assert (problem.field, problem.severity) == ("label", "warning")
    assert "the label 'vipp' has never been used on orders records" in problem.message


def test_unknown_user_and_role() -> None:
    task = node("k", "action.create_task", title="Call", assignee_user="zoe", assignee_role="boss")
    problems = validate(build(task, edges=(edge("t", "k"),)), ORDERS)
    by_field = {p.field: p.message for p in problems}
    assert "there is no user 'zoe'. Users: ann, bob." in by_field["assignee_user"]
    assert (
        "there is no role 'boss'. Roles: admin, designer, operator, publisher."
        in by_field["assignee_role"]
    )


def test_rules_with_an_unknown_operator_or_a_missing_value_are_all_reported() -> None:
    rules = {
        "match": "all",
        "rules": [
            {"field": "total", "operator": "roughly", "value": 1},
            {"field": "email", "operator": "contains", "value": ""},
            {"field": "email", "operator": "is_not_empty"},
            {"field": "email", "operator": ["equals"], "value": "x"},
            {"field": "email", "operator": "one_of", "value": "a@example.com"},
            {"field": "email", "operator": "one_of", "value": ["a@example.com"]},
        ],
    }
    check = node("c", "condition.rules", rules=rules)
    problems = validate(
        build(check, EMAIL, edges=(edge("t", "c"), edge("c", "mail", "true"))), ORDERS
    )
    messages = [p.message for p in problems]
    assert len(messages) == 4
    assert "Rules, rule 1: choose how to compare (is, is not" in messages[0]
    assert "Rules, rule 2: 'contains' needs a value to compare with." in messages[1]
    assert "Rules, rule 4: choose how to compare (is, is not" in messages[2]
    assert "Rules, rule 5: 'is one of' needs a list of values." in messages[3]
    assert {p.severity for p in problems} == {"error"}  # the graph cannot be published


def test_the_documented_unknown_template_variable_message() -> None:
    mail = node(
        "mail", "action.send_email", subject="Your order, {{ customer_nme }}", body_text="x"
    )
    problem = only(validate(build(mail, edges=(edge("t", "mail"),)), ORDERS))
    assert problem.field == "subject"
    assert problem.message.startswith(
        "'Email ‹email›: Your order, ‹customer_nme›': the subject uses"
    )
    assert "{{ customer_nme }}, but orders records have no field 'customer_nme'" in problem.message
    assert "Fields you can use: customer_name, due_on, email, total, record_key" in problem.message


def test_template_syntax_errors_give_the_line() -> None:
    mail = node("mail", "action.send_email", subject="S", body_text="Hello\n{{ customer_name }")
    problem = only(validate(build(mail, edges=(edge("t", "mail"),)), OFFLINE))
    assert problem.field == "body_text" and "Line 2" in problem.message


def test_headers_and_json_templates_are_checked() -> None:
    hook = node(
        "h",
        "action.webhook",
        url="https://example.com/{{ record_key }}",
        headers={"X-Order": "{{ ordr }}"},
        body='{"who": "{{ customer_name }}", "n": ["{{ totl }}"]}',
    )
    problems = validate(build(hook, edges=(edge("t", "h"),)), ORDERS)
    assert [(p.field, "ordr" in p.message or "totl" in p.message) for p in problems] == [
        ("headers", True),
        ("body", True),
    ]
    broken = node("h", "action.webhook", url="https://example.com", body='{"who": }')
    problem = only(validate(build(broken, edges=(edge("t", "h"),)), ORDERS))
    assert problem.field == "body" and "JSON" in problem.message


def test_a_loop_without_a_wait_repeats_forever() -> None:
    other = node("m2", "action.send_email", subject="Again", body_text="x")
    edges = (edge("t", "mail"), edge("mail", "m2"), edge("m2", "mail"))
    problem = only(validate(build(EMAIL, other, edges=edges), ORDERS))
    assert problem.node_id == "mail"
    assert "would repeat forever without pause" in problem.message
    assert problem.message.count("→") == 2


def test_a_loop_with_a_wait_is_allowed() -> None:
    wait = node("w", "wait.duration", duration={"amount": 1, "unit": "days"})
    edges = (edge("t", "mail"), edge("mail", "w"), edge("w", "mail"))
    assert validate(build(EMAIL, wait, edges=edges), ORDERS) == []


def test_a_graph_using_record_data_needs_a_source() -> None:
    problem = only(validate(build(EMAIL, edges=(edge("t", "mail"),), source=None), ORDERS))
    assert (problem.node_id, problem.field) == (None, "source")
    assert "does not say which records it works on" in problem.message
    manual = Graph(id="g", name="n", nodes=(node("m", "trigger.manual"),))
    assert validate(manual, ORDERS) == []


def test_a_source_is_asked_for_exactly_when_a_step_uses_record_data() -> None:
    """Codes, rules, a field named in a template (even before the field to set is
    chosen) need a source; a plain note and a trigger with no codes chosen yet do not."""
    manual = node("m", "trigger.manual")

    def asks_for_a_source(step: Node) -> bool:
        graph = Graph(id="g", name="n", nodes=(manual, step), edges=(edge("m", step.id),))
        return any(p.field == "source" for p in validate(graph, ORDERS))

    assert not asks_for_a_source(node("n", "action.add_note", note="Checked."))
    assert asks_for_a_source(node("n", "action.add_note", note="By {{ customer_name }}."))
    assert asks_for_a_source(node("f", "action.set_field", value="{{ customer_name }}"))
    rules = {"match": "all", "rules": [{"field": "total", "operator": "is_empty"}]}
    assert asks_for_a_source(node("c", "condition.rules", rules=rules))
    assert asks_for_a_source(node("t", "trigger.status_entered", codes=["DEL"]))
    assert not asks_for_a_source(node("t", "trigger.status_entered", codes=[]))


def test_a_value_of_the_wrong_shape_says_what_it_should_be() -> None:
    """An imported or hand-edited graph may hold a value of the wrong form: each one is
    reported with what to do, naming the rule that is incomplete."""

    def says(step: Node, field: str) -> str:
        [problem] = [p for p in validate(build(step), ORDERS) if p.field == field]
        return problem.message.split(": ", 1)[1]

    def rules_say(rules: object) -> str:
        return says(node("c", "condition.rules", rules=rules), "rules")

    def cases_say(cases: object) -> str:
        return says(node("s", "condition.switch", field="customer_name", cases=cases), "cases")

    assert says(node("w", "wait.status", codes="DEL"), "codes") == (
        "Statuses: this should be a list of choices."
    )
    assert rules_say("total > 9") == "Rules: choose whether all rules or any one rule must hold."
    assert rules_say({"match": "all", "rules": "total > 9"}) == "Rules: add at least one rule."
    incomplete = "is incomplete; choose its field and how to compare."
    complete = {"field": "total", "operator": "is_empty"}
    assert rules_say({"match": "all", "rules": [complete, {"field": "total"}]}) == (
        f"Rules: rule 2 {incomplete}"
    )
    assert rules_say({"match": "any", "rules": [{"operator": "is_empty"}]}) == (
        f"Rules: rule 1 {incomplete}"
    )
    unreadable = "Cases: the cases could not be read; set them up again."
    assert cases_say(7) == unreadable
    assert cases_say([{"port": "case_1"}]) == unreadable
    assert cases_say([{"value": "x"}]) == unreadable
    assert cases_say({"value": "x", "port": "case_1"}) == unreadable


def test_without_the_database_names_are_not_checked() -> None:
    set_field = node("f", "action.set_field", field="colour", value="{{ whatever }}")
    trigger = node("t", "trigger.status_entered", codes=["ZZZ"])
    graph = Graph(
        id="g", name="n", source="orders", nodes=(trigger, set_field), edges=(edge("t", "f"),)
    )
    assert validate(graph, OFFLINE) == []
    assert validate(graph, ValidationContext(source="other", lookups_known=True)) == []


# -- any graph from_document accepts can be validated without an exception -----------------

TYPE_IDS = [t.type_id for t in catalogue.all_types()] + ["action.unknown"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
templates = st.sampled_from(["{{ email }}", "{{ x ", "{% if %}", '{"a": "{{ b }}"}', "{ nope"])


@st.composite
def params_for(draw: st.DrawFn, type_id: str) -> dict[str, Any]:
    node_type = catalogue.get(type_id)
    params = node_type.defaults() if node_type and draw(st.booleans()) else {}
    names = [p.name for p in node_type.params] if node_type else ["x"]
    for name in draw(st.lists(st.sampled_from([*names, "extra"]), max_size=4)):
        params[name] = draw(json_values | templates)
    return params


@st.composite
def graphs(draw: st.DrawFn) -> Graph:
    ids = [f"n{i}" for i in range(draw(st.integers(0, 5)))]
    nodes = []
    for node_id in ids:
        type_id = draw(st.sampled_from(TYPE_IDS))
        nodes.append({"id": node_id, "type": type_id, "params": draw(params_for(type_id))})
    ends = st.fixed_dictionaries(
        {
            "node": st.sampled_from([*ids, "ghost"]),
            "port": st.sampled_from(["in", "out", "true", "x"]),
        }
    )
    edges = draw(st.lists(st.fixed_dictionaries({"from": ends, "to": ends}), max_size=7))
    doc = {
        "format_version": 2,
        "id": "g",
        "name": "n",
        "source": draw(st.sampled_from([None, "orders", "other"])),
        "nodes": nodes,
        "edges": [{"id": f"e{i}", **e} for i, e in enumerate(edges)],
    }
    try:
        return Graph.from_document(copy.deepcopy(doc))
    except GraphFormatError:
        raise AssertionError(f"generated a document the schema refuses: {doc}") from None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(), st.sampled_from([ORDERS, OFFLINE]))
def test_validate_returns_problems_and_never_raises(
    graph: Graph, context: ValidationContext
) -> None:
    problems = validate(graph, context)
    assert all(
        isinstance(p, Problem) and p.message and p.severity in ("error", "warning")
        for p in problems
    )
