"""Steps that reach the outside world: email, SMS, webhooks.

Each renders its templates from the record inside a read transaction, then sends
with an idempotency key derived from the run and the node (email Message-ID,
``Idempotency-Key`` header), so a retry of the same step is recognisable. In dry-run
mode (test runs) nothing is sent: the rendered message is the result.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from engine.actions.email import EmailSpec, parse_addresses, send_email
from engine.actions.errors import ActionError
from engine.actions.sms import send_sms
from engine.actions.webhook import call_webhook
from engine.graph.templates import TemplateError, render, render_json
from engine.runtime.executors.base import ExternalExecutor, Outcome, Step
from engine.settings import SmsGateway, SmtpProfile, sms_gateway, smtp_profile


def _render(text: Any, step: Step, *, html: bool = False) -> str:
    try:
        return render(str(text or ""), step.template_values(), html=html)
    except TemplateError as exc:
        raise ActionError(str(exc), retryable=False, error_class="template") from None


@dataclass(frozen=True)
class PreparedEmail:
    profile: SmtpProfile | None
    spec: EmailSpec


class SendEmail(ExternalExecutor):
    def prepare(self, step: Step) -> PreparedEmail:
        spec = EmailSpec(
            to=parse_addresses(_render(step.params["to"], step)),
            cc=parse_addresses(_render(step.params.get("cc"), step)),
            subject=_render(step.params["subject"], step),
            text=_render(step.params["body_text"], step),
            html=_render(step.params["body_html"], step, html=True)
            if step.params.get("body_html")
            else None,
        )
        if step.services.dry_run:
            return PreparedEmail(None, spec)
        assert step.conn is not None
        return PreparedEmail(smtp_profile(step.conn, step.params.get("smtp") or "default"), spec)

    def describe(self, prepared: PreparedEmail) -> str:
        return f"the email '{prepared.spec.subject}' to {', '.join(prepared.spec.to)}"

    def perform(self, prepared: PreparedEmail, step: Step) -> Outcome:
        spec = prepared.spec
        detail: dict[str, Any] = {"email": asdict(spec)}
        if prepared.profile is None:
            return Outcome(f"Would email {', '.join(spec.to)}: '{spec.subject}'.", detail=detail)
        result = send_email(prepared.profile, spec, step.idempotency_key, step.services.secrets)
        detail["message_id"] = result.message_id
        return Outcome(f"Emailed {', '.join(spec.to)}: '{spec.subject}'.", detail=detail)


@dataclass(frozen=True)
class PreparedSms:
    gateway: SmsGateway | None
    to: str
    message: str


class SendSms(ExternalExecutor):
    def prepare(self, step: Step) -> PreparedSms:
        to, message = _render(step.params["to"], step), _render(step.params["message"], step)
        if step.services.dry_run:
            return PreparedSms(None, to, message)
        assert step.conn is not None
        return PreparedSms(
            sms_gateway(step.conn, step.params.get("gateway") or "default"), to, message
        )

    def describe(self, prepared: PreparedSms) -> str:
        return f"the SMS to {prepared.to}"

    def perform(self, prepared: PreparedSms, step: Step) -> Outcome:
        detail: dict[str, Any] = {"sms": {"to": prepared.to, "message": prepared.message}}
        if prepared.gateway is None:
            return Outcome(f"Would text {prepared.to}: '{prepared.message}'.", detail=detail)
        result = send_sms(
            prepared.gateway,
            prepared.to,
            prepared.message,
            step.idempotency_key,
            step.services.secrets,
        )
        detail["http_status"] = result.status
        return Outcome(f"Texted {prepared.to} (gateway answered {result.status}).", detail=detail)


@dataclass(frozen=True)
class PreparedCall:
    method: str
    url: str
    headers: dict[str, str]
    body: str | None
    timeout: float


class CallWebhook(ExternalExecutor):
    def prepare(self, step: Step) -> PreparedCall:
        method = str(step.params.get("method") or "POST").upper()
        headers = {
            str(name): _render(value, step)
            for name, value in (step.params.get("headers") or {}).items()
        }
        body_template = step.params.get("body")
        try:
            body = render_json(body_template, step.template_values()) if body_template else None
        except TemplateError as exc:
            raise ActionError(str(exc), retryable=False, error_class="template") from None
        return PreparedCall(
            method,
            _render(step.params["url"], step),
            headers,
            body if method != "GET" else None,
            float(step.params.get("timeout_seconds") or 10),
        )

    def describe(self, prepared: PreparedCall) -> str:
        return f"the call {prepared.method} {prepared.url}"

    def perform(self, prepared: PreparedCall, step: Step) -> Outcome:
        detail: dict[str, Any] = {"request": asdict(prepared)}
        if step.services.dry_run:
            return Outcome(f"Would call {prepared.method} {prepared.url}.", detail=detail)
        result = call_webhook(
            prepared.method,
            prepared.url,
            prepared.headers,
            prepared.body,
            prepared.timeout,
            step.idempotency_key,
        )
        detail["http_status"] = result.status
        detail["response"] = result.body_excerpt
        return Outcome(
            f"Called {prepared.method} {prepared.url}: answered {result.status}.", detail=detail
        )
