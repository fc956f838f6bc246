"""Webhooks and the SMS gateway against a real HTTP server on loopback."""

from __future__ import annotations

import json

import pytest

from engine.actions.errors import ActionError
from engine.actions.http import HttpRequest, send
from engine.actions.sms import check_sms_gateway, send_sms
from engine.actions.webhook import call_webhook
from engine.secrets import SecretStore
from engine.settings import SmsGateway
from tests.servers import free_port


def hook(url: str, body: str | None = '{"order": 7}', timeout: float = 5.0, **kw):
    headers = kw.pop("headers", {"X-Team": "ops"})
    return call_webhook(kw.pop("method", "POST"), url, headers, body, timeout, "run-1:node-w")


def failure(call, *args, **kwargs) -> ActionError:
    with pytest.raises(ActionError) as caught:
        call(*args, **kwargs)
    return caught.value


def test_webhook_sends_body_headers_and_idempotency_key(http_server) -> None:
    http_server.respond(201, {"id": 42})
    result = hook(http_server.url())
    assert (result.status, json.loads(result.body_excerpt)) == (201, {"id": 42})
    assert result.elapsed_ms >= 0
    (request,) = http_server.requests
    assert (request.method, request.path, request.json) == ("POST", "/hook", {"order": 7})
    assert request.headers["Idempotency-Key"] == "run-1:node-w"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Team"] == "ops"


def test_the_same_key_is_sent_on_a_retry(http_server) -> None:
    http_server.respond(500)
    failure(hook, http_server.url())
    hook(http_server.url())
    keys = [r.headers["Idempotency-Key"] for r in http_server.requests]
    assert keys == ["run-1:node-w", "run-1:node-w"]


def test_a_body_less_get_has_no_content_type_and_a_chosen_one_is_kept(http_server) -> None:
    hook(http_server.url(), body=None, method="get")
    hook(http_server.url(), body="a=1", headers={"content-type": "text/plain"})
    get, post = http_server.requests
    assert get.method == "GET" and get.headers["Content-Type"] is None
    assert post.headers.get_all("Content-Type") == ["text/plain"]


def test_a_redirect_is_a_result_and_is_not_followed(http_server) -> None:
    http_server.respond(302, headers={"Location": http_server.url("/elsewhere")})
    assert hook(http_server.url()).status == 302
    assert [r.path for r in http_server.requests] == ["/hook"]


def test_server_error_is_retryable_with_status_and_body(http_server) -> None:
    http_server.respond(503, "maintenance until 10:00")
    error = failure(hook, http_server.url("/hook?api_key=abc123"))
    assert (error.error_class, error.retryable, error.status) == ("http_5xx", True, 503)
    assert error.detail == "HTTP 503: maintenance until 10:00"
    assert f"{http_server.url('/hook')}?…" in str(error)
    assert "HTTP 503" in str(error) and "maintenance until 10:00" in str(error)
    assert "abc123" not in str(error)


def test_too_many_requests_is_retryable_and_says_how_long_to_wait(http_server) -> None:
    http_server.respond(429, "slow down", headers={"Retry-After": "30"})
    error = failure(hook, http_server.url())
    assert (error.error_class, error.retryable) == ("http_429", True)
    assert "wait 30 seconds" in str(error)


def test_not_found_is_not_retried_and_points_at_the_url(http_server) -> None:
    http_server.respond(404, {"error": "no such hook"})
    error = failure(hook, http_server.url())
    assert (error.error_class, error.retryable, error.status) == ("http_4xx", False, 404)
    assert "Check the address (URL)" in str(error) and "no such hook" in str(error)


def test_a_long_body_is_cut_to_an_excerpt(http_server) -> None:
    http_server.respond(400, "x" * 5000)
    error = failure(hook, http_server.url())
    assert error.detail == "HTTP 400: " + "x" * 300


def test_a_slow_server_times_out_as_retryable(http_server) -> None:
    http_server.respond(200, delay=3.0)
    error = failure(hook, http_server.url(), timeout=0.3)
    assert (error.error_class, error.retryable) == ("http_timeout", True)
    assert "did not answer within 0.3 seconds" in str(error)


def test_nobody_listening_is_a_retryable_connection_error() -> None:
    error = failure(hook, f"http://127.0.0.1:{free_port()}/hook")
    assert (error.error_class, error.retryable) == ("http_connect", True)
    assert "cannot be reached: connection refused" in str(error)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "https://"])
def test_only_web_addresses_are_called(url: str) -> None:
    error = failure(hook, url)
    assert (error.error_class, error.retryable) == ("config", False)
    assert "must start with https://" in str(error)


def test_a_header_with_a_line_break_is_refused_before_sending(http_server) -> None:
    error = failure(hook, http_server.url(), headers={"X-Order": "7\r\nX-Admin: yes"})
    assert (error.error_class, error.retryable) == ("config", False)
    assert "Check the URL and the headers" in str(error)
    assert http_server.requests == []


def test_send_adds_a_user_agent(http_server) -> None:
    send(HttpRequest("DELETE", http_server.url("/x/1"), {}, None, 5.0))
    assert http_server.requests[0].headers["User-Agent"] == "StatusFlow"


# -- SMS gateway --------------------------------------------------------------------


@pytest.fixture
def gateway(http_server, memory_keyring) -> SmsGateway:
    SecretStore().set("sms/default", "tok-123")
    return SmsGateway("default", http_server.url("/sms"), sender="ACME")


def test_sms_posts_json_with_bearer_token_and_key(http_server, gateway) -> None:
    result = send_sms(gateway, "+44 7700-900 123", "Your order shipped", "run-3:n", SecretStore())
    assert result.status == 200
    (request,) = http_server.requests
    assert (request.method, request.path) == ("POST", "/sms")
    assert request.json == {
        "to": "+447700900123",
        "message": "Your order shipped",
        "sender": "ACME",
    }
    assert request.headers["Authorization"] == "Bearer tok-123"
    assert request.headers["Idempotency-Key"] == "run-3:n"


def test_sms_without_a_stored_token_names_the_command(http_server, memory_keyring) -> None:
    gateway = SmsGateway("default", http_server.url("/sms"))
    error = failure(send_sms, gateway, "+447700900123", "hi", "k", SecretStore())
    assert (error.error_class, error.retryable) == ("secret_missing", False)
    assert "statusflow secret set sms/default" in str(error)
    assert http_server.requests == []


def test_sms_to_something_that_is_not_a_number_is_refused(http_server, gateway) -> None:
    error = failure(send_sms, gateway, "call Bob", "hi", "k", SecretStore())
    assert "'call Bob' is not a phone number" in str(error) and not error.retryable
    assert http_server.requests == []


def test_a_refused_token_is_not_retried(http_server, gateway) -> None:
    http_server.respond(401, {"error": "bad token"})
    error = failure(send_sms, gateway, "+447700900123", "hi", "k", SecretStore())
    assert (error.error_class, error.retryable) == ("http_4xx", False)
    assert "Check the token" in str(error)


def test_gateway_check_sends_no_message(http_server, gateway) -> None:
    assert "reachable and accepted the token (HTTP 200)" in check_sms_gateway(
        gateway, SecretStore()
    )
    http_server.respond(405)
    assert "is reachable" in check_sms_gateway(gateway, SecretStore())
    assert [r.method for r in http_server.requests] == ["HEAD", "HEAD"]
    assert http_server.requests[0].headers["Authorization"] == "Bearer tok-123"


def test_gateway_check_reports_a_gateway_that_is_down(memory_keyring) -> None:
    SecretStore().set("sms/default", "tok")
    gateway = SmsGateway("default", f"http://127.0.0.1:{free_port()}/sms")
    error = failure(check_sms_gateway, gateway, SecretStore())
    assert error.error_class == "http_connect"
