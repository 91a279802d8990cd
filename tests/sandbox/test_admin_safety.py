"""The sandbox's HTTP API against browsers on other origins, and its export against leaks.

A page on another origin may POST with a "simple" content type (text/plain, a form) without a
CORS preflight, and a DNS-rebound name may reach 127.0.0.1 with a foreign Host header: both
are refused and change nothing. Exports never show a buyer's or customer's password.
All over real HTTP to a sandbox on 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest
from click.testing import CliRunner

from pipeline.sandbox import Sandbox
from tests.sandbox.conftest import SoapClient, sandbox_cli

BUYER_PASSWORD = "Buyer-Pa55word!"
CUSTOMER_PASSWORD = "Customer-Pa55word!"

#: Content types a cross-origin page can send without a preflight (None: no header at all).
SIMPLE_TYPES = [
    "text/plain",
    "text/plain; charset=utf-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    None,
]

FOREIGN_HOSTS = [
    "evil.example",
    "evil.example:{port}",
    "127.0.0.1.evil.example:{port}",
    "localhost.evil.example",
    "10.0.0.1:{port}",
]


def request(
    sb: Sandbox,
    method: str,
    path: str,
    body: Any = None,
    content_type: str | None = "application/json",
    host: str | None = None,
) -> tuple[int, str, bytes]:
    """One request on a fresh connection: (status, content type, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=10)
    headers = {}
    if content_type is not None:
        headers["Content-Type"] = content_type
    if host is not None:
        headers["Host"] = host.format(port=sb.port)
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body))
    try:
        conn.request(method, path, data, headers)
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    finally:
        conn.close()


def state(sb: Sandbox) -> dict[str, Any]:
    return {
        "settings": sb.settings_dict(),
        "faults": sb.faults.snapshot(),
        "events": len(sb.events()),
        "orders": len(sb.store.orders()),
        "markets": [i for i, _ in sb.store.docs("market")],
    }


#: (method, path, body) of admin calls that change the sandbox.
CHANGES = [
    ("POST", "/sandbox/settings", {"login_failure_mode": "result", "retail_auto_shipment": False}),
    ("POST", "/sandbox/faults", {"http_503": 3, "latency_ms": 7}),
    ("POST", "/sandbox/events", {"count": 2, "type": "market"}),
]


@pytest.mark.parametrize("content_type", SIMPLE_TYPES)
@pytest.mark.parametrize(("method", "path", "body"), CHANGES, ids=["settings", "faults", "events"])
def test_a_change_without_json_content_type_is_refused(
    sb: Sandbox, method: str, path: str, body: Any, content_type: str | None
) -> None:
    before = state(sb)
    status, ctype, answer = request(sb, method, path, body, content_type)
    assert status == 415, answer
    assert ctype.startswith("application/json")
    assert "application/json" in " ".join(json.loads(answer)["errors"])
    assert state(sb) == before
    # The same call as JSON is applied.
    status, _, answer = request(sb, method, path, body, "application/json; charset=utf-8")
    assert status in (200, 201), answer
    assert state(sb) != before


def test_delete_without_json_content_type_is_refused(sb: Sandbox) -> None:
    sb.set_faults(http_500=2)
    status, _, answer = request(sb, "DELETE", "/sandbox/faults", content_type=None)
    assert status == 415, answer
    assert sb.faults.snapshot()["http_500"] == 2
    status, _, answer = request(sb, "DELETE", "/sandbox/faults")
    assert status == 200, answer
    assert sb.faults.snapshot()["http_500"] == 0


def test_a_refused_post_leaves_the_connection_usable(sb: Sandbox) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=10)
    try:
        conn.request("POST", "/sandbox/faults", '{"http_500": 1}', {"Content-Type": "text/plain"})
        response = conn.getresponse()
        assert response.status == 415
        response.read()
        conn.request("GET", "/sandbox/faults")
        response = conn.getresponse()
        assert response.status == 200 and json.loads(response.read())["http_500"] == 0
    finally:
        conn.close()


@pytest.mark.parametrize("host", FOREIGN_HOSTS)
def test_a_foreign_host_is_refused_everywhere(sb: Sandbox, client: SoapClient, host: str) -> None:
    before = state(sb)
    market = "<markets><market><id>REBOUND</id><name>Rebound</name></market></markets>"
    soap = client.envelope("markets_Update", market)
    soap_path = sb.url.removeprefix(sb.base_url)
    calls = [
        ("POST", "/sandbox/settings", {"login_failure_mode": "result"}, "application/json"),
        ("POST", "/sandbox/events", {"count": 1}, "application/json"),
        ("GET", "/sandbox/settings", None, None),
        ("GET", "/sandbox/export/markets", None, None),
        ("GET", "/sandbox/requests", None, None),
        ("GET", "/", None, None),
        ("GET", soap_path + "?wsdl", None, None),
        ("POST", soap_path, soap.encode(), "text/xml; charset=utf-8"),
    ]
    for method, path, body, ctype in calls:
        status, _, answer = request(sb, method, path, body, ctype, host=host)
        assert status == 403, (method, path, answer)
        assert b"Host" in answer, answer
    assert state(sb) == before
    assert sb.requests() == []


@pytest.mark.parametrize(
    "host", ["127.0.0.1:{port}", "127.0.0.1", "localhost:{port}", "LocalHost", "127.0.0.2:{port}",
             "[::1]:{port}", "[::1]"],
)  # fmt: skip
def test_loopback_hosts_are_accepted(sb: Sandbox, client: SoapClient, host: str) -> None:
    status, _, answer = request(sb, "POST", "/sandbox/events", {"count": 1}, host="evil.example")
    assert status == 403, answer
    status, _, answer = request(sb, "POST", "/sandbox/events", {"count": 1}, host=host)
    assert status == 201, answer
    assert len(sb.events()) == 1
    soap = client.envelope("events_Get", "<type>all</type>").encode()
    status, _, answer = request(
        sb, "POST", sb.url.removeprefix(sb.base_url), soap, "text/xml; charset=utf-8", host=host
    )
    assert status == 200 and b"<ns1:success>false" not in answer, answer


def test_the_host_it_was_bound_to_is_accepted() -> None:
    with Sandbox(db=":memory:", host="localhost") as sb:
        status, _, answer = request(sb, "GET", "/sandbox/settings", host="localhost:{port}")
        assert status == 200, answer
        status, _, answer = request(sb, "GET", "/sandbox/settings", host="evil.example")
        assert status == 403, answer


def test_export_masks_buyer_and_customer_passwords(sb: Sandbox, catalog: SoapClient) -> None:
    buyer = (
        "<accounts><account><id>12345</id><buyers><buyer><id>12345_buyer1</id>"
        f"<password>{BUYER_PASSWORD}</password></buyer></buyers></account></accounts>"
    )
    assert catalog.call("accounts_Update", buyer).success
    customer = (
        "<customers><customer><id>C1</id><email>someone@example.com</email>"
        f"<password>{CUSTOMER_PASSWORD}</password></customer></customers>"
    )
    assert catalog.call("customers_Update", customer).success
    runner = CliRunner()
    for entity, secret in (("accounts", BUYER_PASSWORD), ("customers", CUSTOMER_PASSWORD)):
        status, ctype, body = request(sb, "GET", f"/sandbox/export/{entity}")
        assert status == 200 and ctype.startswith("text/xml")
        cli = runner.invoke(sandbox_cli(), ["export", entity, "--url", sb.base_url])
        assert cli.exit_code == 0, cli.output
        for text in (body.decode(), cli.output, sb.export(entity)):
            assert secret not in text
            # the login's password and the object's own, both masked
            assert text.count("<password>***</password>") == 2, text
    # The export still shows the rest of the buyer.
    assert "<id>12345_buyer1</id>" in sb.export("accounts")
    assert "<email>someone@example.com</email>" in sb.export("customers")
