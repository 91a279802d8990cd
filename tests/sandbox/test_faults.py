"""Injected faults, each observed from a raw http.client, and whether the request applied."""

from __future__ import annotations

import http.client
import json
import time
from urllib.parse import urlsplit

import pytest

from pipeline.sandbox import Sandbox
from tests.sandbox.conftest import SoapClient


def market_body(client: SoapClient, market: str) -> str:
    return client.envelope(
        "markets_Update", f"<markets><market><id>{market}</id></market></markets>"
    )


def has_market(sb: Sandbox, market: str) -> bool:
    return bool(sb.store.query("SELECT 1 FROM objects WHERE type='market' AND id=?", (market,)))


@pytest.mark.parametrize("status", [500, 503])
def test_http_status_faults_for_the_next_n_calls(
    sb: Sandbox, client: SoapClient, status: int
) -> None:
    sb.set_faults(**{f"http_{status}": 2})
    for n in range(2):
        reply = client.post(market_body(client, f"M{n}"))
        assert reply.status == status
        assert b"Envelope" not in reply.raw
    if status == 503:
        assert reply.headers.get("Retry-After") == "1"
    assert not has_market(sb, "M0") and not has_market(sb, "M1")
    assert client.post(market_body(client, "M2")).success
    assert sb.faults.snapshot()[f"http_{status}"] == 0


def test_soap_server_fault(sb: Sandbox, client: SoapClient) -> None:
    sb.set_faults(soap_fault=1)
    reply = client.post(market_body(client, "M1"))
    assert reply.status == 500 and reply.fault is not None
    assert reply.fault[0] == "SOAP-ENV:Server"
    assert not has_market(sb, "M1")
    assert client.post(market_body(client, "M1")).success


def test_drop_before_reading_the_body_applies_nothing(sb: Sandbox, client: SoapClient) -> None:
    sb.set_faults(drop_before=1)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        client.post(market_body(client, "M1"))
    assert not has_market(sb, "M1")
    fresh = SoapClient(sb.url)
    assert fresh.post(market_body(fresh, "M2")).success
    fresh.close()


def test_drop_after_applying_the_request(sb: Sandbox, client: SoapClient) -> None:
    sb.set_faults(drop_after=1)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        client.post(market_body(client, "M1"))
    assert has_market(sb, "M1")  # applied, but the client never heard


def test_latency(sb: Sandbox, client: SoapClient) -> None:
    sb.set_faults(latency_ms=150)
    started = time.perf_counter()
    assert client.post(market_body(client, "M1")).success
    assert time.perf_counter() - started >= 0.15
    sb.clear_faults()
    assert sb.faults.snapshot()["latency_ms"] == 0


def test_seeded_rate_is_repeatable(sb: Sandbox, client: SoapClient) -> None:
    def pattern() -> list[int]:
        sb.set_faults(rates={"http_503": 0.5}, seed=7)
        return [client.call("events_Get", "<type>all</type>").status for _ in range(30)]

    first, second = pattern(), pattern()
    assert first == second
    assert {200, 503} == set(first)


def test_faults_over_the_admin_api(sb: Sandbox, client: SoapClient) -> None:
    base = urlsplit(sb.url)
    conn = http.client.HTTPConnection(base.hostname, base.port)
    as_json = {"Content-Type": "application/json"}
    conn.request("POST", "/sandbox/faults", json.dumps({"http_503": 1, "latency_ms": 5}), as_json)
    answer = json.loads(conn.getresponse().read())
    assert answer["http_503"] == 1 and answer["latency_ms"] == 5
    assert client.call("events_Get", "<type>all</type>").status == 503
    conn.request("POST", "/sandbox/faults", json.dumps({"http_999": 1}), as_json)
    response = conn.getresponse()
    assert response.status == 400 and "http_999" in response.read().decode()
    conn.request("DELETE", "/sandbox/faults", headers=as_json)
    assert json.loads(conn.getresponse().read())["latency_ms"] == 0
    # The WSDL and the admin calls are never faulted.
    sb.set_faults(http_500=5)
    conn.request("GET", base.path + "?wsdl")
    assert conn.getresponse().read().startswith(b"<?xml")
    assert sb.faults.snapshot()["http_500"] == 5
