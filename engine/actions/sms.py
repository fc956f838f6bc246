"""Sending a text message through an HTTP SMS gateway.

The gateway receives ``{"to", "message", "sender"}`` as JSON with a bearer token
from the keyring and the run's ``Idempotency-Key``, so a retried send can be
recognised by a gateway that supports it.
"""

from __future__ import annotations

import json
import re

from engine.actions.errors import ActionError, config_error, read_secret
from engine.actions.http import HttpRequest, HttpResult, safe_url, send
from engine.actions.webhook import check_web_address
from engine.secrets import SecretStore
from engine.settings import SmsGateway

_PHONE = re.compile(r"^\+?[0-9]{6,15}$")


def normalize_phone(number: str) -> str:
    """The number without spaces, dashes, dots or brackets; refused if it is not one."""
    compact = re.sub(r"[\s\-.()]", "", number)
    if not _PHONE.match(compact):
        raise config_error(
            f"'{number}' is not a phone number. Use digits, ideally with the country code "
            "(for example +44 7700 900123)."
        )
    return compact


def send_sms(
    gateway: SmsGateway, to: str, message: str, idempotency_key: str, secrets: SecretStore
) -> HttpResult:
    """POST the message to the gateway; an ActionError says whether to retry."""
    check_web_address(gateway.url, "SMS gateway")
    if not message.strip():
        raise config_error("The text message is empty. Write the message in the SMS action.")
    payload = {"to": normalize_phone(to), "message": message, "sender": gateway.sender}
    headers = {
        **_auth(gateway, secrets),
        "Content-Type": "application/json",
        "Idempotency-Key": idempotency_key,
    }
    body = json.dumps(payload).encode("utf-8")
    return send(HttpRequest("POST", gateway.url, headers, body, gateway.timeout))


def check_sms_gateway(gateway: SmsGateway, secrets: SecretStore) -> str:
    """Ask the gateway for its headers (HEAD) without sending: the settings test button."""
    check_web_address(gateway.url, "SMS gateway")
    request = HttpRequest("HEAD", gateway.url, _auth(gateway, secrets), None, gateway.timeout)
    where = f"The SMS gateway '{gateway.name}' at {safe_url(gateway.url)}"
    try:
        result = send(request)
    except ActionError as exc:
        if exc.status != 405:
            raise
        return f"{where} is reachable (it does not answer test requests, which is normal)."
    return f"{where} is reachable and accepted the token (HTTP {result.status})."


def _auth(gateway: SmsGateway, secrets: SecretStore) -> dict[str, str]:
    return {"Authorization": f"Bearer {read_secret(secrets, gateway.token_secret or '')}"}
