"""Calling a webhook: the user's request plus an ``Idempotency-Key`` header.

The key is derived from run and node, so a receiver that honours it can ignore a
retried call it has already handled.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from engine.actions.errors import config_error
from engine.actions.http import HttpRequest, HttpResult, safe_url, send

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def call_webhook(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body_text: str | None,
    timeout: float,
    idempotency_key: str,
) -> HttpResult:
    """Send the rendered request; JSON content type when there is a body, unless set."""
    check_web_address(url, "webhook")
    if method.upper() not in METHODS:
        raise config_error(
            f"The webhook method '{method}' is not supported; choose one of {', '.join(METHODS)}."
        )
    merged = {**headers, "Idempotency-Key": idempotency_key}
    if body_text is not None and not any(k.lower() == "content-type" for k in headers):
        merged["Content-Type"] = "application/json"
    body = body_text.encode("utf-8") if body_text is not None else None
    return send(HttpRequest(method.upper(), url, merged, body, timeout))


def check_web_address(url: str, what: str) -> None:
    """Refuse anything but an http(s) address with a host (no file:, ftp:, ...)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise config_error(
            f"'{safe_url(url) if parts.scheme else url}' is not a web address; the {what} "
            "URL must start with https:// (or http://) and name a server."
        )
