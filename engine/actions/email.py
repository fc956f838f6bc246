"""Sending email over SMTP, with a Message-ID derived from the run and node.

The same idempotency key always yields the same Message-ID, so a retried send is
recognisable as the same message by mail servers and by people. Every smtplib,
socket and TLS failure becomes an :class:`ActionError` whose ``retryable`` says
whether trying later may help (server down, 4xx) or not (wrong password, 5xx).
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from typing import TYPE_CHECKING

from engine.actions.errors import ActionError, config_error, read_secret
from engine.secrets import SecretStore

if TYPE_CHECKING:
    from engine.settings import SmtpProfile

SECURITY_WORDS = {"starttls": "STARTTLS", "ssl": "SSL/TLS", "none": "no encryption"}
_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;.]+$")


@dataclass(frozen=True)
class EmailSpec:
    """A rendered email: recipients, subject and body parts."""

    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None


@dataclass(frozen=True)
class EmailResult:
    """What the server accepted; ``refused`` lists recipients it turned down."""

    message_id: str
    recipients: tuple[str, ...]
    refused: tuple[str, ...] = ()


def looks_like_address(text: str) -> bool:
    """True for something@domain.tld (the bare address, no display name)."""
    return bool(_ADDRESS.match(text.strip()))


def parse_addresses(text: str) -> tuple[str, ...]:
    """Addresses separated by commas or semicolons; 'Name <a@b.c>' keeps its name."""
    found = []
    for part in re.split(r"[,;]", text):
        if not part.strip():
            continue
        name, address = parseaddr(part.strip())
        if not looks_like_address(address):
            raise config_error(
                f"'{part.strip()}' is not an email address. Check the recipient field "
                "(addresses look like name@example.com, separated by commas)."
            )
        found.append(formataddr((name, address)))
    return tuple(found)


def message_id(idempotency_key: str, domain: str) -> str:
    """The Message-ID for a key: the same key always gives the same ID."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]
    return f"<sf-{digest}@{domain}>"


def build_message(spec: EmailSpec, profile: SmtpProfile, idempotency_key: str) -> EmailMessage:
    """The MIME message: plain text, plus an HTML alternative when there is one."""
    msg = EmailMessage()
    msg["From"] = formataddr((profile.from_name, profile.from_address))
    msg["To"] = ", ".join(spec.to)
    if spec.cc:
        msg["Cc"] = ", ".join(spec.cc)
    msg["Subject"] = " ".join(spec.subject.split())  # a line break would forge headers
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = message_id(idempotency_key, profile.from_address.rsplit("@", 1)[-1])
    msg["X-StatusFlow-Key"] = idempotency_key
    msg.set_content(spec.text)
    if spec.html is not None:
        msg.add_alternative(spec.html, subtype="html")
    return msg


def send_email(
    profile: SmtpProfile, spec: EmailSpec, idempotency_key: str, secrets: SecretStore
) -> EmailResult:
    """Deliver one email to the SMTP server, or raise an ActionError saying why not."""
    recipients = tuple(parseaddr(a)[1] for a in parse_addresses(",".join((*spec.to, *spec.cc))))
    if not recipients:
        raise config_error("The email has no recipient. Fill in the 'To' field of the action.")
    msg = build_message(spec, profile, idempotency_key)
    with _session(profile, secrets) as smtp, _translated(profile):
        refused = smtp.send_message(msg, to_addrs=list(recipients))
    accepted = tuple(r for r in recipients if r not in refused)
    return EmailResult(str(msg["Message-ID"]), accepted, tuple(refused))


def check_smtp(profile: SmtpProfile, secrets: SecretStore) -> str:
    """Connect, log in and say hello without sending: the settings dialog's test button."""
    with _session(profile, secrets) as smtp, _translated(profile):
        smtp.noop()
    login = f" and logged in as '{profile.username}'" if profile.username else ""
    return (
        f"Connected to the email server {profile.address} "
        f"({SECURITY_WORDS[profile.security]}){login}. It is ready to send."
    )


@contextmanager
def _session(profile: SmtpProfile, secrets: SecretStore) -> Iterator[smtplib.SMTP]:
    """An open, secured and logged-in SMTP connection, closed afterwards."""
    secret = profile.password_secret if profile.username else None
    password = read_secret(secrets, secret) if secret else None
    with _translated(profile):
        smtp = _connect(profile)
    try:
        with _translated(profile):
            if profile.security == "starttls":
                smtp.starttls(context=_tls_context(profile))
            if profile.username and password is not None:
                smtp.login(profile.username, password)
        yield smtp
    finally:
        _quit(smtp)


def _connect(profile: SmtpProfile) -> smtplib.SMTP:
    if profile.security == "ssl":
        return smtplib.SMTP_SSL(
            profile.host, profile.port, timeout=profile.timeout, context=_tls_context(profile)
        )
    return smtplib.SMTP(profile.host, profile.port, timeout=profile.timeout)


def _tls_context(profile: SmtpProfile) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if profile.ca_file:
        context.load_verify_locations(cafile=profile.ca_file)
    return context


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


@contextmanager
def _translated(profile: SmtpProfile) -> Iterator[None]:
    """Turn smtplib, socket and TLS exceptions into ActionErrors with a sentence."""
    try:
        yield
    except ActionError:
        raise
    except (smtplib.SMTPException, OSError) as exc:
        raise _explain(profile, exc) from exc


def _explain(profile: SmtpProfile, exc: Exception) -> ActionError:
    where = f"The email server {profile.address}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return ActionError(
            f"{where} refused the login for '{profile.username}'. Check the user name and "
            f"the password stored as '{profile.password_secret}'.",
            error_class="smtp_auth",
            retryable=False,
            detail=_reply(exc.smtp_code, exc.smtp_error),
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return _recipients_refused(where, exc)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return config_error(
            f"{where} does not offer what the settings ask for ({exc}). Check the security "
            "setting (STARTTLS, SSL or none) and whether a login is needed."
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return _rejected(where, exc)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return ActionError(
            f"{where} showed a certificate StatusFlow does not trust ({exc.verify_message}). "
            "Check the host name, or ask IT for the certificate file to trust.",
            error_class="smtp_connect",
            retryable=False,
        )
    if isinstance(exc, ssl.SSLError):
        return ActionError(
            f"{where} could not agree on a secure connection ({exc.reason}). Check the "
            "security setting: port 465 usually needs SSL, port 587 STARTTLS.",
            error_class="smtp_connect",
            retryable=False,
        )
    if isinstance(exc, TimeoutError):
        return ActionError(
            f"{where} did not answer within {profile.timeout:g} seconds. It may be busy or "
            "unreachable; StatusFlow can try again later.",
            error_class="smtp_timeout",
            retryable=True,
        )
    return _unreachable(where, exc)


def _unreachable(where: str, exc: Exception) -> ActionError:
    reason = "it closed the connection" if isinstance(exc, smtplib.SMTPException) else None
    if isinstance(exc, socket.gaierror):
        reason = "the host name is not known"
    elif isinstance(exc, OSError) and reason is None:
        reason = (exc.strerror or str(exc)).lower()
    return ActionError(
        f"{where} cannot be reached: {reason}. Check that it is running and that host "
        "and port are right; StatusFlow can try again later.",
        error_class="smtp_connect",
        retryable=True,
        detail=str(exc),
    )


def _recipients_refused(where: str, exc: smtplib.SMTPRecipientsRefused) -> ActionError:
    codes = [code for code, _ in exc.recipients.values()]
    names = ", ".join(exc.recipients)
    temporary = all(400 <= code < 500 for code in codes)
    hint = "It may accept them later." if temporary else "Check the addresses."
    return ActionError(
        f"{where} refused every recipient ({names}). {hint}",
        error_class="smtp_refused",
        retryable=temporary,
        detail="; ".join(f"{a}: {_reply(c, m)}" for a, (c, m) in exc.recipients.items()),
    )


def _rejected(where: str, exc: smtplib.SMTPResponseException) -> ActionError:
    temporary = 400 <= exc.smtp_code < 500
    reply = _reply(exc.smtp_code, exc.smtp_error)
    hint = (
        "This is usually temporary; StatusFlow can try again later."
        if temporary
        else "Check the sender address and the message, or ask the mail server's administrator."
    )
    return ActionError(
        f"{where} rejected the message ({reply}). {hint}",
        error_class="smtp_refused" if exc.smtp_code != 421 else "smtp_connect",
        retryable=temporary,
        detail=reply,
    )


def _reply(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {message}"[:300]
