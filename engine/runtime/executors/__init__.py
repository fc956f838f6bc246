"""Executors keyed by the node type ids of the catalogue.

The catalogue (``engine.nodes``) declares what a node is — ports, parameters,
summary — and stays free of SMTP and HTTP code so the designer can read it cheaply;
the executor lives here under the same type id (the Ryven split of node logic from
node description). A test keeps the two in step.
"""

from __future__ import annotations

from engine.runtime.executors.base import Executor
from engine.runtime.executors.flow import Rules, Switch, WaitDuration, WaitStatus, WaitUntil
from engine.runtime.executors.messages import CallWebhook, SendEmail, SendSms
from engine.runtime.executors.people import Approval, CreateTask
from engine.runtime.executors.writes import (
    AddNote,
    ApplyLabel,
    ArchiveRecord,
    SetField,
    SetStatus,
)

EXECUTORS: dict[str, Executor] = {
    "condition.rules": Rules(),
    "condition.switch": Switch(),
    "wait.duration": WaitDuration(),
    "wait.until": WaitUntil(),
    "wait.status": WaitStatus(),
    "action.send_email": SendEmail(),
    "action.send_sms": SendSms(),
    "action.webhook": CallWebhook(),
    "action.set_status": SetStatus(),
    "action.set_field": SetField(),
    "action.apply_label": ApplyLabel(),
    "action.archive_record": ArchiveRecord(),
    "action.add_note": AddNote(),
    "action.create_task": CreateTask(),
    "human.approval": Approval(),
}
