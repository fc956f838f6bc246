"""Fixtures for the command-line tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app import cli

Statusflow = Callable[..., tuple[int, str, str]]


@pytest.fixture
def statusflow(db_url: str, statusflow_home, capsys: pytest.CaptureFixture[str]) -> Statusflow:
    """Run ``statusflow --database URL ...``; returns (exit code, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = cli.main(["--database", db_url, *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run
