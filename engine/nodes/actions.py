"""Action node types: do something, to the outside world or to the record.

Every action carries the shared "Safety" and "Retries" groups. ``writes`` names what
an action changes on the record, so publishing can find loops between graphs.
Texts are Jinja2 templates over record fields, rendered in a sandbox at run time;
here they are only checked for mistakes a person can fix while drawing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from engine.nodes.common import (
    IN,
    MISSING,
    THEN,
    action_params,
    duration_problem,
    shorten,
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

SMS_LIMIT = 640  # four joined text messages; longer ones are cut or refused by gateways
_EMAIL = re.compile(r"[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_TAGS = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)  # placeholders, tags, notes
_WEBHOOK_BODY = '{\n  "record": "{{ record_key }}",\n  "status": "{{ status }}"\n}'


def email_list_problem(value: Any) -> str | None:
    """Why a comma-separated list of addresses (or placeholders) cannot be used."""
    if not isinstance(value, str):
        return "Write the addresses separated by commas."
    for item in re.split(r"[,;]", _TAGS.sub("{{ }}", value)):
        address = item.strip()
        if address and "{" not in address and not _EMAIL.fullmatch(address):
            return (
                f"'{address}' is not an email address; write it like name@example.com, "
                "or use a placeholder such as {{ email }}."
            )
    return None


def url_problem(value: Any) -> str | None:
    """Why a web address is not an absolute http(s) address; placeholders may follow."""
    if not isinstance(value, str):
        return "Write the web address, like https://example.com/hook."
    parts = urlsplit(_TAGS.sub("x", value.strip()))
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return "The address must start with http:// or https://, like https://example.com/hook."
    return None


def headers_problem(value: Any) -> str | None:
    """Why request headers cannot be sent: a name that is not a header name."""
    if not isinstance(value, Mapping):
        return "Give each header a name and a value."
    for name in value:
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            return (
                f"'{name}' cannot be a header name; use letters, digits and dashes, "
                "like X-Order-Id."
            )
    return None


def sms_problem(value: Any) -> str | None:
    """Why an SMS text is too long (counting only its fixed text, not placeholders)."""
    if not isinstance(value, str):
        return "Write the message."
    length = len(_TAGS.sub("", value))
    if length > SMS_LIMIT:
        return (
            f"The message has {length} characters before placeholders are filled in; "
            f"keep it under {SMS_LIMIT} so phones receive it whole."
        )
    return None


def _action(type_id: str, label: str, description: str, **fields: Any) -> NodeType:
    return NodeType(
        type_id=type_id,
        category=Category.ACTION,
        label=label,
        description=description,
        inputs=(IN,),
        outputs=(THEN,),
        **fields,
    )


def _template(name: str, label: str, **fields: Any) -> Param:
    return Param(name, label, ParamKind.TEMPLATE, **fields)


def _set_field(p: Mapping[str, Any], _context: SummaryContext) -> str:
    field = text(p.get("field")) or MISSING
    value = text(p.get("value"))
    return f"Set {field} to {shorten(value)}" if value else f"Clear {field}"


def _create_task(p: Mapping[str, Any], _context: SummaryContext) -> str:
    assignee = text(p.get("assignee_user")) or text(p.get("assignee_role")) or MISSING
    return f"Task for {assignee}: {shorten(p.get('title'))}"


def _apply_label(p: Mapping[str, Any], _context: SummaryContext) -> str:
    verb = "Remove" if p.get("remove") is True else "Apply"
    return f"{verb} label '{shorten(p.get('label'))}'"


_MESSAGING = (
    _action(
        "action.send_email",
        "Send email",
        "Sends an email through one of the SMTP servers in the settings.",
        params=action_params(
            Param(
                "to",
                "To",
                ParamKind.EMAIL_LIST,
                help="Addresses separated by commas; {{ email }} is the record's email field.",
                default="{{ email }}",
                required=True,
                check=email_list_problem,
            ),
            Param("cc", "Copy to", ParamKind.EMAIL_LIST, check=email_list_problem),
            _template("subject", "Subject", required=True),
            _template(
                "body_text",
                "Message",
                help="Plain text; placeholders such as {{ record_key }} are filled in "
                "from the record.",
                required=True,
                placeholder="Dear customer, ...",
            ),
            _template(
                "body_html",
                "Message as HTML",
                help="Optional; mail programs that show formatting use it instead of the text.",
                group="Advanced",
            ),
            Param(
                "smtp",
                "Mail server",
                ParamKind.TEXT,
                help="The name of the SMTP server profile in the settings.",
                default="default",
                required=True,
                group="Advanced",
            ),
        ),
        summary=lambda p, _c: f"Email {shorten(p.get('to'), 30)}: {shorten(p.get('subject'))}",
        icon="email.svg",
        keywords=("mail", "smtp", "notify", "message", "customer"),
    ),
    _action(
        "action.send_sms",
        "Send SMS",
        "Sends a text message through the SMS gateway in the settings.",
        params=action_params(
            _template(
                "to",
                "To",
                help="A phone number or a placeholder such as {{ phone }}.",
                default="{{ phone }}",
                required=True,
            ),
            _template(
                "message",
                "Message",
                help=f"Keep it under {SMS_LIMIT} characters.",
                required=True,
                check=sms_problem,
            ),
            Param(
                "gateway",
                "Gateway",
                ParamKind.TEXT,
                help="The name of the SMS gateway profile in the settings.",
                default="default",
                required=True,
                group="Advanced",
            ),
        ),
        summary=lambda p, _c: f"SMS {shorten(p.get('to'), 30)}: {shorten(p.get('message'))}",
        icon="sms.svg",
        keywords=("text message", "phone", "mobile", "notify"),
    ),
    _action(
        "action.webhook",
        "Call a web address",
        "Sends the record to another system over HTTP (a webhook).",
        params=action_params(
            Param(
                "method",
                "Method",
                ParamKind.CHOICE,
                default="POST",
                required=True,
                choices=tuple(Choice(m, m) for m in ("GET", "POST", "PUT", "PATCH", "DELETE")),
            ),
            Param(
                "url",
                "Address",
                ParamKind.URL,
                help="May contain placeholders, like https://example.com/orders/{{ record_key }}.",
                required=True,
                placeholder="https://",
                check=url_problem,
            ),
            Param(
                "headers",
                "Headers",
                ParamKind.HEADERS,
                help="Extra request headers; values may contain placeholders.",
                default={},
                check=headers_problem,
            ),
            Param(
                "body",
                "Body",
                ParamKind.JSON_TEMPLATE,
                help="JSON; placeholders go inside quoted texts.",
                default=_WEBHOOK_BODY,
            ),
            Param(
                "timeout_seconds",
                "Give up after (seconds)",
                ParamKind.NUMBER,
                default=10,
                required=True,
                minimum=1,
                maximum=120,
            ),
        ),
        summary=lambda p, _c: f"{text(p.get('method')) or 'POST'} {shorten(p.get('url'), 50)}",
        icon="webhook.svg",
        keywords=("http", "api", "rest", "url", "post", "integration"),
    ),
)

_RECORD = (
    _action(
        "action.set_status",
        "Set status",
        "Gives the record a new status.",
        params=action_params(
            Param(
                "code",
                "New status",
                ParamKind.CHOICE,
                required=True,
                choices_source=ChoicesSource.STATUS_CODES,
            ),
        ),
        summary=lambda p, c: f"Set status to {c.status(text(p.get('code'))) or MISSING}",
        icon="set_status.svg",
        keywords=("status", "change", "move", "update"),
        writes="status",
    ),
    _action(
        "action.set_field",
        "Set a field",
        "Writes a value into one field of the record.",
        params=action_params(
            Param(
                "field",
                "Field",
                ParamKind.CHOICE,
                required=True,
                choices_source=ChoicesSource.FIELDS,
            ),
            _template("value", "New value", help="Leave empty to clear the field."),
        ),
        summary=_set_field,
        icon="set_field.svg",
        keywords=("update", "column", "value", "write"),
        writes="field",
    ),
    _action(
        "action.apply_label",
        "Apply a label",
        "Puts a label on the record, or takes it off.",
        params=action_params(
            Param(
                "label",
                "Label",
                ParamKind.TEXT,
                required=True,
                choices_source=ChoicesSource.LABELS,
            ),
            Param(
                "remove",
                "Take the label off instead",
                ParamKind.BOOLEAN,
                default=False,
            ),
        ),
        summary=_apply_label,
        icon="label.svg",
        keywords=("tag", "flag", "remove label"),
        writes="label",
    ),
    _action(
        "action.archive_record",
        "Archive the record",
        "Marks the record as archived.",
        params=action_params(),
        summary=lambda _p, _c: "Archive the record",
        icon="archive.svg",
        keywords=("close", "done", "store"),
        writes="archive",
    ),
    _action(
        "action.add_note",
        "Add a note",
        "Writes a note on the record's timeline for the people who work on it.",
        params=action_params(
            _template(
                "note",
                "Note",
                required=True,
                placeholder="Customer reminded about order {{ record_key }}",
            ),
        ),
        summary=lambda p, _c: f"Note: {shorten(p.get('note'))}",
        icon="note.svg",
        keywords=("comment", "timeline", "log", "memo"),
    ),
    _action(
        "action.create_task",
        "Create a task",
        "Puts a task in a person's or a role's task inbox.",
        params=action_params(
            _template("title", "Title", required=True),
            _template(
                "instructions",
                "Instructions",
                help="What the person should do; placeholders are filled from the record.",
            ),
            Param(
                "assignee_user",
                "Assign to person",
                ParamKind.CHOICE,
                help="Assign to a person, a role, or both; choose at least one of them.",
                choices_source=ChoicesSource.USERS,
            ),
            Param(
                "assignee_role",
                "Assign to role",
                ParamKind.CHOICE,
                help="Everyone with this role sees the task; choose a person, a role, or both.",
                choices_source=ChoicesSource.ROLES,
            ),
            Param(
                "due_in",
                "Due within",
                ParamKind.DURATION,
                help="Leave empty for a task without a due time.",
                check=duration_problem,
            ),
        ),
        summary=_create_task,
        icon="task.svg",
        keywords=("todo", "assign", "inbox", "person", "follow up"),
    ),
)

NODE_TYPES: tuple[NodeType, ...] = (*_MESSAGING, *_RECORD)
