"""Test orders: stock allocation, order and customer events, the order lifecycle through
orders_Update (each change queues a new event), bundles, captures and refunds."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.sandbox import OrderError, Sandbox
from tests.sandbox.conftest import SoapClient, stock, strip_ns


def order_events(client: SoapClient, order_id: str) -> list[Any]:
    reply = client.call("events_Get", "<type>order</type>")
    return [strip_ns(e) for e in reply.events if e.findtext("{*}entry") == order_id]


def update(client: SoapClient, order_id: str, inner: str, type_: str = "retail") -> Any:
    store = "1" if type_ == "retail" else "2"
    return client.call(
        "orders_Update",
        f"<orders><order><id>{order_id}</id><type>{type_}</type>"
        f"<store>{store}</store>{inner}</order></orders>",
    )


def test_retail_order_allocates_stock_and_queues_customer_and_order_events(
    sb: Sandbox, catalog: SoapClient
) -> None:
    assert stock(sb, "PWC", "OS") == {"MainWarehouse": 1, "OtherWarehouse": 2}
    order_id = sb.place_order(
        "Retail-Global",
        [("PWC", "PWC", "OS", 2), ("T001", "T001_RED", "M", 1)],
        "EUR-Retail",
        email="new@example.com",
        address={"firstname": "Nova", "country": "DE"},
    )
    # FTA decreases, most stocked warehouse first.
    assert stock(sb, "PWC", "OS") == {"MainWarehouse": 1, "OtherWarehouse": 0}
    assert stock(sb, "T001_RED", "M") == {"MainWarehouse": 4}

    reply = catalog.call("events_Get", "<type>all</type>")
    kinds = [(e.findtext("{*}type"), e.findtext("{*}entry")) for e in reply.events]
    customer = next(e for e in reply.events if e.findtext("{*}type") == "customer")
    customer_id = customer.findtext("{*}entry")
    assert kinds == [("customer", customer_id), ("order", order_id)]
    assert customer.findtext("{*}data/{*}customer/{*}email") == "new@example.com"
    assert customer.findtext("{*}data/{*}customer/{*}firstname") == "Nova"

    order = strip_ns(reply.events[1]).find("data/order")
    assert order.findtext("ordertotal") == "2123.00"
    assert order.findtext("customer/id") == customer_id
    assert order.findtext("status") == "processing"
    assert [
        w.findtext("id")
        for w in order.findall("products/product/sizes/size/warehouseitems/warehouse")
    ] == ["OtherWarehouse", "MainWarehouse"]
    assert order.findtext("shipments/shipment/shipmenttotal") == "2123.00"

    # The same e-mail again: the same customer, no new customer event.
    second = sb.place_order(
        "Retail-Global", [("PWC", "PWC", "OS", 1)], "EUR-Retail", email="NEW@example.com"
    )
    reply = catalog.call("events_Get", "<type>customer</type>")
    assert len(reply.events) == 1
    assert sb.order(second)["customer"] == customer_id


def test_orders_that_cannot_be_placed(sb: Sandbox, catalog: SoapClient) -> None:
    with pytest.raises(OrderError) as err:
        sb.place_order(
            "Retail-Global", [("PWC", "PWC", "OS", 4), ("T001", "T001_RED", "XL", 1)], "EUR-Retail"
        )
    assert err.value.errors == [
        "line 2: size 'XL' is not in sizetable SML",
        "not enough stock for PWC/OS: 3 free to allocate, 4 ordered",
    ]
    assert stock(sb, "PWC", "OS") == {"MainWarehouse": 1, "OtherWarehouse": 2}
    assert sb.events() == []
    with pytest.raises(OrderError, match="market 'Nowhere' does not exist"):
        sb.place_order("Nowhere", [("PWC", "PWC", "OS", 1)], "EUR-Retail")


def test_wholesale_order_lifecycle_queues_an_event_per_change(
    sb: Sandbox, catalog: SoapClient
) -> None:
    oid = sb.place_order(
        "Wholesale-Market",
        [
            {"product": "T001", "variation": "T001_RED", "size": "L", "qty": 4, "orderitem": 500},
            {"product": "PWC", "variation": "PWC", "size": "OS", "qty": 1, "orderitem": 501},
        ],
    )
    first = order_events(catalog, oid)
    assert len(first) == 1
    order = first[0].find("data/order")
    assert order.findtext("status") == "pending" and order.findtext("account/id") == "12345"
    assert order.find("shipments") is not None and len(order.find("shipments")) == 0
    assert order.findtext("pricelist/id") == "USD-Wholesale"  # the account's pricelist

    assert update(
        catalog, oid, "<status>confirmed</status><locked>yes</locked>", "wholesale"
    ).success
    assert update(
        catalog,
        oid,
        "<cancelled><product><id>T001</id><variation><id>T001_RED</id>"
        "</variation><sizes><size><id>L</id><qty>1</qty><orderitem><id>500</id>"
        "</orderitem></size></sizes></product></cancelled>",
        "wholesale",
    ).success
    assert stock(sb, "T001_RED", "L") == {"MainWarehouse": 2}  # 5 - 4 + 1 released
    shipment = (
        "<shipments><shipment><id>S-1</id><shipped>no</shipped><goodtogo>yes</goodtogo>"
        "<products><product><id>T001</id><variation><id>T001_RED</id></variation><sizes>"
        "<size><id>L</id><qty>3</qty><orderitem><id>500</id></orderitem></size></sizes>"
        "</product></products></shipment></shipments>"
    )
    assert update(catalog, oid, shipment, "wholesale").success
    assert update(catalog, oid, shipment, "wholesale").success  # identical resend: no change
    too_much = shipment.replace("S-1", "S-2").replace("<qty>3</qty>", "<qty>1</qty>")
    reply = update(catalog, oid, too_much, "wholesale")
    assert reply.errors == [f"Order {oid} shipment S-2: orderitem 500 has 0 left to ship, not 1"]
    assert update(
        catalog,
        oid,
        "<shipments><shipment><id>S-1</id><shipped>yes</shipped>"
        "<capture>yes</capture></shipment></shipments>",
        "wholesale",
    ).success

    events = order_events(catalog, oid)
    assert len(events) == 5  # placed, confirmed+locked, cancel, shipment, shipped
    assert [e.findtext("id") for e in events] == sorted((e.findtext("id") for e in events), key=int)
    last = events[-1].find("data/order")
    assert last.findtext("status") == "confirmed" and last.findtext("locked") == "yes"
    assert last.findtext("cancelled/product/sizes/size/qty") == "1"
    assert last.findtext("shipments/shipment/shipped") == "yes"
    assert last.findtext("shipments/shipment/paid") == "no"  # invoice payment: nothing to capture
    # Unchanged resends queued nothing.
    assert update(catalog, oid, "<locked>yes</locked>", "wholesale").success
    assert len(order_events(catalog, oid)) == 5


def test_capture_is_idempotent_and_refund_ids_are_global(sb: Sandbox, catalog: SoapClient) -> None:
    a = sb.place_order(
        "Retail-Global", [("T001", "T001_RED", "S", 2)], "EUR-Retail", shipment_id="900"
    )
    b = sb.place_order(
        "Retail-Global", [("T001", "T001_RED", "M", 1)], "EUR-Retail", shipment_id="901"
    )
    ship = (
        "<shipments><shipment><id>{}</id><shipped>yes</shipped><capture>yes</capture>"
        "</shipment></shipments>"
    )
    assert update(catalog, a, ship.format("900")).success
    captured = sb.order(a)["payments"]
    assert update(catalog, a, ship.format("900")).success
    assert sb.order(a)["payments"] == captured  # captured once
    assert [p["type"] for p in captured] == ["auth", "capture"]

    refund = (
        "<shipments><shipment><id>{}</id><refunds><refund><id>R1</id><status>confirmed</status>"
        "<products><product><id>T001</id><variation><id>T001_RED</id></variation><sizes>"
        "<size><id>{}</id><qty>1</qty></size></sizes></product></products></refund></refunds>"
        "</shipment></shipments>"
    )
    reply = update(catalog, b, refund.format("901", "M"))
    assert reply.errors == [
        f"Order {b} refund R1: shipment 901 is not shipped, so it cannot be refunded"
    ]
    assert update(catalog, a, refund.format("900", "S")).success
    assert update(catalog, a, refund.format("900", "S")).success  # the same refund again: no-op
    assert update(catalog, b, ship.format("901")).success
    reply = update(catalog, b, refund.format("901", "M"))
    assert reply.errors == [
        f"Order {b} refund R1: refund id R1 is already used by order {a}; "
        "refund ids must be unique across all orders"
    ]
    assert len(sb.order(a)["shipments"][0]["refunds"]) == 1


def test_capture_failure_is_reported_and_nothing_ships(sb: Sandbox, catalog: SoapClient) -> None:
    oid = sb.place_order(
        "Retail-Global",
        [("PWC", "PWC", "OS", 1)],
        "EUR-Retail",
        shipment_id="77",
        capture_fails=True,
    )
    reply = update(
        catalog,
        oid,
        "<shipments><shipment><id>77</id><shipped>yes</shipped>"
        "<capture>yes</capture></shipment></shipments>",
    )
    assert not reply.success
    assert reply.errors == [
        f"Order {oid} shipment 77: capture failed: the payment provider declined the capture"
    ]
    assert sb.order(oid)["shipments"][0]["shipped"] is False


def test_bundle_lines_carry_bundleinfo_and_only_parts_allocate(
    sb: Sandbox, catalog: SoapClient
) -> None:
    assert catalog.call(
        "products_Update",
        "<products><product><id>B-221</id><description>Bundle 221</description>"
        "<variations><variation><id>B-221-V</id><sizetable><id>OneSize</id>"
        "</sizetable><sizes><size><id>OS</id></size></sizes></variation>"
        "</variations></product></products>",
    ).success
    assert catalog.call(
        "pricelists_Update",
        "<pricelists><pricelist><id>EUR-Retail</id><items><product><id>B-221</id>"
        "<price>150</price></product></items></pricelist></pricelists>",
    ).success
    oid = sb.place_order(
        "Retail-Global",
        [
            {
                "product": "B-221",
                "variation": "B-221-V",
                "size": "OS",
                "qty": 1,
                "parts": [
                    {"product": "PWC", "variation": "PWC", "size": "OS", "qty": 1},
                    {"product": "T001", "variation": "T001_BLUE", "size": "S", "qty": 1},
                ],
            }
        ],
        "EUR-Retail",
    )
    assert stock(sb, "PWC", "OS")["OtherWarehouse"] == 1
    assert stock(sb, "T001_BLUE", "S") == {"MainWarehouse": 4}
    order = order_events(catalog, oid)[0].find("data/order")
    rows = [
        (
            p.findtext("id"),
            p.findtext("bundleinfo/isbundle"),
            p.findtext("bundleinfo/partof/product/id"),
            p.findtext("price"),
        )
        for p in order.findall("products/product")
    ]
    assert rows == [
        ("PWC", "false", "B-221", "0.00"),
        ("T001", "false", "B-221", "0.00"),
        ("B-221", "true", None, "150.00"),
    ]
    assert order.findtext("ordertotal") == "150.00"


def test_orders_update_unknown_order_and_wrong_type(sb: Sandbox, catalog: SoapClient) -> None:
    reply = update(catalog, "4242", "<locked>yes</locked>")
    assert reply.errors == [
        "Order 4242 does not exist: orders are created in Centra "
        "(place one with the sandbox's order command)"
    ]
    oid = sb.place_order("Retail-Global", [("PWC", "PWC", "OS", 1)], "EUR-Retail")
    assert update(catalog, oid, "<locked>yes</locked>", "wholesale").errors == [
        f"Order {oid}: its type is retail, not 'wholesale'"
    ]
    assert update(catalog, oid, "<status>shipped</status>").errors == [
        f"Order {oid}: status must be one of pending, confirmed, processing, completed, "
        "archived, cancelled, not 'shipped'"
    ]
