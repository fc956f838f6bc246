"""The ``statusflow`` command as a user types it: clear output, one line per error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from app.cli import main
from engine import graphs
from engine.settings import FOUR_EYES_RELAXED, get_setting
from engine.storage.database import Database
from tests.host import as_host

STATUSFLOW = str(Path(sys.executable).parent / "statusflow")
DELIVERED = "Delivered → confirmation email"
DEMO_GRAPHS = (
    DELIVERED,
    "Salesperson not assigned → escalation ladder",
    "New customer → welcome journey",
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_help_lists_every_command_with_one_line(statusflow_home: Path) -> None:
    result = subprocess.run([STATUSFLOW, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for command in ("db", "source", "graph", "demo", "secret"):
        assert f"    {command} " in result.stdout


def test_demo_graphs_validate_on_each_backend(db_url: str, capsys) -> None:
    code, out, _ = run(capsys, "--database", db_url, "demo")
    assert code == 0 and "50 orders" in out
    for name in DEMO_GRAPHS:
        assert run(capsys, "--database", db_url, "graph", "validate", name)[:2] == (
            0,
            f"'{name}' is valid.\n",
        )
    code, out, _ = run(capsys, "demo", "--database", db_url)  # the option may follow too
    assert code == 0 and "already" in out


def test_demo_order_status_change_leaves_one_event(db_url: str, capsys) -> None:
    assert run(capsys, "--database", db_url, "demo")[0] == 0
    db = Database(db_url)
    with as_host(db) as conn:
        conn.execute(text("UPDATE orders SET status = 'DEL' WHERE id = 7 AND status <> 'DEL'"))
    with db.read() as conn:
        events = conn.execute(
            text(
                "SELECT record_key, old_value, new_value FROM sf_status_events WHERE kind='status'"
            )
        ).all()
    db.dispose()
    assert len(events) == 1
    assert events[0].record_key == "7" and events[0].new_value == "DEL"
    assert events[0].old_value not in (None, "DEL")


def test_corrupted_graph_lists_problems_in_plain_words(db_url: str, capsys, tmp_path: Path) -> None:
    run(capsys, "--database", db_url, "demo")
    copy = tmp_path / "delivered.json"
    assert run(capsys, "--database", db_url, "graph", "export", DELIVERED, "-o", str(copy))[0] == 0
    document = json.loads(copy.read_text(encoding="utf-8"))
    trigger, email = document["nodes"]
    trigger["params"]["codes"] = ["DLV"]
    email["params"]["subject"] = "Your order for {{ custmer_name }}"
    del email["params"]["body_text"]
    copy.write_text(json.dumps(document), encoding="utf-8")

    code, out, err = run(capsys, "--database", db_url, "graph", "validate", str(copy))
    assert code == 3 and err == ""
    assert "no status code 'DLV'" in out and "DEL (Delivered)" in out
    assert "no field 'custmer_name'" in out and "customer_name" in out
    assert "Traceback" not in out


def test_import_then_export_gives_the_same_graph(db_url: str, capsys, tmp_path: Path) -> None:
    run(capsys, "--database", db_url, "demo")
    first = tmp_path / "first.json"
    run(capsys, "--database", db_url, "graph", "export", DELIVERED, "-o", str(first))
    code, out, _ = run(
        capsys, "--database", db_url, "graph", "import", str(first), "--name", "Copy of delivered"
    )
    assert code == 0 and "Imported 'Copy of delivered'" in out
    second = tmp_path / "second.json"
    run(capsys, "--database", db_url, "graph", "export", "Copy of delivered", "-o", str(second))
    a, b = json.loads(first.read_text()), json.loads(second.read_text())
    assert a.pop("name") != b.pop("name")
    assert a.pop("id") != b.pop("id")  # the copy got its own identity
    assert a == b


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("graph", "validate", "missing.json"), "There is no file"),
        (("graph", "import", "{bad}"), "is not valid JSON"),
        (("graph", "validate", "No such graph"), "There is no graph named 'No such graph'"),
        (("source", "add", "x", "--table", "nope", "--key", "id", "--status", "s"), "no table"),
        (("source", "codes", "ghosts"), "ghosts"),
        (("secret", "delete", "never-stored"), "No secret named"),
    ],
)
def test_bad_input_ends_with_one_clear_line(
    statusflow_home: Path, memory_keyring, capsys, tmp_path: Path, argv, message
) -> None:
    (tmp_path / "{bad}").write_text("{ not json", encoding="utf-8")
    argv = tuple(str(tmp_path / a) if a == "{bad}" else a for a in argv)
    code, _out, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and err.startswith("statusflow: ")


def test_unreachable_database_is_one_line_not_a_traceback(statusflow_home: Path) -> None:
    result = subprocess.run(
        [STATUSFLOW, "--database", "postgresql://postgres@127.0.0.1:1/none", "graph", "list"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Check that the server is running" in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_source_refresh_picks_up_a_new_column(db_url: str, capsys) -> None:
    run(capsys, "--database", db_url, "demo")
    db = Database(db_url)
    with as_host(db) as conn:
        conn.execute(text("ALTER TABLE orders ADD COLUMN region VARCHAR(40)"))
    db.dispose()
    code, out, _ = run(capsys, "--database", db_url, "source", "refresh", "orders")
    assert code == 0 and "region" in out


def test_db_upgrade_then_info(empty_db: Database, capsys) -> None:
    url = empty_db.url.render_as_string(hide_password=False)
    code, _, _ = run(capsys, "--database", url, "graph", "list")
    assert code == 2  # not upgraded yet: refused with the command to run
    code, out, _ = run(capsys, "--database", url, "db", "upgrade")
    assert code == 0 and "upgraded from schema empty" in out
    on_postgresql = empty_db.is_postgresql
    assert ("tables are in the PostgreSQL schema statusflow" in out) == on_postgresql
    code, out, _ = run(capsys, "--database", url, "db", "info")
    assert code == 0 and "Chosen by: --database" in out
    assert ("in the PostgreSQL schema statusflow" in out) == on_postgresql


def test_embedded_default_upgrades_itself(statusflow_home: Path, capsys) -> None:
    code, out, _ = run(capsys, "graph", "list")
    assert code == 0 and "No graphs yet" in out
    assert (statusflow_home / "statusflow.db").exists()


def test_first_start_without_a_screen_prepares_the_demo_and_says_what_to_do(
    statusflow_home: Path, monkeypatch
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "QT_QPA_PLATFORM")}
    env["TZ"] = "Europe/Stockholm"  # the computer's zone becomes the organisation's
    result = subprocess.run([STATUSFLOW], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2
    assert "First start: created the demo shop (50 orders)" in result.stdout
    assert "Times are read and shown in Europe/Stockholm" in result.stdout
    assert "Published 3 demo automations" in result.stdout
    db = Database(f"sqlite:///{statusflow_home / 'statusflow.db'}")
    assert {g.current_version for g in graphs.list_graphs(db)} == {"V1.0"}  # ready to react
    with db.read() as conn:
        assert get_setting(conn, FOUR_EYES_RELAXED) is True
    assert "no screen to show the designer on" in result.stderr
    assert "Traceback" not in result.stderr


def test_secret_set_from_stdin(memory_keyring, capsys, monkeypatch, statusflow_home) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("s3cret\n"))
    code, out, _ = run(capsys, "secret", "set", "smtp/default", "--stdin")
    assert code == 0 and "Stored 'smtp/default'" in out
    assert memory_keyring.get_password("statusflow", "smtp/default") == "s3cret"
