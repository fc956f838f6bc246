"""Settings shared by every designer and engine: email servers, SMS gateways, engine limits.

They live in the database (``sf_settings``) rather than in each machine's config file,
so every engine process sends mail the same way and a change is audited. Passwords
and tokens never go here: a profile names its keyring entry, and the value is read
from the OS keyring at send time.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine import audit
from engine.actions.email import SECURITY_WORDS, looks_like_address
from engine.actions.errors import config_error
from engine.errors import ConfigError
from engine.permissions import require
from engine.storage.database import Database
from engine.storage.tables import settings
from engine.time_zone import TIME_ZONE, zone_named

SECURITY_MODES = tuple(SECURITY_WORDS)
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
# A key naming a keyring entry ("password_secret") is fine; a key holding one is not.
_SECRET_WORDS = re.compile(r"pass(word|wd)?|pwd|token|api[_-]?key|secret", re.IGNORECASE)

LOOP_DEPTH_LIMIT = "engine.loop_depth_limit"
RUNS_PER_RECORD_PER_HOUR = "engine.runs_per_record_per_hour"
MISFIRE_GRACE_SECONDS = "engine.misfire_grace_seconds"
FOUR_EYES_RELAXED = "engine.four_eyes_relaxed"


# -- plain settings -----------------------------------------------------------------


def get_setting(conn: Connection, key: str, default: Any = None) -> Any:
    """The stored value, or ``default`` when the key was never set."""
    row = conn.execute(select(settings.c.value).where(settings.c.key == key)).first()
    return default if row is None else row.value


def organisation_zone(conn: Connection) -> ZoneInfo:
    """The organisation's time zone (see engine.time_zone); UTC while none is set."""
    name = get_setting(conn, TIME_ZONE)
    try:
        return zone_named(str(name)) if name else ZoneInfo("UTC")
    except ConfigError:  # a name this machine's zone data does not know
        return ZoneInfo("UTC")


def all_settings(conn: Connection) -> dict[str, Any]:
    """Every stored setting, by key (for 'statusflow settings show')."""
    rows = conn.execute(select(settings.c.key, settings.c.value).order_by(settings.c.key))
    return {row.key: row.value for row in rows}


def set_setting(db: Database, key: str, value: Any, *, actor: str) -> None:
    """Store one setting in its own transaction, audited (admins only)."""
    with db.write() as conn:
        require(conn, actor, "four_eyes.relax" if key == FOUR_EYES_RELAXED else "settings.manage")
        set_setting_in(conn, key, value, actor=actor)


def set_setting_in(
    conn: Connection, key: str, value: Any, *, actor: str, audited: bool = True
) -> None:
    """Store one setting inside the caller's transaction, refusing anything secret-looking.

    ``audited=False`` is for engine bookkeeping (e.g. a counter bumped on publish)
    whose cause is already audited.
    """
    _refuse_secrets(key, value)
    if key in LIMIT_KEYS:
        _check_limit(key, value)
    if key == TIME_ZONE:
        value = zone_named(str(value)).key
    before = conn.execute(
        select(settings.c.value).where(settings.c.key == key).with_for_update()
    ).first()
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    row = {"value": value, "updated_at": datetime.now(UTC), "updated_by": actor}
    conn.execute(
        insert(settings)
        .values(key=key, **row)
        .on_conflict_do_update(index_elements=[settings.c.key], set_=row)
    )
    if audited:
        audit.record(
            conn,
            actor=actor,
            action="settings.set",
            object_type="setting",
            object_id=key,
            summary=f"Changed the setting '{key}'.",
            before=None if before is None else before.value,
            after=value,
        )


def _refuse_secrets(key: str, value: Any) -> None:
    names = [key.rsplit(".", 1)[-1], *_keys_in(value)]
    for name in names:
        if _SECRET_WORDS.search(name) and not name.endswith("_secret"):
            raise ConfigError(
                f"'{name}' looks like a password or token, and settings are visible to every "
                "StatusFlow user. Store it in the keyring with 'statusflow secret set NAME' "
                "and put only that name in the setting."
            )


def _keys_in(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [k for key, item in value.items() for k in (str(key), *_keys_in(item))]
    if isinstance(value, list | tuple):
        return [k for item in value for k in _keys_in(item)]
    return []


# -- email servers ------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpProfile:
    """How to reach one email server. ``password_secret`` names a keyring entry.

    ``ca_file`` is a certificate file to trust in addition to the system's, for a
    company that signs its own mail server certificates (and for tests).
    """

    name: str
    host: str
    from_address: str
    port: int = 587
    security: str = "starttls"
    username: str | None = None
    password_secret: str | None = None
    from_name: str = ""
    timeout: float = 20.0
    ca_file: str | None = None

    def __post_init__(self) -> None:
        if self.username and not self.password_secret:
            object.__setattr__(self, "password_secret", f"smtp/{self.name}")

    @property
    def address(self) -> str:
        """host:port, as people read it in messages."""
        return f"{self.host}:{self.port}"


def validate_smtp_profile(profile: SmtpProfile) -> None:
    """Refuse a profile that cannot work, saying which field to fix."""
    _check_name(profile.name, "email server")
    if not profile.host.strip():
        raise ConfigError("The email server needs a host name, for example mail.example.com.")
    if not 1 <= profile.port <= 65535:
        raise ConfigError(
            f"The port {profile.port} is not possible; use a number from 1 to 65535 "
            "(usually 587 with STARTTLS or 465 with SSL)."
        )
    if profile.security not in SECURITY_MODES:
        raise ConfigError(
            f"The security '{profile.security}' is unknown; choose starttls, ssl or none."
        )
    if not looks_like_address(profile.from_address):
        raise ConfigError(
            f"'{profile.from_address}' is not an email address; the sender must look like "
            "name@example.com."
        )
    if profile.timeout <= 0:
        raise ConfigError("The email server timeout must be more than 0 seconds.")


def save_smtp_profile(db: Database, profile: SmtpProfile, actor: str) -> None:
    """Validate and store an email server profile (audited)."""
    validate_smtp_profile(profile)
    set_setting(db, f"smtp.{profile.name}", asdict(profile), actor=actor)


def smtp_profile(conn: Connection, name: str = "default") -> SmtpProfile:
    """The stored email server profile; a missing one is a setup problem, not retryable."""
    value = get_setting(conn, f"smtp.{name}")
    if value is None:
        raise config_error(
            f"No email server '{name}' is set up. Set one in Settings → Email, or with "
            "'statusflow settings smtp --host …'."
        )
    return SmtpProfile(**_known_fields(SmtpProfile, value))


# -- SMS gateways -------------------------------------------------------------------


@dataclass(frozen=True)
class SmsGateway:
    """An HTTP gateway that sends text messages; ``token_secret`` names a keyring entry."""

    name: str
    url: str
    token_secret: str | None = None
    sender: str = ""
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if not self.token_secret:
            object.__setattr__(self, "token_secret", f"sms/{self.name}")


def validate_sms_gateway(gateway: SmsGateway) -> None:
    """Refuse a gateway that cannot work, saying which field to fix."""
    _check_name(gateway.name, "SMS gateway")
    if not re.match(r"^https?://[^/\s]+", gateway.url):
        raise ConfigError(
            f"'{gateway.url}' is not a web address; the SMS gateway URL must start with "
            "https:// (or http://)."
        )
    if gateway.timeout <= 0:
        raise ConfigError("The SMS gateway timeout must be more than 0 seconds.")


def save_sms_gateway(db: Database, gateway: SmsGateway, actor: str) -> None:
    """Validate and store an SMS gateway (audited)."""
    validate_sms_gateway(gateway)
    set_setting(db, f"sms.{gateway.name}", asdict(gateway), actor=actor)


def sms_gateway(conn: Connection, name: str = "default") -> SmsGateway:
    """The stored SMS gateway; a missing one is a setup problem, not retryable."""
    value = get_setting(conn, f"sms.{name}")
    if value is None:
        raise config_error(
            f"No SMS gateway '{name}' is set up. Set one in Settings → SMS, or with "
            "'statusflow settings sms --url …'."
        )
    return SmsGateway(**_known_fields(SmsGateway, value))


def _check_name(name: str, what: str) -> None:
    if not _NAME.match(name):
        raise ConfigError(
            f"The {what} name '{name}' is not usable; use up to 40 letters, digits, '-' or '_'."
        )


def _known_fields(cls: type, value: dict[str, Any]) -> dict[str, Any]:
    """Ignore fields a newer StatusFlow stored that this one does not know."""
    names = {f.name for f in fields(cls)}
    return {key: item for key, item in value.items() if key in names}


# -- engine limits ------------------------------------------------------------------


@dataclass(frozen=True)
class EngineLimits:
    """The loop guard, rate limit, misfire grace and four-eyes rule the runtime obeys."""

    loop_depth_limit: int = 5
    runs_per_record_per_hour: int = 10
    misfire_grace_seconds: int = 3600
    four_eyes_relaxed: bool = False


LIMIT_KEYS = {f"engine.{f.name}": f for f in fields(EngineLimits)}


def engine_limits(conn: Connection) -> EngineLimits:
    """The limits in force: stored values over the defaults."""
    values = {}
    for key, field in LIMIT_KEYS.items():
        value = get_setting(conn, key, field.default)
        _check_limit(key, value)
        values[field.name] = value
    return EngineLimits(**values)


def _check_limit(key: str, value: Any) -> None:
    if isinstance(LIMIT_KEYS[key].default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"The setting '{key}' must be true or false, not {value!r}.")
    elif isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"The setting '{key}' must be a whole number above 0, not {value!r}.")
