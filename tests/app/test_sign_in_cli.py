"""The command line signs people in: ``--as NAME`` needs NAME's password (from a prompt,
STATUSFLOW_PASSWORD, or the keyring entry 'statusflow login' saved), failures are
audited and limited, and the computer's own user acts without a prompt only on SQLite.

Before, ``--as`` asked for nothing: one person at one shell submitted as ana and
approved and published as ben.
"""

from __future__ import annotations

import getpass
import io
import sys

import pytest

from app import cli
from engine.governance.sign_in import MAX_FAILURES
from engine.services import audit
from engine.storage.database import Database
from tests.app.conftest import TEAM_PASSWORD, member
from tests.memory_keyring import MemoryKeyring

ME = getpass.getuser()


@pytest.fixture
def team(db: Database) -> Database:
    member(db, ME, "admin")
    member(db, "ana", "designer")
    member(db, "ben", "publisher")
    return db


@pytest.fixture
def run(db_url: str, statusflow_home, capsys, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """``statusflow --database URL ...`` with ``stdin`` piped in, as a script runs it."""

    def call(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = cli.main(["--database", db_url, *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return call


def test_acting_as_someone_without_their_password_is_refused_in_one_line(
    team: Database, run, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring
) -> None:
    monkeypatch.delenv("STATUSFLOW_PASSWORD")

    code, out, err = run("--as", "Ben", "task", "list", "--mine")

    assert (code, out) == (2, "")
    assert err == (
        "statusflow: Acting as ben needs ben's StatusFlow password: type it when asked (in a "
        "terminal), set STATUSFLOW_PASSWORD, or run 'statusflow --as ben login' once to keep "
        "it in this computer's keyring.\n"
    )


def test_a_wrong_password_is_refused_audited_and_limited(
    team: Database, run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATUSFLOW_PASSWORD", "not-bens-password")
    for _ in range(MAX_FAILURES):
        assert run("--as", "ben", "task", "list", "--mine")[2] == (
            "statusflow: Wrong user name or password.\n"
        )

    monkeypatch.setenv("STATUSFLOW_PASSWORD", TEAM_PASSWORD)  # even the right one now
    code, _, err = run("--as", "ben", "task", "list", "--mine")

    assert code == 2
    assert err == (
        "statusflow: Too many failed sign-ins for 'ben' in the last 15 minutes; try again "
        "later, or ask an admin to set a new password.\n"
    )
    failed = audit.read_audit(team, "ben", action="user.sign_in_failed")
    assert [(e.actor, e.object_id) for e in failed] == [("ben", "ben")] * MAX_FAILURES
    assert run("--as", "ana", "task", "list", "--mine")[0] == 0  # others are not locked out


def test_login_keeps_the_password_in_the_keyring_for_later_commands(
    team: Database, run, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring
) -> None:
    monkeypatch.delenv("STATUSFLOW_PASSWORD")
    assert run("--as", "ana", "login", stdin="wrong-password\n")[2] == (
        "statusflow: Wrong user name or password.\n"
    )
    assert memory_keyring._store == {}

    code, out, _ = run("--as", "ana", "login", stdin=f"{TEAM_PASSWORD}\n")

    assert (code, out) == (
        0,
        "Logged in as ana; commands with --as ana use the keyring from now on.\n",
    )
    assert run("--as", "ana", "task", "list", "--mine") == (0, "No tasks are waiting.\n", "")
    assert run("--as", "ana", "logout")[1] == "Forgot ana's password.\n"
    assert run("--as", "ana", "task", "list", "--mine")[0] == 2


def test_the_computers_own_user_needs_no_password_only_on_sqlite(
    team: Database, run, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring
) -> None:
    monkeypatch.delenv("STATUSFLOW_PASSWORD")

    code, _, err = run("task", "list", "--mine")

    if team.is_sqlite:  # the embedded, single-person default
        assert (code, err) == (0, "")
    else:  # a shared database: everyone signs in
        assert code == 2 and f"Acting as {ME} needs {ME}'s StatusFlow password" in err


def test_commands_that_do_not_ask_who_acts_never_sign_in(
    team: Database, run, monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring
) -> None:
    monkeypatch.delenv("STATUSFLOW_PASSWORD")
    assert run("--as", "ben", "graph", "list")[0] == 0
