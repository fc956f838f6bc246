"""One small HTTP client (standard library only) shared by webhooks and the SMS gateway.

It classifies every outcome once: 2xx/3xx is a result; 5xx, 429, timeouts and
connection failures are worth retrying; any other 4xx means the request itself is
wrong. Messages name the URL without its query string, which often carries keys.
"""

from __future__ import annotations

import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from http.client import HTTPException
from typing import Any
from urllib.parse import urlsplit

from engine.actions.errors import ActionError, config_error

EXCERPT_CHARS = 300
_READ_LIMIT = 64 * 1024
USER_AGENT = "StatusFlow"


@dataclass(frozen=True)
class HttpRequest:
    """A request to make; ``timeout`` (seconds) covers connecting and each read."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None
    timeout: float


@dataclass(frozen=True)
class HttpResult:
    """A 2xx or 3xx answer: what the run timeline shows."""

    status: int
    body_excerpt: str
    elapsed_ms: int


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer to record, not a reason to re-send the body elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def send(request: HttpRequest) -> HttpResult:
    """Make the request; raise an ActionError (retryable or not) unless it got 2xx/3xx."""
    prepared = urllib.request.Request(
        request.url,
        data=request.body,
        headers={"User-Agent": USER_AGENT, **request.headers},
        method=request.method.upper(),
    )
    started = time.monotonic()
    try:
        with _OPENER.open(prepared, timeout=request.timeout) as response:
            status, headers, body = response.status, response.headers, response.read(_READ_LIMIT)
    except urllib.error.HTTPError as exc:
        status, headers, body = exc.code, exc.headers, _read_error_body(exc)
    except (urllib.error.URLError, HTTPException, OSError) as exc:
        raise _unreachable(request, exc) from exc
    except ValueError as exc:  # a line break in a header, a space in the host...
        raise config_error(
            f"The request to {safe_url(request.url)} cannot be sent as written ({exc}). "
            "Check the URL and the headers of the action."
        ) from None
    elapsed_ms = round((time.monotonic() - started) * 1000)
    excerpt = body.decode("utf-8", "replace")[:EXCERPT_CHARS]
    if status >= 400:
        raise _refused(request, status, excerpt, headers)
    return HttpResult(status, excerpt, elapsed_ms)


def safe_url(url: str) -> str:
    """The URL as shown to people: no user name, password or query string."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    query = "?…" if parts.query else ""
    return f"{parts.scheme}://{host}{port}{parts.path}{query}"


def _read_error_body(exc: urllib.error.HTTPError) -> bytes:
    try:
        return exc.read(_READ_LIMIT)
    except (OSError, HTTPException):
        return b""


def _refused(
    request: HttpRequest, status: int, excerpt: str, headers: Message | None
) -> ActionError:
    where = safe_url(request.url)
    said = f" It said: {excerpt}" if excerpt.strip() else ""
    detail = f"HTTP {status}: {excerpt}"
    if status >= 500:
        return ActionError(
            f"The server at {where} failed with HTTP {status} (a problem on its side; "
            f"StatusFlow can try again later).{said}",
            error_class="http_5xx",
            retryable=True,
            detail=detail,
            status=status,
        )
    if status == 429:
        wait = headers.get("Retry-After") if headers is not None else None
        after = f" It asked to wait {wait} seconds." if wait else ""
        return ActionError(
            f"The server at {where} received too many requests (HTTP 429) and asked "
            f"StatusFlow to slow down; it will try again later.{after}{said}",
            error_class="http_429",
            retryable=True,
            detail=detail,
            status=status,
        )
    return ActionError(
        f"The server at {where} refused the request with HTTP {status}. {_hint(status)}{said}",
        error_class="http_4xx",
        retryable=False,
        detail=detail,
        status=status,
    )


def _hint(status: int) -> str:
    if status in (401, 403):
        return "Check the token or password the action uses."
    if status in (404, 405, 410):
        return "Check the address (URL) and the method of the action."
    return "Check the headers and the body the action sends."


def _unreachable(request: HttpRequest, exc: BaseException) -> ActionError:
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    where = safe_url(request.url)
    if isinstance(reason, TimeoutError | socket.timeout):
        return ActionError(
            f"The server at {where} did not answer within {request.timeout:g} seconds. "
            "StatusFlow can try again later.",
            error_class="http_timeout",
            retryable=True,
        )
    if isinstance(reason, ssl.SSLCertVerificationError):
        return ActionError(
            f"The server at {where} showed a certificate StatusFlow does not trust "
            f"({reason.verify_message}). Check the address or ask IT.",
            error_class="http_connect",
            retryable=False,
        )
    words = (
        "the host name is not known"
        if isinstance(reason, socket.gaierror)
        else str(getattr(reason, "strerror", None) or reason).lower()
    )
    return ActionError(
        f"The server at {where} cannot be reached: {words}. Check the address and that "
        "the service is running; StatusFlow can try again later.",
        error_class="http_connect",
        retryable=True,
        detail=str(reason),
    )
