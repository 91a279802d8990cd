"""The event queue: the guide's 234-event example, type and market filters, events_Done."""

from __future__ import annotations

from pipeline.sandbox import Sandbox
from tests.sandbox.conftest import SoapClient


def test_guide_queue_example_234_events(sb: Sandbox, client: SoapClient) -> None:
    ids = sb.enqueue_events(234)
    assert len(ids) == 234 and ids == sorted(ids)

    first = client.call("events_Get", "<type>all</type>")
    assert first.status == 200
    assert first.event_ids == ids[:100]  # the oldest 100

    done = [ids[3], ids[10], ids[11], ids[20], ids[42], ids[50], ids[77], ids[90], ids[98], ids[99]]
    reply = client.call("events_Done", "".join(f"<event>{i}</event>" for i in done))
    assert reply.success
    assert len(sb.events()) == 224

    second = client.call("events_Get", "<type>all</type>")
    same = [i for i in ids[:100] if i not in done]
    assert second.event_ids == same + ids[100:110]  # 90 of the same, 10 new
    assert len(set(second.event_ids) & set(first.event_ids)) == 90


def test_events_get_filters_by_type_and_empty_queue_shape(sb: Sandbox, client: SoapClient) -> None:
    empty = client.call("events_Get", "<type>order</type>")
    assert b"<ns1:events_Get><ns1:events/></ns1:events_Get>" in empty.raw
    markets = sb.enqueue_events(3, "market")
    warehouses = sb.enqueue_events(2, "warehouse")
    assert client.call("events_Get", "<type>warehouse</type>").event_ids == warehouses
    assert client.call("events_Get", "<type>all</type>").event_ids == markets + warehouses
    event = client.call("events_Get", "<type>market</type>").events[0]
    assert [c.tag.split("}")[1] for c in event] == [
        "id",
        "type",
        "entry",
        "mission",
        "date",
        "data",
    ]
    bad = client.call("events_Get", "<type>product</type>")
    assert bad.status == 500 and bad.fault is not None
    assert bad.fault[0] == "SOAP-ENV:Client" and "product" in bad.fault[1]


def test_events_done_ignores_unknown_ids_and_answers_result(
    sb: Sandbox, client: SoapClient
) -> None:
    ids = sb.enqueue_events(2)
    reply = client.call(
        "events_Done", f"<event>{ids[0]}</event><event>999999</event><event>x</event>"
    )
    assert reply.status == 200 and reply.success and reply.errors == []
    assert [e["id"] for e in sb.events()] == [ids[1]]
    again = client.call("events_Done", f"<event>{ids[0]}</event>")
    assert again.success


def test_events_get_by_markets_filters_by_market(sb: Sandbox, catalog: SoapClient) -> None:
    retail = sb.place_order("Retail-Global", [("PWC", "PWC", "OS", 1)], "EUR-Retail")
    wholesale = sb.place_order("Wholesale-Market", [("T001", "T001_RED", "S", 1)], "USD-Wholesale")
    reply = catalog.call(
        "events_GetByMarkets",
        "<type>order</type><markets><market><id>Wholesale-Market</id></market></markets>",
    )
    assert b"<ns1:events_Get>" in reply.raw  # the same response element as events_Get
    assert [e.findtext("{*}entry") for e in reply.events] == [wholesale]
    both = catalog.call(
        "events_GetByMarkets",
        "<type>all</type><markets><market><id>Wholesale-Market</id></market>"
        "<market><id>Retail-Global</id></market></markets>",
    )
    assert sorted(e.findtext("{*}entry") for e in both.events) == sorted([retail, wholesale])
