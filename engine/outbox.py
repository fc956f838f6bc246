"""The embedded demo's built-in outbox: a real SMTP server on loopback that keeps every email.

A new user has no mail server at hand, yet must see "order delivered → email the
client" actually happen. The engine sends to this server over real SMTP, exactly as
to a company's server, and the designer's Outbox panel shows what arrived.

Messages go to a JSON-lines file in the user data folder (when a path is given), one
line per email, so yesterday's demo emails are still there after a restart and no
schema change is needed for a demo feature; the file keeps only the newest
:data:`KEEP` messages. Without a path they are kept in memory, bounded the same way.
"""

from __future__ import annotations

import json
import socket
import threading
from collections import deque
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import Connection

from engine.errors import StatusFlowError
from engine.settings import SmtpProfile, save_smtp_profile, smtp_profile
from engine.storage.database import Database

HOST = "127.0.0.1"
KEEP = 500  # the outbox is a demo window, not an archive
DEMO_FROM_ADDRESS = "demo-shop@statusflow.example"
DEMO_FROM_NAME = "StatusFlow Demo Shop"


@dataclass(frozen=True)
class OutboxMessage:
    """One email as its recipient would see it."""

    received_at: datetime
    mail_from: str
    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None
    message_id: str

    def to_json(self) -> str:
        values = asdict(self)
        values["received_at"] = self.received_at.isoformat()
        return json.dumps(values, ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> OutboxMessage:
        values = json.loads(line)
        values["received_at"] = datetime.fromisoformat(values["received_at"])
        values["to"] = tuple(values["to"])
        return cls(**values)


def parse_message(content: bytes, envelope_from: str, recipients: list[str]) -> OutboxMessage:
    """The parts a person reads, from the raw message the server received."""
    parsed = message_from_bytes(content, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return OutboxMessage(
        received_at=datetime.now(UTC),
        mail_from=str(parsed.get("From") or envelope_from),
        to=tuple(recipients),
        subject=str(parsed.get("Subject") or ""),
        text=_body(parsed, "plain") or "",
        html=_body(parsed, "html"),
        message_id=str(parsed.get("Message-ID") or ""),
    )


def _body(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    return None if part is None else str(part.get_content())


class LoopbackOutbox:
    """An SMTP server on 127.0.0.1 that accepts any email and keeps it."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._messages: deque[OutboxMessage] = deque(self._load(), maxlen=KEEP)
        self._controller: Controller | None = None

    def _load(self) -> list[OutboxMessage]:
        if self.path is None or not self.path.exists():
            return []
        lines = [line for line in self.path.read_text(encoding="utf-8").splitlines() if line]
        if len(lines) > KEEP:  # trim on start, so the file cannot grow without end
            lines = lines[-KEEP:]
            self.path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        return [message for line in lines if (message := _read_line(line)) is not None]

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) of the running server."""
        if self._controller is None:
            raise StatusFlowError("The built-in outbox is not running; start it first.")
        return HOST, int(self._controller.port)

    def start(self) -> tuple[str, int]:
        """Listen on a free loopback port; returns (host, port)."""
        if self._controller is None:
            controller = Controller(_Handler(self), hostname=HOST, port=_free_port())
            controller.start()
            self._controller = controller
        return self.address

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[OutboxMessage]:
        """Every kept email, oldest first."""
        with self._lock:
            return list(self._messages)

    def keep(self, message: OutboxMessage) -> None:
        with self._lock:
            self._messages.append(message)
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as file:
                    file.write(message.to_json() + "\n")


def _read_line(line: str) -> OutboxMessage | None:
    """A line cut short by a crash mid-write is skipped, not fatal."""
    try:
        return OutboxMessage.from_json(line)
    except (ValueError, KeyError, TypeError):
        return None


class _Handler:
    """aiosmtpd handler: every delivered message goes into the outbox."""

    def __init__(self, outbox: LoopbackOutbox) -> None:
        self.outbox = outbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.outbox.keep(parse_message(envelope.content, envelope.mail_from, envelope.rcpt_tos))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def demo_profile(host: str, port: int) -> SmtpProfile:
    """The "default" email server profile that sends to the built-in outbox."""
    return SmtpProfile(
        name="default",
        host=host,
        port=port,
        security="none",
        from_address=DEMO_FROM_ADDRESS,
        from_name=DEMO_FROM_NAME,
        timeout=10.0,
    )


def is_demo_profile(profile: SmtpProfile) -> bool:
    """True for a profile this module saved (it may follow the outbox to a new port)."""
    return profile.host == HOST and profile.from_address == DEMO_FROM_ADDRESS


def ensure_demo_profile(db: Database, outbox: LoopbackOutbox, actor: str) -> bool:
    """Point the "default" email server at the outbox unless a real one is set up.

    The outbox gets a new port on every start, so a profile saved earlier by this
    function is updated; any other "default" profile is never touched. Returns True
    when the profile was saved.
    """
    wanted = demo_profile(*outbox.address)
    with db.read() as conn:
        current = _current_default(conn)
    if current is not None and (current == wanted or not is_demo_profile(current)):
        return False
    save_smtp_profile(db, wanted, actor)
    return True


def _current_default(conn: Connection) -> SmtpProfile | None:
    try:
        return smtp_profile(conn, "default")
    except StatusFlowError:
        return None
