"""Hostile or broken answers each give a clear error: never a hang, never a local file read."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from pipeline.centra import responses
from pipeline.centra.client import CentraClient, RetryPolicy
from pipeline.centra.transport import HandlerTransport, HTTPResponse
from pipeline.errors import CentraError, HTTPStatusError, ResponseError, SoapFault
from tests.scripted_server import fault

ENVELOPE = (
    '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:ns1="http://www.centra.com/webservices/"><SOAP-ENV:Body>{}</SOAP-ENV:Body>'
    "</SOAP-ENV:Envelope>"
)
RESULT = (
    "<ns1:result><ns1:success>true</ns1:success><ns1:errors/>"
    "<ns1:notices>&x;</ns1:notices></ns1:result>"
)

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    + "]>"
    + ENVELOPE.format(RESULT.replace("&x;", "&lol9;"))
)


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "local-secret.txt"
    path.write_text("TOP-SECRET-LOCAL-FILE-CONTENT")
    return path


@pytest.fixture
def url_server() -> Iterator[dict[str, Any]]:
    """An HTTP server that counts hits: an external entity must never reach it."""
    state: dict[str, Any] = {"hits": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state["hits"] += 1
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"FETCHED-OVER-NETWORK")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}/entity.txt"
    yield state
    server.shutdown()
    server.server_close()


def _call(status: int, body: bytes | str) -> Exception:
    data = body.encode() if isinstance(body, str) else body
    transport = HandlerTransport(lambda url, b, h: HTTPResponse(status, data))
    client = CentraClient(
        "http://127.0.0.1:9/api",
        "example",
        "pw-123456",
        transport=transport,
        retry=RetryPolicy(attempts=2, backoff=0, max_backoff=0),
        sleep=lambda s: None,
    )
    outcome: list[Exception] = []

    def run() -> None:
        try:
            client.update("markets_Update", [{"id": "M"}])
        except Exception as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "the client hung on a hostile response"
    assert outcome, "a hostile response must raise"
    return outcome[0]


def test_billion_laughs_is_refused() -> None:
    exc = _call(200, BILLION_LAUGHS)
    assert isinstance(exc, ResponseError)
    assert "DOCTYPE" in str(exc)
    assert "lollol" not in str(exc)


def test_external_entity_to_a_local_file_is_refused(secret_file: Path) -> None:
    body = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret_file}">]>'
        + ENVELOPE.format(RESULT)
    )
    exc = _call(200, body)
    assert isinstance(exc, ResponseError)
    assert "TOP-SECRET" not in str(exc)


def test_external_entity_to_a_url_is_refused(url_server: dict[str, Any]) -> None:
    body = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "{url_server["url"]}">]>'
        + ENVELOPE.format(RESULT)
    )
    exc = _call(200, body)
    assert isinstance(exc, ResponseError)
    assert url_server["hits"] == 0


def test_the_parser_itself_resolves_nothing(secret_file: Path, url_server: dict[str, Any]) -> None:
    """Second lock: even past the DOCTYPE check, the parser expands and fetches nothing."""
    for target in (f"file://{secret_file}", url_server["url"]):
        doc = f'<!DOCTYPE r [<!ENTITY x SYSTEM "{target}">]><r>&x;</r>'.encode()
        root = etree.fromstring(doc, parser=responses._parser())
        assert b"TOP-SECRET" not in etree.tostring(root)
        assert b"FETCHED" not in etree.tostring(root)
    assert url_server["hits"] == 0


def test_plain_doctype_is_refused() -> None:
    exc = _call(
        200, '<?xml version="1.0"?><!DOCTYPE Envelope>' + ENVELOPE.format(RESULT.replace("&x;", ""))
    )
    assert isinstance(exc, ResponseError) and "DOCTYPE" in str(exc)


def test_malformed_xml() -> None:
    exc = _call(200, "<SOAP-ENV:Envelope><oops></SOAP-ENV:Envelope>")
    assert isinstance(exc, ResponseError) and "not well-formed" in str(exc)


def test_body_cut_in_half() -> None:
    whole = ENVELOPE.format(RESULT.replace("&x;", ""))
    exc = _call(200, whole[: len(whole) // 2])
    assert isinstance(exc, ResponseError) and "truncated or malformed" in str(exc)


def test_http_500_with_a_fault() -> None:
    exc = _call(500, fault("Client", "Unknown operation foo_Update"))
    assert isinstance(exc, SoapFault)
    assert exc.faultcode == "SOAP-ENV:Client" and "Unknown operation" in exc.faultstring


def test_http_200_with_a_fault_is_a_failure() -> None:
    exc = _call(200, fault("Client", "Bad request"))
    assert isinstance(exc, SoapFault) and not exc.retriable


def test_html_error_page() -> None:
    exc = _call(200, "<html><body><h1>502 Bad Gateway</h1></body></html>")
    assert isinstance(exc, ResponseError) and "HTML page" in str(exc)
    exc = _call(404, "<html><body>Not Found</body></html>")
    assert isinstance(exc, HTTPStatusError) and exc.status == 404 and "HTML" in str(exc)


def test_empty_body() -> None:
    exc = _call(200, b"")
    assert isinstance(exc, ResponseError) and "empty" in str(exc)


def test_oversize_response_is_refused(tmp_path: Path) -> None:
    from pipeline.centra.transport import HTTPTransport
    from tests.scripted_server import scripted_server

    big = ENVELOPE.format(
        "<ns1:result><ns1:success>true</ns1:success>" + "<ns1:x/>" * 5000 + "</ns1:result>"
    )
    with scripted_server([("respond", 200, big)]) as server:
        client = CentraClient(
            server.url, "example", "pw-123456", transport=HTTPTransport(max_response_bytes=1000)
        )
        with pytest.raises(CentraError, match="more than the 1,000 allowed"):
            client.events_done(["1"])
