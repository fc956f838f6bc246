"""Where the database is, and other per-user settings.

The database URL comes from, in order: ``--database``, the ``STATUSFLOW_DATABASE_URL``
environment variable, the ``[database] url`` entry of the user config file, and
finally the embedded SQLite file in the user data folder. Passwords never live in the
config file: a PostgreSQL URL without one takes it from the keyring.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy.engine import URL

from engine.errors import ConfigError, SecretStoreError
from engine.secrets import SecretStore
from engine.services.database import database_secret_name, parse_url

APP_NAME = "StatusFlow"
ENV_URL = "STATUSFLOW_DATABASE_URL"
ENV_HOME = "STATUSFLOW_HOME"  # one folder for config and data (tests, portable installs)


def config_dir() -> Path:
    home = os.environ.get(ENV_HOME)
    return Path(home) if home else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    home = os.environ.get(ENV_HOME)
    return Path(home) if home else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def log_dir() -> Path:
    home = os.environ.get(ENV_HOME)
    if home:
        return Path(home) / "logs"
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def config_file() -> Path:
    return config_dir() / "config.toml"


def embedded_url() -> str:
    return f"sqlite:///{data_dir() / 'statusflow.db'}"


@dataclass(frozen=True)
class DatabaseChoice:
    """The URL to use and where it came from (shown by 'statusflow db info')."""

    url: str
    origin: str  # "--database", "STATUSFLOW_DATABASE_URL", the config file, "embedded default"

    @property
    def embedded(self) -> bool:
        return self.origin == "embedded default"


def read_config() -> dict[str, Any]:
    """The user config file as a dict; {} when there is none."""
    path = config_file()
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"The config file {path} cannot be read: {exc}. Fix or delete it."
        ) from None


def choose_database(cli_url: str | None = None) -> DatabaseChoice:
    if cli_url:
        return DatabaseChoice(cli_url, "--database")
    if os.environ.get(ENV_URL):
        return DatabaseChoice(os.environ[ENV_URL], ENV_URL)
    url = read_config().get("database", {}).get("url")
    if url:
        if not isinstance(url, str):
            raise ConfigError(f"[database] url in {config_file()} must be a text value.")
        return DatabaseChoice(url, str(config_file()))
    return DatabaseChoice(embedded_url(), "embedded default")


def with_keyring_password(url: str, secrets: SecretStore) -> URL:
    """A PostgreSQL URL without a password gets the one stored in the keyring, if any."""
    parsed = parse_url(url)
    if parsed.get_backend_name() != "postgresql" or parsed.password:
        return parsed
    try:
        password = secrets.get(database_secret_name(parsed)) if secrets.available() else None
    except SecretStoreError:
        password = None  # trust/peer auth still works; a refusal will name the secret
    return parsed.set(password=password) if password else parsed


def write_database_url(url: str) -> Path:
    """Save the database URL in the config file (refusing one that has a password)."""
    parsed = parse_url(url)
    if parsed.password:
        name = database_secret_name(parsed)
        raise ConfigError(
            "The URL contains a password; config files never hold passwords. Remove it "
            f"from the URL and store it with 'statusflow secret set {name}'."
        )
    config = read_config()
    config.setdefault("database", {})["url"] = url
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_to_toml(config), encoding="utf-8")
    return path


def _to_toml(config: dict[str, Any]) -> str:
    """A small TOML writer for our flat sections of strings, numbers and booleans."""
    lines: list[str] = []
    for section, values in config.items():
        lines.append(f"[{section}]")
        for key, value in values.items():
            if isinstance(value, bool):
                rendered = "true" if value else "false"
            elif isinstance(value, int | float):
                rendered = str(value)
            else:
                rendered = '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
            lines.append(f"{key} = {rendered}")
        lines.append("")
    return "\n".join(lines)
