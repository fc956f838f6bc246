"""Email over a real SMTP server on loopback: what arrives, and how failures read."""

from __future__ import annotations

import dataclasses

import pytest

from engine.actions.email import (
    EmailSpec,
    check_smtp,
    message_id,
    parse_addresses,
    send_email,
)
from engine.actions.errors import ActionError
from engine.secrets import SecretStore
from tests.servers import free_port

SPEC = EmailSpec(
    to=("Ann Client <ann@example.com>",),
    cc=("desk@example.com",),
    subject="Order 7 delivered",
    text="Your order 7 was delivered.",
    html="<p>Your order <b>7</b> was delivered.</p>",
)


def test_email_arrives_with_headers_parts_and_message_id(smtp_server) -> None:
    result = send_email(smtp_server.profile(), SPEC, "run-1:node-a", SecretStore())

    (mail,) = smtp_server.wait_for(1)
    msg = mail.message
    assert set(mail.recipients) == {"ann@example.com", "desk@example.com"}
    assert result.recipients == ("ann@example.com", "desk@example.com")
    assert msg["Message-ID"] == result.message_id == message_id("run-1:node-a", "example.com")
    assert msg["From"] == "StatusFlow <statusflow@example.com>"
    assert msg["To"] == "Ann Client <ann@example.com>" and msg["Cc"] == "desk@example.com"
    assert msg["Subject"] == "Order 7 delivered"
    assert msg["X-StatusFlow-Key"] == "run-1:node-a"
    assert msg["Date"]
    assert msg.get_content_type() == "multipart/alternative"
    assert msg.get_body(("plain",)).get_content().strip() == "Your order 7 was delivered."
    assert "<b>7</b>" in msg.get_body(("html",)).get_content()


def test_plain_text_email_has_one_part(smtp_server) -> None:
    spec = dataclasses.replace(SPEC, html=None, cc=())
    send_email(smtp_server.profile(), spec, "k", SecretStore())
    (mail,) = smtp_server.wait_for(1)
    assert mail.message.get_content_type() == "text/plain"


def test_a_retry_carries_the_same_message_id(smtp_server) -> None:
    profile = smtp_server.profile()
    first = send_email(profile, SPEC, "run-9:node-b", SecretStore())
    second = send_email(profile, SPEC, "run-9:node-b", SecretStore())
    other = send_email(profile, SPEC, "run-9:node-c", SecretStore())
    ids = [m.message["Message-ID"] for m in smtp_server.wait_for(3)]
    assert ids[0] == ids[1] == first.message_id == second.message_id
    assert ids[2] == other.message_id != first.message_id


def test_a_line_break_in_the_subject_cannot_add_headers(smtp_server) -> None:
    spec = dataclasses.replace(SPEC, subject="Hello\r\nBcc: victim@example.com")
    send_email(smtp_server.profile(), spec, "k", SecretStore())
    (mail,) = smtp_server.wait_for(1)
    assert mail.message["Bcc"] is None
    assert "victim@example.com" not in mail.recipients


def test_addresses_are_split_on_commas_and_semicolons() -> None:
    assert parse_addresses("a@example.com; Bob <b@example.org>, ,c@x.io") == (
        "a@example.com",
        "Bob <b@example.org>",
        "c@x.io",
    )


def test_an_invalid_recipient_stops_the_send_before_connecting(smtp_server) -> None:
    spec = dataclasses.replace(SPEC, cc=("desk@",))
    with pytest.raises(ActionError, match="'desk@' is not an email address"):
        send_email(smtp_server.profile(), spec, "k", SecretStore())
    assert smtp_server.messages == []


def test_an_invalid_address_is_named_and_not_retried() -> None:
    with pytest.raises(ActionError) as caught:
        parse_addresses("a@example.com, not-an-address")
    assert "'not-an-address' is not an email address" in str(caught.value)
    assert not caught.value.retryable and caught.value.error_class == "config"


def test_starttls_and_login_deliver_with_the_right_password(smtp_server_auth) -> None:
    profile = smtp_server_auth.profile()
    assert profile.password_secret == "smtp/default"
    send_email(profile, SPEC, "run-2:node-a", SecretStore())
    assert smtp_server_auth.wait_for(1)[0].message["Subject"] == "Order 7 delivered"
    assert "logged in as 'ops'" in check_smtp(profile, SecretStore())


def test_implicit_tls_delivers(smtp_server_ssl) -> None:
    send_email(smtp_server_ssl.profile(), SPEC, "run-4:node-a", SecretStore())
    assert smtp_server_ssl.wait_for(1)[0].message["X-StatusFlow-Key"] == "run-4:node-a"


def test_a_wrong_password_is_not_retried(smtp_server_auth) -> None:
    SecretStore().set("smtp/default", "wrong")
    with pytest.raises(ActionError) as caught:
        send_email(smtp_server_auth.profile(), SPEC, "k", SecretStore())
    error = caught.value
    assert (error.error_class, error.retryable) == ("smtp_auth", False)
    assert f"{smtp_server_auth.port} refused the login for 'ops'" in str(error)
    assert "password stored as 'smtp/default'" in str(error)
    assert smtp_server_auth.messages == []


def test_an_untrusted_certificate_is_refused_without_retry(smtp_server_auth) -> None:
    profile = smtp_server_auth.profile(ca_file=None)
    with pytest.raises(ActionError) as caught:
        check_smtp(profile, SecretStore())
    assert (caught.value.error_class, caught.value.retryable) == ("smtp_connect", False)
    assert "certificate StatusFlow does not trust" in str(caught.value)


def test_a_missing_password_names_the_command_to_store_it(smtp_server_auth) -> None:
    SecretStore().delete("smtp/default")
    with pytest.raises(ActionError) as caught:
        send_email(smtp_server_auth.profile(), SPEC, "k", SecretStore())
    assert (caught.value.error_class, caught.value.retryable) == ("secret_missing", False)
    assert "statusflow secret set smtp/default" in str(caught.value)


def test_a_server_that_is_down_is_retryable(smtp_server) -> None:
    profile = smtp_server.profile(port=free_port())
    with pytest.raises(ActionError) as caught:
        send_email(profile, SPEC, "k", SecretStore())
    error = caught.value
    assert (error.error_class, error.retryable) == ("smtp_connect", True)
    assert str(error).startswith(f"The email server 127.0.0.1:{profile.port} cannot be reached")
    assert "try again later" in str(error)


def test_ssl_against_a_plain_server_explains_the_security_setting(smtp_server) -> None:
    with pytest.raises(ActionError) as caught:
        check_smtp(smtp_server.profile(security="ssl", timeout=3.0), SecretStore())
    assert (caught.value.error_class, caught.value.retryable) == ("smtp_connect", False)
    assert "port 465 usually needs SSL, port 587 STARTTLS" in str(caught.value), caught.value


def test_check_smtp_sends_nothing(smtp_server) -> None:
    sentence = check_smtp(smtp_server.profile(), SecretStore())
    assert sentence.startswith(f"Connected to the email server 127.0.0.1:{smtp_server.port}")
    assert smtp_server.messages == []
