"""``statusflow settings`` as an administrator types it, against real servers."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from app.commands import settings as settings_command
from app.config import DatabaseChoice
from app.context import Context
from engine.actions.errors import ActionError
from engine.errors import ConfigError
from engine.secrets import SecretStore


@pytest.fixture
def ctx(db_url: str, memory_keyring) -> Iterator[Context]:
    context = Context(DatabaseChoice(db_url, "--database"), signed_in="ann")
    yield context
    context.close()


def run(ctx: Context, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    parser = argparse.ArgumentParser(prog="statusflow")
    settings_command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["settings", *argv])
    assert args.func(ctx, args) == 0
    return capsys.readouterr().out


def test_smtp_settings_are_saved_shown_and_tested(ctx, capsys, smtp_server) -> None:
    out = run(
        ctx, capsys, "smtp", "--host", "127.0.0.1", "--port", str(smtp_server.port),
        "--security", "none", "--from", "orders@example.com", "--from-name", "ACME",
    )  # fmt: skip
    assert out == (
        f"Saved the email server 'default' (127.0.0.1:{smtp_server.port}, no encryption), "
        "sending as orders@example.com.\n"
    )
    assert '"from_name": "ACME"' in run(ctx, capsys, "show")
    out = run(ctx, capsys, "test", "smtp")
    assert out.startswith(f"Connected to the email server 127.0.0.1:{smtp_server.port}")
    assert smtp_server.messages == []


def test_a_login_reminds_to_store_the_password(ctx, capsys) -> None:
    out = run(ctx, capsys, "smtp", "--host", "mail.example.com", "--user", "ops", "--from",
              "orders@example.com")  # fmt: skip
    assert out.endswith("Store its password or token with 'statusflow secret set smtp/default'.\n")
    SecretStore().set("smtp/default", "pw")
    out = run(ctx, capsys, "smtp", "--host", "mail.example.com", "--user", "ops", "--from",
              "orders@example.com")  # fmt: skip
    assert "secret set" not in out


def test_a_failing_smtp_test_raises_the_sentence(ctx, capsys, smtp_server_auth) -> None:
    SecretStore().set("smtp/default", "wrong")
    run(ctx, capsys, "smtp", "--host", "127.0.0.1", "--port", str(smtp_server_auth.port),
        "--user", "ops", "--from", "orders@example.com",
        "--ca-file", smtp_server_auth.profile().ca_file)  # fmt: skip
    with pytest.raises(ActionError, match="refused the login for 'ops'"):
        run(ctx, capsys, "test", "smtp")


def test_an_impossible_port_is_refused(ctx, capsys) -> None:
    with pytest.raises(ConfigError, match="from 1 to 65535"):
        run(ctx, capsys, "smtp", "--host", "h", "--port", "0", "--from", "a@example.com")


def test_sms_gateway_is_saved_and_tested_without_sending(ctx, capsys, http_server) -> None:
    out = run(ctx, capsys, "sms", "--url", http_server.url("/sms"), "--sender", "ACME")
    assert out.startswith("Saved the SMS gateway 'default'")
    assert "statusflow secret set sms/default" in out
    SecretStore().set("sms/default", "tok")
    assert "is reachable" in run(ctx, capsys, "test", "sms")
    assert [r.method for r in http_server.requests] == ["HEAD"]


def test_testing_a_gateway_that_is_not_set_up_says_how(ctx, capsys) -> None:
    with pytest.raises(ActionError, match="No SMS gateway 'backup' is set up"):
        run(ctx, capsys, "test", "sms", "--name", "backup")


def test_show_lists_engine_limits_with_their_defaults(ctx, capsys) -> None:
    out = run(ctx, capsys, "show")
    assert "engine.loop_depth_limit" in out and "5  (default)" in out
    assert "engine.four_eyes_relaxed" in out and "false  (default)" in out


def test_the_time_zone_is_set_by_place_name_and_shown(ctx, capsys) -> None:
    assert 'time_zone                            "UTC"  (default)' in run(ctx, capsys, "show")
    out = run(ctx, capsys, "time-zone", "America/New_York")
    assert out.startswith("Saved: schedules, waits and timelines use America/New_York")
    assert " EST there" in out or " EDT there" in out
    assert 'time_zone                            "America/New_York"' in run(ctx, capsys, "show")
    with pytest.raises(ConfigError, match="'New York' is not a time zone"):
        run(ctx, capsys, "time-zone", "New York")
