"""How a node type is declared: ports, parameters, and a plain-words summary.

One declaration per node type lives in ``engine.nodes`` (triggers, conditions, waits,
actions, human). The designer builds its canvas node and its property form from the
declaration; validation checks documents against it; the engine runtime attaches the
executor to the same type id. Nothing about a node type is written twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Category(StrEnum):
    """Where a node sits in the palette, and what it may connect to."""

    TRIGGER = "trigger"
    CONDITION = "condition"
    WAIT = "wait"
    ACTION = "action"
    HUMAN = "human"


class ParamKind(StrEnum):
    """The kind of value a parameter holds; the designer picks an editor per kind."""

    TEXT = "text"  # one line of plain text
    MULTILINE = "multiline"  # several lines of plain text
    TEMPLATE = "template"  # Jinja2 text over record fields, e.g. "Order {{ id }}"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    CHOICE = "choice"  # one of ``choices`` or of ``choices_source``
    MULTI_CHOICE = "multi_choice"  # several of ``choices`` or of ``choices_source``
    DURATION = "duration"  # {"amount": 5, "unit": "minutes"}
    RULES = "rules"  # {"match": "all"|"any", "rules": [{"field", "operator", "value"}]}
    CASES = "cases"  # switch cases: [{"value": "DEL", "port": "case_1"}, ...]
    EMAIL_LIST = "email_list"  # comma-separated addresses or templates
    URL = "url"
    HEADERS = "headers"  # {"Name": "template value"}
    JSON_TEMPLATE = "json_template"  # a JSON text whose string values are templates
    CRON = "cron"  # five-field crontab, e.g. "0 8 * * 1-5"
    SECRET = "secret"  # the *name* of a keyring entry, never the secret itself
    STRING_LIST = "string_list"  # e.g. documents required for an approval


class ChoicesSource(StrEnum):
    """Where the designer and validation look up the allowed values at run time."""

    STATUS_CODES = "status_codes"  # codes of the graph's record source
    FIELDS = "fields"  # columns of the graph's record source
    DATE_FIELDS = "date_fields"  # date/time columns of the record source
    LABELS = "labels"  # labels known for the record source
    ROLES = "roles"  # designer, publisher, operator, admin
    USERS = "users"  # usernames


@dataclass(frozen=True)
class Choice:
    """One allowed value of a CHOICE parameter with static choices."""

    value: str
    label: str


@dataclass(frozen=True)
class Param:
    """One parameter of a node type, with everything a form and a validator need.

    ``check`` validates one value that already has the right shape; it returns a
    sentence for a non-developer ("The amount must be more than zero") or None.
    ``visible_when`` hides the parameter unless another parameter has one of the
    given values (e.g. the field to watch only when "skip if" is "a field changed").
    """

    name: str
    label: str
    kind: ParamKind
    help: str = ""
    default: Any = None
    required: bool = False
    choices: tuple[Choice, ...] = ()
    choices_source: ChoicesSource | None = None
    minimum: float | None = None
    maximum: float | None = None
    placeholder: str = ""
    group: str = ""  # "" = main section; e.g. "Retries", "Safety" for folded sections
    visible_when: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    check: Callable[[Any], str | None] | None = None


@dataclass(frozen=True)
class Port:
    """A named connection point. Outputs are branches (true/false, approved...)."""

    name: str
    label: str


@dataclass(frozen=True)
class NodeType:
    """The single declaration of a node type.

    ``summary`` turns parameters into the canvas title in plain words ("Wait 2 hours");
    it gets the parameters merged over the defaults and a lookup of status code
    descriptions, and must never fail on incomplete parameters.
    ``writes`` names what an action changes on the record ("status", "label",
    "field"), for loop analysis; ``trigger_kind`` names the status event kind a
    trigger reacts to.
    """

    type_id: str  # e.g. "action.send_email"; stable, stored in graph documents
    category: Category
    label: str  # palette name, e.g. "Send email"
    description: str  # one sentence for the palette tooltip
    params: tuple[Param, ...]
    inputs: tuple[Port, ...]
    outputs: tuple[Port, ...]
    summary: Callable[[Mapping[str, Any], SummaryContext], str]
    icon: str = ""  # file name in resources/icons, e.g. "email.svg"
    keywords: tuple[str, ...] = ()  # extra words for the palette search
    trigger_kind: str | None = None  # status | label | created | field | schedule | manual
    writes: str | None = None  # status | label | field | archive

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"{self.type_id} has no parameter {name!r}")

    def defaults(self) -> dict[str, Any]:
        """Fresh default parameters for a new node of this type."""
        import copy

        return {p.name: copy.deepcopy(p.default) for p in self.params}

    def with_defaults(self, params: Mapping[str, Any]) -> dict[str, Any]:
        merged = self.defaults()
        merged.update(params)
        return merged

    def title(self, params: Mapping[str, Any], context: SummaryContext | None = None) -> str:
        """The canvas title: a plain-words summary of the parameters."""
        return self.summary(self.with_defaults(params), context or SummaryContext())


@dataclass(frozen=True)
class SummaryContext:
    """What a summary may look up: status code descriptions of the record source."""

    status_descriptions: Mapping[str, str] = field(default_factory=dict)

    def status(self, code: str) -> str:
        """ "DEL – Delivered" when the description is known, else the code."""
        description = self.status_descriptions.get(code)
        return f"{code} – {description}" if description else code
