"""Condition rules: every operator against every kind of field, and through the engine.

What the rules promise (see ``engine.runtime.rules``): numbers compare as numbers, never
as text ("1000" > "500"); dates and times compare as moments, an aware time keeping its
zone; text ignores case and surrounding spaces; a value that is not a number ("nan",
"inf", "abc") is never less or greater than a number and never crashes the check; a
record's labels "are" or "contain" a value when one of them is it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from engine.clock import ManualClock
from engine.nodes.operators import OPERATORS
from engine.runtime.engine import Engine
from engine.runtime.rules import evaluate, holds
from engine.runtime.runs import jsonable
from engine.settings import set_setting
from engine.storage.database import Database
from engine.time_zone import TIME_ZONE
from tests.engine.runtime.graphs import Builder
from tests.engine.runtime.support import engine, publish, run_states, set_status, shop, timeline
from tests.host import as_host

STOCKHOLM = ZoneInfo("Europe/Stockholm")
PLUS_TWO = timezone(timedelta(hours=2))


class _Absent:
    def __repr__(self) -> str:
        return "(no such field)"


ABSENT = _Absent()  # the record has no such field at all


def case(
    value: Any, operator: str, expected: Any, verdict: bool, shown: str, words: str = ""
) -> Any:
    """One rule ``x <operator> expected`` on a record whose x is ``value``; ``shown`` is
    how the explanation shows the record's value ("it is ..."), ``words`` the rule when
    the explanation does not repeat the value as typed."""
    name = f"{value!r} {operator} {expected!r}"
    return pytest.param(value, operator, expected, verdict, shown, words, id=name[:80])


CASES = [
    # text: case and surrounding spaces do not matter, letters order alphabetically
    case("Anna Berg", "equals", "anna BERG", True, "'Anna Berg'"),
    case(" Anna ", "equals", "ANNA  ", True, "' Anna '"),
    case("Anna", "equals", "Ann", False, "'Anna'"),
    case("Anna", "not_equals", "ANNA", False, "'Anna'"),
    case("Anna", "not_equals", "Ben", True, "'Anna'"),
    case("Anna Berg", "contains", "BERG", True, "'Anna Berg'"),
    case("Anna Berg", "contains", " berg ", True, "'Anna Berg'"),
    case("Anna", "contains", "Ben", False, "'Anna'"),
    case("SNA", "one_of", ["new", "sna"], True, "'SNA'"),
    case("SNA", "one_of", "NEW, SNA", True, "'SNA'"),
    case("ASN", "one_of", ["NEW", "SNA"], False, "'ASN'"),
    case("", "one_of", "NEW,,SNA ,", False, "''", words="x is one of NEW, SNA"),
    case("apple", "less_than", "Banana", True, "'apple'"),
    case("cherry", "less_than", "banana", False, "'cherry'"),
    case("cherry", "greater_than", "Banana", True, "'cherry'"),
    case("apple", "greater_than", "banana", False, "'apple'"),
    case("banana", "greater_than", "BANANA", False, "'banana'"),
    case("banana", "less_than", "BANANA", False, "'banana'"),
    case("", "equals", "x", False, "''"),
    case("", "less_than", "1", False, "''"),
    # empty and missing
    case("", "is_empty", None, True, "''"),
    case("   ", "is_empty", None, True, "'   '"),
    case("x", "is_empty", None, False, "'x'"),
    case(None, "is_empty", None, True, "empty"),
    case(ABSENT, "is_empty", None, True, "empty"),
    case(0, "is_empty", None, False, "0"),
    case(False, "is_empty", None, False, "False"),
    case("x", "is_not_empty", None, True, "'x'"),
    case("", "is_not_empty", None, False, "''"),
    case("  ", "is_not_empty", None, False, "'  '"),
    case(None, "is_not_empty", None, False, "empty"),
    case(ABSENT, "is_not_empty", None, False, "empty"),
    case(0, "is_not_empty", None, True, "0"),
    case(None, "equals", "x", False, "empty"),
    case(None, "equals", "None", False, "empty"),
    case(ABSENT, "equals", "x", False, "empty"),
    case(None, "not_equals", "x", True, "empty"),
    case(ABSENT, "not_equals", "x", True, "empty"),
    case(None, "not_equals", "", False, "empty"),
    case(None, "one_of", ["none", "x"], False, "empty"),
    case(None, "contains", "none", False, "empty"),
    case(None, "greater_than", "0", False, "empty"),
    case(None, "less_than", "0", False, "empty"),
    # integers: numeric order, not text order ("1000" < "500" and "9" > "10" as text)
    case(1000, "greater_than", "500", True, "1000"),
    case(90, "greater_than", "500", False, "90"),
    case(9, "less_than", "10", True, "9"),
    case(10, "less_than", "9", False, "10"),
    case(500, "greater_than", "500", False, "500"),
    case(500, "less_than", "500", False, "500"),
    case(-5, "less_than", "0", True, "-5"),
    case(500, "equals", "500.00", True, "500"),
    case(500, "equals", " 500 ", True, "500"),
    case(500, "equals", "501", False, "500"),
    case(500, "not_equals", "500", False, "500"),
    case(500, "not_equals", "499", True, "500"),
    case(0, "equals", "0", True, "0"),
    case(0, "contains", "0", True, "0"),
    case(1000, "contains", "00", True, "1000"),
    case(1000, "one_of", "10, 1000", True, "1000"),
    case(100, "one_of", ["10", "1000"], False, "100"),
    case("1000", "greater_than", "500", True, "'1000'"),
    case("9", "less_than", "10", True, "'9'"),
    case("007", "equals", "7", True, "'007'"),
    # decimals, and a decimal comma typed in the form or stored in the record
    case(Decimal("12.50"), "equals", "12,5", True, "12.50"),
    case(Decimal("12.50"), "greater_than", "12,4", True, "12.50"),
    case(Decimal("12.5"), "less_than", "12,5", False, "12.5"),
    case(Decimal("1000.00"), "greater_than", "500", True, "1000.00"),
    case(Decimal("99.99"), "less_than", "100", True, "99.99"),
    case("12,5", "less_than", "12.6", True, "'12,5'"),
    case(12.5, "equals", "12,5", True, "12.5"),
    case(0.1, "greater_than", "0.09", True, "0.1"),
    # not numbers: never ordered against a number, never a crash
    case("nan", "greater_than", "1", False, "'nan'"),
    case("nan", "less_than", "1", False, "'nan'"),
    case("NaN", "equals", "1", False, "'NaN'"),
    case("nan", "equals", "NaN", True, "'nan'"),
    case("snan", "equals", "1", False, "'snan'"),
    case("snan", "not_equals", "1", True, "'snan'"),
    case("snan", "less_than", "1", False, "'snan'"),
    case("inf", "greater_than", "1", False, "'inf'"),
    case("-Infinity", "less_than", "0", False, "'-Infinity'"),
    case(float("nan"), "greater_than", "1", False, "nan"),
    case(float("inf"), "greater_than", "1", False, "inf"),
    case(1, "greater_than", "nan", False, "1"),
    case(1, "less_than", "inf", False, "1"),
    case(1, "equals", "nan", False, "1"),
    case("abc", "greater_than", "500", False, "'abc'"),
    case("abc", "less_than", "500", False, "'abc'"),
    case(500, "greater_than", "abc", False, "500"),
    case(500, "less_than", "abc", False, "500"),
    case(500, "equals", "abc", False, "500"),
    case(500, "not_equals", "abc", True, "500"),
    # booleans are not numbers
    case(True, "equals", "true", True, "True"),
    case(True, "equals", " TRUE ", True, "True"),
    case(False, "equals", "true", False, "False"),
    case(True, "equals", "1", False, "True"),
    case(True, "greater_than", "0", False, "True"),
    case(False, "not_equals", "false", False, "False"),
    # dates
    case(date(2026, 3, 1), "greater_than", "2026-02-28", True, "2026-03-01"),
    case(date(2026, 3, 1), "less_than", "2026-02-28", False, "2026-03-01"),
    case(date(2026, 3, 1), "equals", " 2026-03-01 ", True, "2026-03-01"),
    case(date(2026, 3, 1), "equals", "2026-03-02", False, "2026-03-01"),
    case(date(2026, 3, 1), "not_equals", "2026-03-01", False, "2026-03-01"),
    case(date(2026, 3, 1), "less_than", "2026-03-01T00:00:01", True, "2026-03-01"),
    case(date(2026, 3, 1), "greater_than", "soon", False, "2026-03-01"),
    case(date(2026, 3, 1), "less_than", "soon", False, "2026-03-01"),
    case(date(2026, 3, 1), "less_than", "20260302", True, "2026-03-01"),
    case(date(2026, 3, 1), "greater_than", "500", False, "2026-03-01"),
    case("2026-03-01", "less_than", "2026-12-01", True, "'2026-03-01'"),
    # naive times (in the organisation's zone, UTC here) and aware times (their zone)
    case(
        datetime(2026, 1, 5, 9, 0),
        "greater_than",
        "2026-01-05T10:00+02:00",
        True,
        "2026-01-05 09:00:00",
    ),
    case(
        datetime(2026, 1, 5, 9, 0), "less_than", "2026-01-05 09:00:01", True, "2026-01-05 09:00:00"
    ),
    case(datetime(2026, 1, 5, 9, 0), "equals", "2026-01-05T09:00:00Z", True, "2026-01-05 09:00:00"),
    case(
        datetime(2026, 1, 5, 10, 0, tzinfo=PLUS_TWO),
        "greater_than",
        "2026-01-05T09:00+00:00",
        False,
        "2026-01-05 10:00:00+02:00",
    ),
    case(
        datetime(2026, 1, 5, 10, 0, tzinfo=PLUS_TWO),
        "less_than",
        "2026-01-05T09:00+00:00",
        True,
        "2026-01-05 10:00:00+02:00",
    ),
    case(
        datetime(2026, 1, 5, 10, 0, tzinfo=PLUS_TWO),
        "equals",
        "2026-01-05 08:00",
        True,
        "2026-01-05 10:00:00+02:00",
    ),
    case(
        datetime(2026, 1, 5, 10, 0, tzinfo=PLUS_TWO),
        "equals",
        "2026-01-05 10:00",
        False,
        "2026-01-05 10:00:00+02:00",
    ),
    case(
        datetime(2026, 1, 5, 8, 0, tzinfo=UTC),
        "not_equals",
        "2026-01-05T10:00+02:00",
        False,
        "2026-01-05 08:00:00+00:00",
    ),
    case(
        datetime(2026, 1, 5, 8, 0, tzinfo=UTC),
        "greater_than",
        "2026-01-05",
        True,
        "2026-01-05 08:00:00+00:00",
    ),
    # labels: a list is, contains or is one of a value when one of its items is
    case(["Gift", "VIP"], "contains", "vip", True, "['Gift', 'VIP']"),
    case(["Gift"], "contains", "VIP", False, "['Gift']"),
    case([], "contains", "VIP", False, "[]"),
    case(["VIPs"], "contains", "VIP", False, "['VIPs']"),  # a label, not part of one
    case(("VIP",), "contains", " vip ", True, "('VIP',)"),
    case(["Gift", "VIP"], "equals", "VIP", True, "['Gift', 'VIP']"),
    case(["Gift"], "equals", "VIP", False, "['Gift']"),
    case(["Gift", "VIP"], "not_equals", "VIP", False, "['Gift', 'VIP']"),
    case(["Gift"], "not_equals", "VIP", True, "['Gift']"),
    case(["Gift"], "one_of", ["VIP", "gift"], True, "['Gift']"),
    case(["Fragile"], "one_of", "VIP, Gift", False, "['Fragile']"),
    case([], "is_empty", None, True, "[]"),
    case(["VIP"], "is_empty", None, False, "['VIP']"),
    case([], "is_not_empty", None, False, "[]"),
    case(["VIP"], "is_not_empty", None, True, "['VIP']"),
    case(["5"], "greater_than", "1", False, "['5']"),
    case(["VIP"], "greater_than", "A", False, "['VIP']"),
    case(["VIP"], "less_than", "Z", False, "['VIP']"),
]


def _rule(operator: str, value: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {"field": "x", "operator": operator}
    if value is not None:
        rule["value"] = value
    return rule


@pytest.mark.parametrize(("value", "operator", "expected", "verdict", "shown", "words"), CASES)
def test_each_operator_on_each_kind_of_field(
    value: Any, operator: str, expected: Any, verdict: bool, shown: str, words: str
) -> None:
    record = {} if value is ABSENT else {"x": value}
    rule = _rule(operator, expected)
    assert holds(rule, record, {}) is verdict
    compared = ", ".join(expected) if isinstance(expected, list) else expected
    words = words or f"x {OPERATORS[operator].label}" + ("" if expected is None else f" {compared}")
    answer = "yes" if verdict else "no"
    assert evaluate({"match": "all", "rules": [rule]}, record, {}) == (
        verdict,
        [f"{words}: {answer} (it is {shown})"],
    )


def test_the_explanations_read_as_plain_sentences() -> None:
    record = {
        "amount": Decimal("1000.00"),
        "status": "ASN",
        "salesperson": None,
        "labels": ["Gift", "VIP"],
        "created_at": datetime(2026, 1, 5, 9, 0),
    }
    rules = [
        {"field": "amount", "operator": "greater_than", "value": "500"},
        {"field": "status", "operator": "one_of", "value": ["NEW", "SNA"]},
        {"field": "salesperson", "operator": "is_empty"},
        {"field": "labels", "operator": "contains", "value": "VIP"},
        {"field": "created_at", "operator": "less_than", "value": "2026-02-01"},
        {"field": "status", "operator": "changed_since_start"},
        {"field": "phone", "operator": "not_equals", "value": "+1555"},
    ]
    verdict, explained = evaluate({"match": "any", "rules": rules}, record, {"status": "NEW"})
    assert verdict is True
    assert explained == [
        "amount is greater than 500: yes (it is 1000.00)",
        "status is one of NEW, SNA: no (it is 'ASN')",
        "salesperson is empty: yes (it is empty)",
        "labels contains VIP: yes (it is ['Gift', 'VIP'])",
        "created_at is less than 2026-02-01: yes (it is 2026-01-05 09:00:00)",
        "status changed since the run started: yes (it is 'ASN')",
        "phone is not +1555: yes (it is empty)",
    ]


def test_times_without_a_zone_are_in_the_organisations_zone() -> None:
    nine_local = {"x": datetime(2026, 1, 5, 9, 0)}  # 08:00 UTC in Stockholm (CET)
    at_eight_utc = _rule("equals", "2026-01-05T08:00Z")
    assert holds(at_eight_utc, nine_local, {}, STOCKHOLM) is True
    assert holds(at_eight_utc, nine_local, {}) is False  # UTC when no zone is given
    not_eight, eight_or_ten = (
        _rule("not_equals", "2026-01-05T08:00Z"),
        _rule("one_of", ["2026-01-05T08:00Z", "2026-01-05T10:00Z"]),
    )
    assert holds(not_eight, nine_local, {}, STOCKHOLM) is False  # every operator, same zone
    assert holds(eight_or_ten, nine_local, {}, STOCKHOLM) is True
    assert evaluate({"match": "all", "rules": [at_eight_utc]}, nine_local, {}, STOCKHOLM)[0]
    midnight_local = {"x": date(2026, 1, 5)}  # 2026-01-04 23:00 UTC in Stockholm
    assert holds(_rule("less_than", "2026-01-04T23:30Z"), midnight_local, {}, STOCKHOLM)
    assert not holds(_rule("less_than", "2026-01-04T23:30Z"), midnight_local, {})
    assert holds(_rule("equals", "2026-01-05 00:00"), midnight_local, {}, STOCKHOLM)


YES = _rule("equals", "a")  # holds for {"x": "a"}
NO = _rule("equals", "b")


@pytest.mark.parametrize(
    ("rules", "all_hold", "any_holds"),
    [
        ([YES], True, True),
        ([NO], False, False),
        ([YES, YES, YES], True, True),
        ([YES, NO], False, True),
        ([NO, YES], False, True),
        ([YES, YES, NO], False, True),
        ([NO, NO], False, False),
    ],
)
def test_all_needs_every_rule_and_any_needs_one(
    rules: list[dict[str, Any]], all_hold: bool, any_holds: bool
) -> None:
    record = {"x": "a"}
    lines = [f"x is {r['value']}: {'yes' if r is YES else 'no'} (it is 'a')" for r in rules]
    assert evaluate({"match": "all", "rules": rules}, record, {}) == (all_hold, lines)
    assert evaluate({"match": "any", "rules": rules}, record, {}) == (any_holds, lines)


AT_START = {
    "status": "NEW",
    "amount": Decimal("100.00"),
    "price": Decimal("12.50"),
    "created_at": datetime(2026, 1, 5, 9, 0),
    "paid_at": datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
    "delivery_date": date(2026, 3, 1),
    "labels": ["VIP"],
    "salesperson": None,
    "phone": "+1555",
}


@pytest.mark.parametrize(
    ("changes", "changed"),
    [
        ({}, set()),
        ({"status": "SHP"}, {"status"}),
        ({"status": "new"}, {"status"}),  # a change of case is a change
        ({"amount": Decimal("100.01")}, {"amount"}),
        ({"price": Decimal("12.5")}, set()),  # the same number
        ({"created_at": datetime(2026, 1, 5, 9, 1)}, {"created_at"}),
        ({"paid_at": datetime(2026, 1, 6, 9, 0, tzinfo=UTC)}, {"paid_at"}),
        ({"delivery_date": date(2026, 3, 2)}, {"delivery_date"}),
        ({"labels": ["VIP", "Gift"]}, {"labels"}),
        ({"labels": []}, {"labels"}),
        ({"salesperson": "tom"}, {"salesperson"}),
        ({"phone": None}, {"phone"}),
    ],
)
def test_changed_since_start_compares_with_the_record_the_run_stored(
    changes: dict[str, Any], changed: set[str]
) -> None:
    start = jsonable(AT_START)  # as the engine stores it: decimals as numbers, times as ISO
    now = {**AT_START, **changes}
    rules = {name: {"field": name, "operator": "changed_since_start"} for name in AT_START}
    found = {name for name, rule in rules.items() if holds(rule, now, start)}
    assert found == changed
    verdict, [line] = evaluate(
        {"match": "all", "rules": [{"field": "status", "operator": "changed_since_start"}]},
        now,
        start,
    )
    assert verdict is ("status" in changed)
    assert line == (
        f"status changed since the run started: {'yes' if verdict else 'no'} "
        f"(it is {now['status']!r})"
    )


def test_a_field_the_run_did_not_start_with_has_not_changed() -> None:
    assert not holds({"field": "note", "operator": "changed_since_start"}, {"note": "x"}, {})
    assert holds({"field": "note", "operator": "changed_since_start"}, {}, {"note": "x"})


# -- property: numbers compare as a reference model of exact fractions says ----------------

NUMBERS = st.one_of(
    st.integers(min_value=-(10**15), max_value=10**15),
    st.decimals(
        min_value=-(10**9), max_value=10**9, places=3, allow_nan=False, allow_infinity=False
    ),
)
REFERENCE = {
    "equals": lambda a, b: a == b,
    "not_equals": lambda a, b: a != b,
    "less_than": lambda a, b: a < b,
    "greater_than": lambda a, b: a > b,
}


def _typed(number: int | Decimal, how: int) -> Any:
    """The number as a record or a form might hold it."""
    plain = f"{number:f}" if isinstance(number, Decimal) else str(number)
    return (number, plain, f"  {plain} ", plain.replace(".", ","))[how]


@given(
    NUMBERS,
    NUMBERS,
    st.sampled_from(sorted(REFERENCE)),
    st.integers(min_value=0, max_value=3),
    st.integers(min_value=1, max_value=3),
)
def test_numbers_compare_as_numbers_whatever_way_they_are_written(
    actual: int | Decimal, expected: int | Decimal, operator: str, stored: int, typed: int
) -> None:
    want = REFERENCE[operator](Fraction(actual), Fraction(expected))
    record = {"x": _typed(actual, stored)}
    assert holds(_rule(operator, _typed(expected, typed)), record, {}) is want
    itself = holds(_rule(operator, _typed(actual, typed)), record, {})
    assert itself is (operator == "equals")  # the same number, however written


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=10**6))
def test_text_order_never_decides_between_numbers(a: int, b: int) -> None:
    assert holds(_rule("greater_than", str(b)), {"x": str(a)}, {}) is (a > b)
    assert holds(_rule("less_than", str(b)), {"x": str(a)}, {}) is (a < b)


# -- through the engine, on both databases --------------------------------------------------

SHIPPED = "DEL"  # no demo order starts Delivered, so moving there always fires the trigger


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def _yes_or_no(name: str, match: str, *rules: dict[str, Any], wait: bool = False) -> dict:
    """A graph: when an order is delivered, check it; a different note on Yes and on No."""
    g = Builder(name)
    check = g.node("condition.rules", rules={"match": match, "rules": list(rules)})
    trigger = g.node("trigger.status_entered", codes=[SHIPPED])
    if wait:
        g.line(trigger, g.node("wait.duration", duration={"amount": 1, "unit": "hours"}), check)
    else:
        g.link(trigger, check)
    g.link(check, g.node("action.add_note", note="Took Yes for {{ record_key }}."), "true")
    g.link(check, g.node("action.add_note", note="Took No for {{ record_key }}."), "false")
    return g.document()


def _host(db: Database, sql: str, **values: Any) -> None:
    with as_host(db) as conn:
        conn.execute(text(sql), values)


def _deliver(db: Database, clock: ManualClock, graph: dict, *keys: int) -> Engine:
    publish(db, graph, clock)
    worker = engine(db, clock)
    for key in keys:
        set_status(db, "orders", key, SHIPPED)
    worker.run_until_idle()
    return worker


def _branch(db: Database, key: int) -> tuple[str, str]:
    """The condition's line and the note that followed it, for one order."""
    steps = timeline(db, str(key))
    [checked] = [s for s in steps if s.startswith("Checked the record: ")]
    [note] = [s for s in steps if s.startswith("Took ")]
    return checked, note


def test_greater_than_compares_amounts_as_numbers(db: Database, clock: ManualClock) -> None:
    shop(db, clock)
    for key, amount in ((1, "1000.00"), (2, "90.00"), (3, "500.00")):
        _host(db, f"UPDATE orders SET amount = {amount} WHERE id = {key}")
    rule = {"field": "amount", "operator": "greater_than", "value": "500"}
    _deliver(db, clock, _yes_or_no("Big orders", "all", rule), 1, 2, 3)
    assert _branch(db, 1) == (
        "Checked the record: Yes. amount is greater than 500: yes (it is 1000.00)",
        "Took Yes for 1.",
    )
    assert _branch(db, 2) == (
        "Checked the record: No. amount is greater than 500: no (it is 90.00)",
        "Took No for 2.",
    )
    assert _branch(db, 3)[1] == "Took No for 3."  # 500 is not greater than 500
    assert {state for _key, state in run_states(db)} == {"succeeded"}


@pytest.mark.parametrize(("match", "branch"), [("all", "No"), ("any", "Yes")])
def test_all_needs_both_rules_and_any_one(
    db: Database, clock: ManualClock, match: str, branch: str
) -> None:
    shop(db, clock)
    _host(db, "UPDATE orders SET amount = 20, salesperson = 'tom' WHERE id = 4")
    small = {"field": "amount", "operator": "less_than", "value": "100"}
    maria = {"field": "salesperson", "operator": "equals", "value": "maria"}
    _deliver(db, clock, _yes_or_no(f"Small and Maria's ({match})", match, small, maria), 4)
    assert _branch(db, 4) == (
        f"Checked the record: {branch}. amount is less than 100: yes (it is 20.00); "
        "salesperson is maria: no (it is 'tom')",
        f"Took {branch} for 4.",
    )


def test_equals_on_text_ignores_case_and_spaces(db: Database, clock: ManualClock) -> None:
    shop(db, clock)
    _host(db, "UPDATE orders SET customer_name = 'Anna Berg' WHERE id = 5")
    _host(db, "UPDATE orders SET customer_name = 'Anna Bergman' WHERE id = 6")
    rule = {"field": "customer_name", "operator": "equals", "value": "  anna BERG "}
    _deliver(db, clock, _yes_or_no("Anna's orders", "all", rule), 5, 6)
    assert _branch(db, 5) == (
        "Checked the record: Yes. customer_name is   anna BERG : yes (it is 'Anna Berg')",
        "Took Yes for 5.",
    )
    assert _branch(db, 6) == (
        "Checked the record: No. customer_name is   anna BERG : no (it is 'Anna Bergman')",
        "Took No for 6.",
    )


def test_is_empty_on_a_missing_or_blank_field(db: Database, clock: ManualClock) -> None:
    shop(db, clock)
    _host(db, "UPDATE orders SET salesperson = NULL WHERE id = 8")
    _host(db, "UPDATE orders SET salesperson = '  ' WHERE id = 9")
    _host(db, "UPDATE orders SET salesperson = 'tom' WHERE id = 10")
    rule = {"field": "salesperson", "operator": "is_empty"}
    _deliver(db, clock, _yes_or_no("Nobody's orders", "all", rule), 8, 9, 10)
    assert _branch(db, 8) == (
        "Checked the record: Yes. salesperson is empty: yes (it is empty)",
        "Took Yes for 8.",
    )
    assert _branch(db, 9)[1] == "Took Yes for 9."
    assert _branch(db, 10) == (
        "Checked the record: No. salesperson is empty: no (it is 'tom')",
        "Took No for 10.",
    )


def test_changed_since_start_sees_the_host_change_and_nothing_else(
    db: Database, clock: ManualClock
) -> None:
    shop(db, clock)
    unchanged = ("amount", "created_at", "delivery_date", "status")
    rules = [{"field": name, "operator": "changed_since_start"} for name in unchanged]
    renamed = {"field": "customer_name", "operator": "changed_since_start"}
    graph = _yes_or_no("Changed while waiting", "any", *rules, renamed, wait=True)
    worker = _deliver(db, clock, graph, 11, 12)
    _host(db, "UPDATE orders SET customer_name = 'Someone Else' WHERE id = 11")
    clock.advance(timedelta(hours=1))
    worker.run_until_idle()
    checked, note = _branch(db, 11)
    assert note == "Took Yes for 11."
    assert checked.startswith("Checked the record: Yes. amount changed since the run started: no")
    assert "customer_name changed since the run started: yes (it is 'Someone Else')" in checked
    checked, note = _branch(db, 12)
    assert note == "Took No for 12."
    assert checked.count(": no (it is") == len(unchanged) + 1  # a stored decimal or date


def test_a_time_without_a_zone_is_read_in_the_organisations_zone(
    db: Database, clock: ManualClock
) -> None:
    """09:00 in Tokyo is 00:00 UTC: before 03:00 UTC there, after it when read as UTC."""
    shop(db, clock)
    set_setting(db, TIME_ZONE, "Asia/Tokyo", actor="ana")
    _host(db, "UPDATE orders SET created_at = '2026-12-07 09:00:00' WHERE id = 4")
    rule = {"field": "created_at", "operator": "less_than", "value": "2026-12-07T03:00:00+00:00"}
    _deliver(db, clock, _yes_or_no("Early orders", "all", rule), 4)
    assert _branch(db, 4)[1] == "Took Yes for 4."
