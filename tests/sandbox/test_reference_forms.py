"""Requests in the reference's form (issue #17): the sandbox applies what the reference
documents, or refuses it with success=false and a message; it never answers success and drops.

Each test sends the XML over real HTTP (``SOAP-ENV:`` + ``ns1:`` as in the reference) and checks
the state the sandbox ends up in (its export, its order events) or the refusal.
"""

from __future__ import annotations

from pipeline.sandbox import Sandbox
from tests.sandbox.conftest import SoapClient

# ------------------------------------------------------------------ events of type stock


def test_events_get_accepts_type_stock_and_returns_the_queues_stock_events(
    sb: Sandbox, client: SoapClient
) -> None:
    markets = sb.enqueue_events(2, "market")
    stocks = sb.enqueue_events(3, "stock")
    reply = client.call("events_Get", "<type>stock</type>")
    assert reply.status == 200 and reply.fault is None, reply.raw
    assert reply.event_ids == stocks
    assert [e.findtext("{*}type") for e in reply.events] == ["stock"] * 3
    assert reply.events[0].find("{*}data/{*}stock") is not None
    by_markets = client.call(
        "events_GetByMarkets", "<type>stock</type><markets><market><id>M</id></market></markets>"
    )
    assert by_markets.status == 200 and by_markets.event_ids == []
    assert client.call("events_Get", "<type>all</type>").event_ids == markets + stocks
