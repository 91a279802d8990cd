"""The client against a real HTTP server on 127.0.0.1: timeouts, resets, retries, keep-alive."""

from __future__ import annotations

import pytest

from pipeline.centra.client import CentraClient, RetryPolicy
from pipeline.centra.transport import HTTPTransport, Timeouts
from pipeline.errors import CentraUnreachable, LoginRefused, SoapFault
from tests.scripted_server import OK_EVENTS, fault, scripted_server

PASSWORD = "s3cret-Pa55word"


def _client(url: str, *, read: float = 2.0, attempts: int = 3) -> CentraClient:
    return CentraClient(
        url,
        "example",
        PASSWORD,
        transport=HTTPTransport(Timeouts(connect=2.0, read=read)),
        retry=RetryPolicy(attempts=attempts, backoff=0.01, max_backoff=0.05),
    )


def test_headers_body_and_keep_alive() -> None:
    with scripted_server([("respond", 200, OK_EVENTS)]) as server:
        client = _client(server.url)
        for _ in range(5):
            assert client.events_get("all") == []
        assert server.connections == 1, "one kept-alive connection for all calls"
        headers, body = server.requests[0]
        assert headers["content-type"] == "text/xml; charset=utf-8"
        assert headers["soapaction"] == '"http://www.centra.com/webservices/Events_Get"'
        assert b'<events_GetRequest xmlns="http://www.centra.com/webservices/">' in body
        assert body.index(b"<login>") < body.index(b"<type>all</type>")


def test_503_then_200_is_retried_and_attempts_are_counted() -> None:
    with scripted_server([("respond", 503, "busy"), ("respond", 200, OK_EVENTS)]) as server:
        client = _client(server.url)
        assert client.events_get() == []
        assert client.last_attempts == 2
        assert len(server.requests) == 2


def test_read_timeout_is_outcome_unknown_and_retried_until_given_up() -> None:
    with scripted_server([("sleep", 1.0, 200, OK_EVENTS)]) as server:
        client = _client(server.url, read=0.2, attempts=2)
        with pytest.raises(CentraUnreachable, match="may have been applied") as caught:
            client.update("markets_Update", [{"id": "M"}])
        assert client.last_attempts == 2
        assert "gave up after 2 attempts" in str(caught.value)


def test_connection_reset_is_retried() -> None:
    with scripted_server([("reset",), ("respond", 200, OK_EVENTS)]) as server:
        client = _client(server.url)
        assert client.events_get() == []
        assert client.last_attempts == 2


def test_truncated_body_is_not_recovered() -> None:
    with scripted_server([("truncate", 200, OK_EVENTS)]) as server:
        client = _client(server.url, attempts=2)
        with pytest.raises(CentraUnreachable, match="cut short"):
            client.events_get()
        assert len(server.requests) == 2


def test_refused_connection_gives_up_with_a_clear_message() -> None:
    with scripted_server([("respond", 200, OK_EVENTS)]) as server:
        url = server.url
    client = _client(url, attempts=2)
    with pytest.raises(CentraUnreachable, match="Connection refused") as caught:
        client.events_get()
    assert caught.value.exit_code == 3


def test_refused_login_is_not_retried() -> None:
    script = [("respond", 500, fault("Client", "Login failed: wrong username or password"))]
    with scripted_server(script) as server:
        client = _client(server.url, attempts=5)
        with pytest.raises(LoginRefused) as caught:
            client.events_get()
        assert len(server.requests) == 1
        assert caught.value.exit_code == 3


def test_server_fault_is_retried_client_fault_is_not() -> None:
    script = [("respond", 500, fault("Server", "database busy")), ("respond", 200, OK_EVENTS)]
    with scripted_server(script) as server:
        client = _client(server.url)
        assert client.events_get() == []
        assert client.last_attempts == 2
    with scripted_server([("respond", 500, fault("Client", "Unknown operation"))]) as server:
        client = _client(server.url)
        with pytest.raises(SoapFault, match="Unknown operation"):
            client.events_get()
        assert len(server.requests) == 1
