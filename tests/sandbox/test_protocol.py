"""Transport and SOAP: login, refused XML, routing, both envelope forms, the log, the page."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest

from pipeline.sandbox import Sandbox
from tests.sandbox.conftest import SoapClient, guide_requests

MARKET = "<markets><market><id>M1</id><store>1</store><type>retail</type></market></markets>"


def markets(sb: Sandbox) -> list[str]:
    return [r[0] for r in sb.store.query("SELECT id FROM objects WHERE type='market'")]


def test_wrong_password_is_a_client_fault_and_changes_nothing(
    sb: Sandbox, client: SoapClient
) -> None:
    reply = client.call("markets_Update", MARKET, password="wrong")
    assert reply.status == 500
    assert reply.fault == ("SOAP-ENV:Client", "Login failed: wrong username or password")
    assert markets(sb) == []
    no_login = client.post(
        client.envelope("events_Get", "<type>all</type>").replace(
            "<ns1:login><ns1:username>example</ns1:username><ns1:password>???</ns1:password></ns1:login>",
            "",
        )
    )
    assert no_login.fault is not None and no_login.fault[1].startswith("Login failed")


def test_login_failure_result_mode(sb: Sandbox, client: SoapClient) -> None:
    sb.configure(login_failure_mode="result")
    reply = client.call("markets_Update", MARKET, password="wrong")
    assert reply.status == 200 and reply.fault is None
    assert not reply.success
    assert reply.errors == ["Login failed: wrong username or password"]
    assert markets(sb) == []


@pytest.mark.parametrize(
    "prolog",
    [
        '<!DOCTYPE x [<!ENTITY e "boom">]>',
        '<!DOCTYPE x SYSTEM "http://example.com/x.dtd">',
        '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>',
    ],
    ids=["entity", "external-dtd", "billion-laughs"],
)
def test_doctype_and_entities_are_refused(sb: Sandbox, client: SoapClient, prolog: str) -> None:
    body = client.envelope("markets_Update", MARKET.replace("<id>M1</id>", "<id>&e;</id>"))
    body = body.replace('<?xml version="1.0"?>\n', f'<?xml version="1.0"?>\n{prolog}')
    reply = client.post(body)
    assert reply.status == 500 and reply.fault is not None
    assert reply.fault[0] == "SOAP-ENV:Client" and "DOCTYPE" in reply.fault[1]
    assert markets(sb) == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<not xml", "Malformed XML"),
        (b"", "Malformed XML"),
        (b"<a>no envelope</a>", "Not a SOAP 1.1 envelope"),
    ],
)
def test_malformed_requests_are_client_faults(
    client: SoapClient, body: bytes, expected: str
) -> None:
    reply = client.post(body, action=None)
    assert reply.status == 500 and reply.fault is not None
    assert reply.fault[0] == "SOAP-ENV:Client" and reply.fault[1].startswith(expected)


def test_unknown_operation_and_mismatched_soapaction(sb: Sandbox, client: SoapClient) -> None:
    reply = client.call("products_Get")
    assert reply.fault == ("SOAP-ENV:Client", "Unknown operation 'products_Get'")
    wrong = client.post(
        client.envelope("markets_Update", MARKET),
        action='"http://www.centra.com/webservices/Products_Update"',
    )
    assert wrong.fault is not None and "does not match" in wrong.fault[1]
    assert markets(sb) == []
    # No SOAPAction at all: routed by the body's element.
    assert client.post(client.envelope("markets_Update", MARKET), action=None).success
    assert markets(sb) == ["M1"]


def test_both_envelope_forms_and_unqualified_children(sb: Sandbox, client: SoapClient) -> None:
    reference_form = client.envelope("markets_Update", MARKET)  # SOAP-ENV: + ns1: everywhere
    assert client.post(reference_form).success
    guide_form = (
        '<?xml version="1.0" encoding="UTF-8"?><soap:Envelope '
        'xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        '<markets_Update xmlns="http://www.centra.com/webservices/"><login><username>example'
        "</username><password>???</password></login><markets><market><id>M2</id>"
        "<futurefield><nested>Centra adds fields over time</nested></futurefield>"
        "</market></markets></markets_Update></soap:Body></soap:Envelope>"
    )
    assert client.post(guide_form).success
    no_namespace = guide_form.replace(' xmlns="http://www.centra.com/webservices/"', "").replace(
        "M2", "M3"
    )
    assert client.post(no_namespace).success
    assert markets(sb) == ["M1", "M2", "M3"]
    foreign = guide_form.replace("http://www.centra.com/webservices/", "urn:other")
    assert client.post(foreign, action=None).fault is not None


def test_request_log_masks_passwords(sb: Sandbox, client: SoapClient) -> None:
    client.call("markets_Update", MARKET)
    client.call("markets_Update", MARKET, password="s3cr3t-typo")
    log = sb.requests()
    assert [r["operation"] for r in log] == ["markets_Update", "markets_Update"]
    assert [r["status"] for r in log] == [200, 500]
    for entry in log:
        assert "<ns1:password>***</ns1:password>" in entry["request"]
        assert "???" not in entry["request"] and "s3cr3t" not in entry["request"]
    base = urlsplit(sb.url)
    conn = http.client.HTTPConnection(base.hostname, base.port)
    conn.request("GET", "/sandbox/requests")
    text = conn.getresponse().read().decode()
    assert "s3cr3t" not in text and "***" in text


def test_page_shows_state_escaped(sb: Sandbox, client: SoapClient) -> None:
    client.call("markets_Update", "<markets><market><id>&lt;script&gt;x</id></market></markets>")
    sb.enqueue_events(1)
    base = urlsplit(sb.url)
    conn = http.client.HTTPConnection(base.hostname, base.port)
    conn.request("GET", "/")
    response = conn.getresponse()
    page = response.read().decode()
    assert response.status == 200 and response.getheader("Content-Type").startswith("text/html")
    assert "<script>x" not in page and "&lt;script&gt;x" in page
    for title in ("Request log", "Event queue", "ID conversion table", "Stock", "Orders"):
        assert title in page
    assert "???" not in page


def test_keep_alive_serves_many_requests_on_one_connection(sb: Sandbox, client: SoapClient) -> None:
    for _ in range(20):
        assert client.call("events_Get", "<type>all</type>").status == 200
    assert client.conn.sock is not None  # still the same open connection
    assert len(sb.requests()) == 20


def test_every_guide_request_also_parses_in_reference_form_shape(client: SoapClient) -> None:
    # The guide's form with the SOAPAction header exactly as the reference prints it.
    example = guide_requests()[0]
    reply = client.post(example.xml, action='"http://www.centra.com/webservices/Events_Get"')
    assert reply.status == 200 and reply.events == []
