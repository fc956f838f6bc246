"""Fixtures for the command-line tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from app import cli
from engine.governance import users
from engine.storage.database import Database
from tests.password_cost import fast_password_hashing

TEAM_PASSWORD = "team-password-1"  # every member() has it; STATUSFLOW_PASSWORD gives it

Statusflow = Callable[..., tuple[int, str, str]]


@pytest.fixture
def statusflow(db_url: str, statusflow_home, capsys: pytest.CaptureFixture[str]) -> Statusflow:
    """Run ``statusflow --database URL ...``; returns (exit code, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = cli.main(["--database", db_url, *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture(autouse=True)
def team_password(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Commands sign in with STATUSFLOW_PASSWORD, as a script would; hashes are cheap."""
    monkeypatch.setenv("STATUSFLOW_PASSWORD", TEAM_PASSWORD)
    with fast_password_hashing():
        yield


def member(db: Database, name: str, *roles: str, actor: str = "root") -> None:
    """An account with TEAM_PASSWORD, so ``--as name`` signs in."""
    users.add_user(
        db, name, display_name=name.title(), roles=list(roles), password=TEAM_PASSWORD, actor=actor
    )
