"""Choosing the database and keeping its password out of files."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import config
from engine.errors import ConfigError, SecretStoreError
from engine.secrets import SecretStore


def test_default_is_the_embedded_file_in_the_data_folder(statusflow_home: Path) -> None:
    choice = config.choose_database(None)
    assert choice.embedded
    assert choice.url == f"sqlite:///{statusflow_home / 'statusflow.db'}"


def test_command_line_beats_environment_beats_config_file(
    statusflow_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config.write_database_url("postgresql://ops@db.example:5432/flows")
    assert config.choose_database(None).url == "postgresql://ops@db.example:5432/flows"
    monkeypatch.setenv("STATUSFLOW_DATABASE_URL", "sqlite:////tmp/env.db")
    assert config.choose_database(None).origin == "STATUSFLOW_DATABASE_URL"
    assert config.choose_database("sqlite:////tmp/cli.db").url == "sqlite:////tmp/cli.db"


def test_config_file_never_stores_a_password(statusflow_home: Path) -> None:
    with pytest.raises(ConfigError, match="statusflow secret set db/ops@db:5432"):
        config.write_database_url("postgresql://ops:hunter2@db:5432/flows")
    assert not config.config_file().exists()


def test_broken_config_file_is_named(statusflow_home: Path) -> None:
    config.config_file().parent.mkdir(parents=True)
    config.config_file().write_text("[database\nurl = ", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot be read"):
        config.choose_database(None)


def test_postgres_url_without_password_takes_it_from_the_keyring(memory_keyring) -> None:
    secrets = SecretStore()
    secrets.set("db/ops@db:5432", "s3cret")
    url = config.with_keyring_password("postgresql://ops@db:5432/flows", secrets)
    assert url.password == "s3cret"
    explicit = config.with_keyring_password("postgresql://ops:given@db:5432/flows", secrets)
    assert explicit.password == "given"


def test_secret_round_trip_and_clear_errors(memory_keyring) -> None:
    secrets = SecretStore()
    assert secrets.get("smtp/default") is None
    with pytest.raises(SecretStoreError, match="statusflow secret set smtp/default"):
        secrets.require("smtp/default")
    secrets.set("smtp/default", "pw")
    assert secrets.require("smtp/default") == "pw"
    assert secrets.delete("smtp/default") is True
    assert secrets.delete("smtp/default") is False


def test_no_keyring_backend_says_what_to_install(no_keyring) -> None:
    secrets = SecretStore()
    assert not secrets.available()
    with pytest.raises(SecretStoreError, match=r"keyrings\.alt"):
        secrets.set("smtp/default", "pw")
    # a database URL still works without one (trust or peer authentication)
    assert config.with_keyring_password("postgresql://ops@db/x", secrets).password is None
