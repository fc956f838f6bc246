"""How runs look in the designer: times, outcome words, colours, step icons, detail pages.

The run list and the timeline show the same run the same way, so both take their
words, colours and icons from here. Times are in the organisation's zone (designer.times).
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from typing import Any

from PySide6.QtGui import QColor, QIcon

from designer.palette import node_icon, svg_icon
from designer.problems import ERROR_COLOUR, OK_COLOUR, WARNING_COLOUR
from designer.times import when_exact
from engine.nodes import catalogue
from engine.services.runs import RunSummary, StepLine

GREY = (97, 97, 97)
STATE_COLOURS: dict[str, tuple[int, int, int]] = {
    "active": (21, 101, 192),
    "succeeded": OK_COLOUR,
    "succeeded_compensated": (0, 121, 107),
    "cancelled": GREY,
    "failed": ERROR_COLOUR,
    "stopped_loop_guard": ERROR_COLOUR,
}
KIND_ICONS = {
    "trigger": "trigger.svg",
    "condition": "condition.svg",
    "wait": "wait.svg",
    "task": "task.svg",
    "note": "note.svg",
    "cancel": "warning.svg",
}


def outcome_words(run: RunSummary) -> str:
    return run.state_words + (f": {run.outcome_reason}" if run.outcome_reason else "")


def state_colour(state: str) -> tuple[int, int, int]:
    return STATE_COLOURS.get(state, GREY)


def step_icon(step: StepLine) -> QIcon:
    if step.kind == "retry":
        return svg_icon("warning.svg", WARNING_COLOUR)
    if step.error:
        return svg_icon("error.svg", ERROR_COLOUR)
    if step.kind == "outcome":
        state = (step.detail or {}).get("state", "")
        icon = "ok.svg" if state.startswith("succeeded") else "error.svg"
        return svg_icon(icon, state_colour(state))
    node_type = catalogue.get(step.node_type) if step.node_type else None
    if node_type is not None:
        return node_icon(node_type)
    return svg_icon(KIND_ICONS.get(step.kind, "action.svg"), GREY)


# -- the details of the chosen line, as HTML --------------------------------------------


def _para(label: str, value: Any) -> str:
    return f"<p><b>{escape(label)}</b> {escape(str(value))}</p>"


def _block(text: Any) -> str:
    """A message body as written: its line breaks kept, long lines wrapped."""
    return f"<p style='white-space: pre-wrap'>{escape(str(text))}</p>"


def _sent_html(detail: Mapping[str, Any]) -> list[str]:
    """What left StatusFlow: the email, text message or web call, and the answer."""
    parts: list[str] = []
    if email := detail.get("email"):
        parts.append("<h4>The email</h4>")
        parts.append(_para("To:", ", ".join(email["to"])))
        if email.get("cc"):
            parts.append(_para("Cc:", ", ".join(email["cc"])))
        parts.append(_para("Subject:", email["subject"]))
        parts.append(_block(email["text"]))
    if sms := detail.get("sms"):
        parts += ["<h4>The text message</h4>", _para("To:", sms["to"]), _para("", sms["message"])]
    if request := detail.get("request"):
        parts.append("<h4>The web call</h4>")
        parts.append(_para(f"{request['method']}", request["url"]))
        if request.get("body"):
            parts.append(_block(request["body"]))
    if "http_status" in detail:
        parts.append(_para("The server answered:", f"HTTP {detail['http_status']}"))
    if detail.get("response"):
        parts.append(_block(detail["response"]))
    return parts


def step_html(step: StepLine) -> str:
    parts = [_para(when_exact(step.at), step.summary)]
    if step.attempt and (step.attempt > 1 or step.error):
        parts.append(_para("Attempt:", step.attempt))
    if step.error:
        colour = QColor(*ERROR_COLOUR).name()
        parts.append(f"<p style='color:{colour}'><b>What went wrong:</b> {escape(step.error)}</p>")
    parts += _sent_html(step.detail or {})
    if len(parts) == 1:
        parts.append("<p>Nothing more was recorded for this step.</p>")
    return "".join(parts)


def run_html(run: RunSummary, record: str) -> str:
    parts = [
        _para("Automation:", f"{run.graph_name} {run.version_label}"),
        _para("Record:", record),
        _para("Outcome:", outcome_words(run)),
        _para("Started:", when_exact(run.started_at)),
    ]
    if run.finished_at is not None:
        parts.append(_para("Finished:", when_exact(run.finished_at)))
    if run.started_by:
        parts.append(_para("Started by:", run.started_by))
    return "".join(parts)
