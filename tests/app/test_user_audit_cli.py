"""``statusflow user`` and ``statusflow audit`` as an admin and an auditor type them."""

from __future__ import annotations

import csv
import io
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app import cli
from engine.governance import users
from engine.governance.sign_in import authenticate
from engine.storage.database import Database
from tests.app.conftest import TEAM_PASSWORD, member


@pytest.fixture
def statusflow(db_url: str, statusflow_home, monkeypatch, capsys):
    """Run ``statusflow --database URL --as ACTOR ...``; returns (exit code, stdout, stderr)."""

    def run(actor: str, *argv: str, stdin: str | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = cli.main(["--database", db_url, "--as", actor, *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_an_admin_adds_lists_and_changes_users(db: Database, statusflow) -> None:
    code, out, _ = statusflow(
        "ann",
        "user",
        "add",
        "ann",
        "--name",
        "Ann Smith",
        "--role",
        "admin",
        "--password-stdin",
        stdin=f"{TEAM_PASSWORD}\n",
    )
    assert (code, out) == (0, "Added ann (Ann Smith) as admin.\n")
    code, out, _ = statusflow(
        "ann",
        "user",
        "add",
        "ben",
        "--name",
        "Ben Jones",
        "--email",
        "ben@example.com",
        "--role",
        "operator",
        stdin="",
    )
    assert out == (
        "Added ben (Ben Jones) as operator. They have no password yet (statusflow user passwd).\n"
    )
    assert statusflow("ann", "user", "role", "ben", "--set", "operator", "publisher")[1] == (
        "ben is now publisher, operator.\n"
    )
    statusflow("ann", "user", "passwd", "ben", stdin="s3cret-pass\n")  # piped: no flag needed
    assert authenticate(db, "ben", "s3cret-pass").roles == ("publisher", "operator")
    statusflow("ann", "user", "deactivate", "ben")
    code, out, _ = statusflow("ann", "user", "list")
    assert out.splitlines() == [
        "ann              Ann Smith  [admin]",
        "ben              Ben Jones <ben@example.com>  [publisher, operator]  (deactivated)",
    ]


def test_a_refusal_is_one_line_and_changes_nothing(db: Database, statusflow) -> None:
    member(db, "ann", "admin", actor="ann")
    member(db, "ben", "operator", actor="ann")
    code, out, err = statusflow("ben", "user", "role", "ben", "--set", "admin")
    assert (code, out) == (2, "")
    assert err == (
        "statusflow: ben is an operator; managing users needs the admin role. "
        "Ask an admin to give you that role.\n"
    )
    code, _, err = statusflow("ann", "user", "deactivate", "ann")
    assert code == 2 and "ann is the last active admin" in err
    code, _, err = statusflow("ann", "user", "passwd", "ben", stdin="")
    assert code == 2 and "pass it on standard input" in err


def test_audit_prints_a_table_and_filters(db: Database, statusflow) -> None:
    member(db, "ann", "admin", actor="ann")
    member(db, "ben", "operator", actor="ann")
    users.set_roles(db, "ben", ["designer"], actor="ann")
    code, out, _ = statusflow("ann", "audit", "--action", "user.roles")
    assert code == 0
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    line = out.splitlines()
    assert len(line) == 1 and line[0].startswith(day)
    assert line[0].endswith(
        "UTC  ann            user.roles         Changed ben's roles to designer"
    )
    assert len(statusflow("ann", "audit", "--user", "ann", "--since", day)[1].splitlines()) == 3
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")
    assert statusflow("ann", "audit", "--until", yesterday)[1] == "No audit entries match.\n"


def test_audit_exports_csv(db: Database, statusflow, tmp_path: Path) -> None:
    member(db, "ann", "admin", actor="ann")
    target = tmp_path / "audit.csv"
    code, out, _ = statusflow("ann", "audit", "--csv", str(target))
    assert (code, out) == (0, f"Wrote 1 audit entry to {target}.\n")
    with target.open(newline="", encoding="utf-8") as file:
        header, row = list(csv.reader(file))
    assert header[:3] == ["at", "actor", "action"]
    assert row[1:6] == ["ann", "user.add", "user", "ann", "Added the user ann (admin)"]
    assert row[7] == '{"display_name":"Ann","email":null,"roles":["admin"]}'


def test_a_wrong_date_is_explained(statusflow, capsys) -> None:
    with pytest.raises(SystemExit):
        statusflow("ann", "audit", "--since", "31/01/2026")
    assert "'31/01/2026' is not a date; write it as YYYY-MM-DD" in capsys.readouterr().err
