"""Real servers on loopback for tests: SMTP (aiosmtpd) and HTTP (http.server).

Fixtures:
- ``smtp_server``: plain SMTP, no login; ``.messages`` collects what arrived.
- ``smtp_server_auth``: STARTTLS required, then AUTH LOGIN/PLAIN as ``.username`` /
  ``.password``. Its certificate is self-signed (made with ``openssl``); the profile it
  hands out trusts it through ``SmtpProfile.ca_file``, so certificate checks stay on.
  It stores the password in the in-memory keyring as 'smtp/default'.
- ``smtp_server_ssl``: implicit TLS (the 'ssl' security) with the same certificate.
- ``http_server``: records every request and answers from a script (``.respond``).
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from engine.secrets import SecretStore
from engine.settings import SmtpProfile
from tests.memory_keyring import MemoryKeyring

SMTP_USER = "ops"
SMTP_PASSWORD = "correct horse battery staple"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- SMTP ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the server got it: parsed MIME plus the SMTP envelope."""

    message: EmailMessage
    mail_from: str
    recipients: tuple[str, ...]


class _Collector:
    """aiosmtpd handler that keeps every delivered message."""

    def __init__(self) -> None:
        self.messages: list[ReceivedMail] = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        mail = ReceivedMail(parsed, envelope.mail_from, tuple(envelope.rcpt_tos))
        with self._arrived:
            self.messages.append(mail)
            self._arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 5) -> list[ReceivedMail]:
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(f"expected {count} emails, got {len(self.messages)}")
            return list(self.messages)


@dataclass
class SmtpServer:
    """A running SMTP server and a matching profile."""

    host: str
    port: int
    collector: _Collector
    defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def messages(self) -> list[ReceivedMail]:
        return self.collector.messages

    def wait_for(self, count: int, timeout: float = 5) -> list[ReceivedMail]:
        return self.collector.wait_for(count, timeout)

    def profile(self, **overrides: Any) -> SmtpProfile:
        values = {
            "name": "default",
            "host": self.host,
            "port": self.port,
            "security": "none",
            "from_address": "statusflow@example.com",
            "from_name": "StatusFlow",
            "timeout": 5.0,
            **self.defaults,
            **overrides,
        }
        return SmtpProfile(**values)


def _run_smtp(collector: _Collector, **server_kwargs: Any) -> Iterator[tuple[str, int]]:
    controller = Controller(collector, hostname="127.0.0.1", port=free_port(), **server_kwargs)
    controller.start()
    try:
        yield controller.hostname, controller.port
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain SMTP server on loopback that accepts any mail without a login."""
    collector = _Collector()
    for host, port in _run_smtp(collector):
        yield SmtpServer(host, port, collector)


@pytest.fixture(scope="session")
def tls_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, made by openssl."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == SMTP_USER.encode()
        and auth_data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


def _server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def smtp_server_auth(
    tls_certificate: tuple[Path, Path], memory_keyring: MemoryKeyring
) -> Iterator[SmtpServer]:
    """STARTTLS then AUTH required; the right password is stored as 'smtp/default'."""
    collector = _Collector()
    SecretStore().set("smtp/default", SMTP_PASSWORD)
    servers = _run_smtp(
        collector,
        tls_context=_server_tls(tls_certificate),
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=_authenticate,
    )
    for host, port in servers:
        trusted = {"ca_file": str(tls_certificate[0])}
        yield SmtpServer(
            host, port, collector, {"security": "starttls", "username": SMTP_USER, **trusted}
        )


@pytest.fixture
def smtp_server_ssl(tls_certificate: tuple[Path, Path]) -> Iterator[SmtpServer]:
    """Implicit TLS from the first byte (the 'ssl' security, usually port 465); no login."""
    collector = _Collector()
    for host, port in _run_smtp(collector, ssl_context=_server_tls(tls_certificate)):
        yield SmtpServer(
            host, port, collector, {"security": "ssl", "ca_file": str(tls_certificate[0])}
        )


# -- HTTP ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it; ``headers`` look up names case-insensitively."""

    method: str
    path: str
    headers: Message
    body: bytes
    json: Any


@dataclass(frozen=True)
class ScriptedResponse:
    status: int
    body: bytes
    delay: float
    headers: dict[str, str]


class HttpServer:
    """A running HTTP server: ``respond`` queues answers, ``requests`` records calls."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._script: list[ScriptedResponse] = []
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.host, self.port = "127.0.0.1", self.httpd.server_address[1]

    def url(self, path: str = "/hook") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def respond(
        self,
        status: int,
        body: Any = None,
        *,
        delay: float = 0.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Queue the next answer; dicts and lists become JSON, None an empty body."""
        if isinstance(body, dict | list):
            body = json.dumps(body)
        data = body.encode() if isinstance(body, str) else (body or b"")
        with self._lock:
            self._script.append(ScriptedResponse(status, data, delay, headers or {}))

    def next_response(self, request: RecordedRequest) -> ScriptedResponse:
        with self._lock:
            self.requests.append(request)
            if self._script:
                return self._script.pop(0)
        return ScriptedResponse(200, b'{"ok": true}', 0.0, {})


def _handler_for(server: HttpServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            try:
                parsed = json.loads(body) if body else None
            except ValueError:
                parsed = None
            request = RecordedRequest(self.command, self.path, self.headers, body, parsed)
            reply = server.next_response(request)
            if server.stopping.wait(reply.delay):
                return
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def http_server() -> Iterator[HttpServer]:
    """An HTTP server on loopback in a thread, shut down (and its delays cut) afterwards."""
    server = HttpServer()
    thread = threading.Thread(target=server.httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.stopping.set()
    server.httpd.shutdown()
    server.httpd.server_close()
    thread.join(timeout=5)
