"""Settings in the shared database: round trips, audit, refusals, defaults."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.actions.errors import ActionError
from engine.errors import ConfigError
from engine.settings import (
    FOUR_EYES_RELAXED,
    LOOP_DEPTH_LIMIT,
    EngineLimits,
    SmsGateway,
    SmtpProfile,
    engine_limits,
    get_setting,
    save_sms_gateway,
    save_smtp_profile,
    set_setting,
    set_setting_in,
    sms_gateway,
    smtp_profile,
)
from engine.storage.tables import audit_entries

PROFILE = SmtpProfile(
    "default", "mail.example.com", "orders@example.com", username="ops", from_name="ACME"
)


def test_a_setting_round_trips_and_each_change_is_audited(db) -> None:
    with db.read() as conn:
        assert get_setting(conn, "ui.theme", "light") == "light"
    set_setting(db, "ui.theme", {"name": "dark", "size": 12}, actor="ann")
    set_setting(db, "ui.theme", {"name": "blue", "size": 12}, actor="bob")
    with db.read() as conn:
        assert get_setting(conn, "ui.theme") == {"name": "blue", "size": 12}
        entries = conn.execute(select(audit_entries).order_by(audit_entries.c.id)).all()
    assert [(e.actor, e.object_id) for e in entries] == [("ann", "ui.theme"), ("bob", "ui.theme")]
    assert entries[1].before == {"name": "dark", "size": 12}
    assert entries[1].after == {"name": "blue", "size": 12}


def test_a_setting_written_in_a_transaction_rolls_back_with_it(db) -> None:
    with pytest.raises(RuntimeError), db.write() as conn:
        set_setting_in(conn, "engine.published_generation", 1, actor="engine")
        raise RuntimeError("the publish failed half-way")
    with db.write() as conn:
        assert get_setting(conn, "engine.published_generation") is None
        set_setting_in(conn, "engine.published_generation", 2, actor="engine", audited=False)
    with db.read() as conn:
        assert get_setting(conn, "engine.published_generation") == 2
        assert conn.execute(select(audit_entries)).all() == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("smtp.password", "hunter2"),
        ("sms.default", {"url": "https://x", "api_token": "abc"}),
        ("hooks", [{"headers": {"API-Key": "abc"}}]),
    ],
)
def test_a_password_looking_value_is_refused(db, key: str, value) -> None:
    with pytest.raises(ConfigError) as caught:
        set_setting(db, key, value, actor="ann")
    assert "statusflow secret set" in str(caught.value)
    with db.read() as conn:
        assert get_setting(conn, key) is None


def test_smtp_profile_round_trips_and_names_its_password_entry(db) -> None:
    assert PROFILE.password_secret == "smtp/default"
    save_smtp_profile(db, PROFILE, "ann")
    with db.read() as conn:
        assert smtp_profile(conn) == PROFILE


def test_a_missing_profile_says_how_to_set_one_up(db) -> None:
    with db.read() as conn, pytest.raises(ActionError) as caught:
        smtp_profile(conn, "alerts")
    assert (caught.value.error_class, caught.value.retryable) == ("config", False)
    assert str(caught.value) == (
        "No email server 'alerts' is set up. Set one in Settings → Email, or with "
        "'statusflow settings smtp --host …'."
    )


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"host": " "}, "needs a host name"),
        ({"port": 70000}, "from 1 to 65535"),
        ({"security": "tls"}, "choose starttls, ssl or none"),
        ({"from_address": "orders"}, "'orders' is not an email address"),
        ({"name": "my server"}, "name 'my server' is not usable"),
    ],
)
def test_an_unusable_smtp_profile_is_refused_with_the_field(db, changes, words) -> None:
    values = {"name": "default", "host": "mail.example.com", "from_address": "a@example.com"}
    with pytest.raises(ConfigError, match=words):
        save_smtp_profile(db, SmtpProfile(**{**values, **changes}), "ann")


def test_sms_gateway_round_trips_with_its_token_entry(db) -> None:
    gateway = SmsGateway("default", "https://sms.example.com/send", sender="ACME")
    assert gateway.token_secret == "sms/default"
    save_sms_gateway(db, gateway, "ann")
    with db.read() as conn:
        assert sms_gateway(conn) == gateway
        with pytest.raises(ActionError, match="No SMS gateway 'backup' is set up"):
            sms_gateway(conn, "backup")


def test_an_sms_gateway_needs_a_web_address(db) -> None:
    with pytest.raises(ConfigError, match="must start with https://"):
        save_sms_gateway(db, SmsGateway("default", "sms.example.com"), "ann")


def test_engine_limits_default_and_follow_settings(db) -> None:
    with db.read() as conn:
        assert engine_limits(conn) == EngineLimits(5, 10, 3600, False)
    set_setting(db, LOOP_DEPTH_LIMIT, 3, actor="it")
    set_setting(db, FOUR_EYES_RELAXED, True, actor="it")
    with db.read() as conn:
        limits = engine_limits(conn)
    assert (limits.loop_depth_limit, limits.four_eyes_relaxed) == (3, True)
    assert limits.misfire_grace_seconds == 3600


@pytest.mark.parametrize(("key", "value"), [(LOOP_DEPTH_LIMIT, 0), (FOUR_EYES_RELAXED, "yes")])
def test_a_nonsense_limit_is_refused(db, key: str, value) -> None:
    with pytest.raises(ConfigError, match=key):
        set_setting(db, key, value, actor="it")
