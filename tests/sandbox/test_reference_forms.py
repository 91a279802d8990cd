"""Requests in the reference's form (issue #17): the sandbox applies what the reference
documents, or refuses it with success=false and a message; it never answers success and drops.

Each test sends the XML over real HTTP (``SOAP-ENV:`` + ``ns1:`` as in the reference) and checks
the state the sandbox ends up in (its export, its order events) or the refusal.
"""

from __future__ import annotations

from typing import Any

from pipeline.sandbox import Sandbox
from tests.sandbox.conftest import (
    SWEATER_STOCK,
    SoapClient,
    export_root,
    load_catalog,
    stock,
    strip_ns,
    xt,
)

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


# ------------------------------------------------------------------ remove lists


def test_deliverywindow_variationsremove_removes_the_variation(
    sb: Sandbox, client: SoapClient
) -> None:
    load_catalog(client)
    window = (
        "<deliverywindows><deliverywindow><id>DW1</id><status>active</status>"
        "<description>Spring</description><startdate>2026-03-01</startdate>"
        "<stopdate>2026-05-31</stopdate><atonce>false</atonce><variations>"
        "<variation><id>T001_RED</id><type>product</type><productlimit>10</productlimit>"
        "<variationlimit>5</variationlimit></variation>"
        "<variation><id>T001_BLUE</id><type>product</type></variation>"
        "</variations></deliverywindow></deliverywindows>"
    )
    assert client.call("deliverywindows_Update", window).success
    reply = client.call(
        "deliverywindows_Update",
        "<deliverywindows><deliverywindow><id>DW1</id><variationsremove><variation>"
        "<id>T001_RED</id></variation></variationsremove></deliverywindow></deliverywindows>",
    )
    assert reply.success and reply.errors == [], reply.raw
    stored = export_root(sb, "deliverywindows").xpath("//deliverywindow[id='DW1']")[0]
    assert xt(stored, "variations/variation/id") == ["T001_BLUE"]
    assert stored.xpath("variationsremove") == []  # a remove list is an action, not data
    assert xt(stored, "description") == ["Spring"]
    # Removing it again (a resend) changes nothing and is no error.
    again = client.call(
        "deliverywindows_Update",
        "<deliverywindows><deliverywindow><id>DW1</id><variationsremove><variation>"
        "<id>T001_RED</id></variation></variationsremove></deliverywindow></deliverywindows>",
    )
    assert again.success
    assert xt(export_root(sb, "deliverywindows"), "//variations/variation/id") == ["T001_BLUE"]


def _display(store: str, inner: str) -> str:
    return (
        "<products><product><id>T001</id><variations><variation><id>T001_RED</id>"
        f"<displays><display><store>{store}</store>{inner}</display></displays>"
        "</variation></variations></product></products>"
    )


def test_display_categoriesremove_and_marketsremove_remove_the_links(
    sb: Sandbox, client: SoapClient
) -> None:
    load_catalog(client)
    links = (
        "<categories><category><id>c-shirts</id><description>Shirts</description></category>"
        "<category><id>c-sale</id><description>Sale</description></category></categories>"
        "<markets><market><id>Retail-Sweden</id></market><market><id>Retail-Global</id>"
        "</market></markets><minimumorderamount>1</minimumorderamount>"
    )
    assert client.call("products_Update", _display("1", links)).success
    assert client.call("products_Update", _display("2", links)).success
    reply = client.call(
        "products_Update",
        _display(
            "1",
            "<categoriesremove><category><id>c-sale</id></category></categoriesremove>"
            "<marketsremove><market><id>Retail-Global</id></market></marketsremove>",
        ),
    )
    assert reply.success and reply.errors == [], reply.raw
    red = export_root(sb, "products").xpath("//variation[id='T001_RED']")[0]
    assert xt(red, "displays/display/store") == ["1", "2"]  # one display per store
    one, two = red.xpath("displays/display")
    assert xt(one, "categories/category/id") == ["c-shirts"]
    assert xt(one, "markets/market/id") == ["Retail-Sweden"]
    assert xt(one, "minimumorderamount") == ["1"]
    assert one.xpath("categoriesremove | marketsremove") == []
    # The other store's display keeps its links.
    assert xt(two, "categories/category/id") == ["c-shirts", "c-sale"]
    assert xt(two, "markets/market/id") == ["Retail-Sweden", "Retail-Global"]


# ------------------------------------------------------------------ products_Update sizes


def test_stock_as_size_qty_is_refused_not_dropped(sb: Sandbox, client: SoapClient) -> None:
    load_catalog(client)
    before = stock(sb, "T001_RED", "S")
    reply = client.call(
        "products_Update",
        "<products><product><id>T001</id><variations><variation><id>T001_RED</id><sizes>"
        "<size><id>S</id><qty>7</qty></size></sizes></variation></variations>"
        "</product></products>",
    )
    assert not reply.success
    assert reply.errors == [
        "Variation T001_RED size S: <qty> directly in <size> (7) is not stored: Centra keeps "
        "stock per warehouse, send it as <warehouseitems><warehouse><id>..</id><qty>..</qty>"
        "</warehouse></warehouseitems>"
    ]
    assert stock(sb, "T001_RED", "S") == before
    # With its warehouses, a size qty that is their total loses nothing and is accepted.
    reply = client.call(
        "products_Update",
        "<products><product><id>T001</id><variations><variation><id>T001_RED</id><sizes>"
        "<size><id>S</id><qty>7</qty><warehouseitems>"
        "<warehouse><id>MainWarehouse</id><qty>4</qty></warehouse>"
        "<warehouse><id>Store</id><qty>3</qty></warehouse>"
        "</warehouseitems></size></sizes></variation></variations></product></products>",
    )
    assert reply.success, reply.raw
    assert stock(sb, "T001_RED", "S") == {"MainWarehouse": 4, "Store": 3}


def test_warehouse_cog_and_size_description_are_stored(sb: Sandbox, client: SoapClient) -> None:
    load_catalog(client)
    reply = client.call(
        "products_Update",
        "<products><product><id>T001</id><variations><variation><id>T001_RED</id><sizes>"
        "<size><id>S</id><preorder>no</preorder><description>Small (EU 36)</description>"
        "<warehouseitems><warehouse><id>MainWarehouse</id><qty>5</qty><cog>12.50</cog>"
        "</warehouse></warehouseitems></size></sizes></variation></variations>"
        "</product></products>",
    )
    assert reply.success, reply.raw
    for entity in ("products", "stock"):
        size = export_root(sb, entity).xpath("//variation[id='T001_RED']/sizes/size[id='S']")[0]
        assert xt(size, "warehouseitems/warehouse/qty") == ["5"]
        assert xt(size, "warehouseitems/warehouse/cog") == ["12.50"]
    size = export_root(sb, "products").xpath("//variation[id='T001_RED']/sizes/size[id='S']")[0]
    assert xt(size, "description") == ["Small (EU 36)"]
    # A stock-only update (qty, no cog) keeps the cog; the sizetable's own size is unchanged.
    stock_only = (
        "<products><product><id>T001</id><variations><variation><id>T001_RED</id><sizes>"
        "<size><id>S</id><warehouseitems><warehouse><id>MainWarehouse</id><qty>2</qty>"
        "</warehouse></warehouseitems></size></sizes></variation></variations></product></products>"
    )
    assert client.call("products_Update", stock_only).success
    size = export_root(sb, "stock").xpath("//variation[id='T001_RED']/sizes/size[id='S']")[0]
    assert xt(size, "warehouseitems/warehouse/qty") == ["2"]
    assert xt(size, "warehouseitems/warehouse/cog") == ["12.50"]
    assert xt(export_root(sb, "sizes"), "//size[id='S']/description") == ["Small"]


# ------------------------------------------------------------------ int and boolean fields


def test_int_and_boolean_fields_refuse_junk(sb: Sandbox, client: SoapClient) -> None:
    load_catalog(client)
    window = (
        "<deliverywindows><deliverywindow><id>DW1</id><description>Spring</description>"
        "<atonce>{atonce}</atonce><variations><variation><id>T001_RED</id>"
        "<productlimit>{limit}</productlimit></variation></variations>"
        "</deliverywindow></deliverywindows>"
    )
    reply = client.call("deliverywindows_Update", window.format(atonce="maybe", limit="ten"))
    assert not reply.success
    assert reply.errors == [
        "Delivery window DW1: atonce must be a boolean (true, false, 1 or 0), not 'maybe'",
        "Delivery window DW1: productlimit must be a whole number, not 'ten'",
    ]
    assert export_root(sb, "deliverywindows").xpath("//deliverywindow") == []
    # The literal forms of an XML Schema boolean and int are accepted.
    for atonce in ("true", "false", "1", "0"):
        ok = client.call("deliverywindows_Update", window.format(atonce=atonce, limit="-3"))
        assert ok.success, ok.raw
    assert xt(export_root(sb, "deliverywindows"), "//atonce") == ["0"]

    customer = "<customers><customer><id>C1</id><store>{}</store></customer></customers>"
    bad = client.call("customers_Update", customer.format("retail"))
    assert not bad.success
    assert bad.errors == ["Customer C1: store must be a whole number, not 'retail'"]
    assert client.call("customers_Update", customer.format("1")).success

    buyer = (
        "<accounts><account><id>12345</id><buyers><buyer><id>b9</id><store>two</store></buyer>"
        "</buyers><carrierinformation><packages>a few</packages></carrierinformation>"
        "</account></accounts>"
    )
    bad = client.call("accounts_Update", buyer)
    assert not bad.success
    assert bad.errors == [
        "Account 12345: store must be a whole number, not 'two'",
        "Account 12345: packages must be a whole number, not 'a few'",
    ]
    assert xt(export_root(sb, "accounts"), "//buyer/id") == ["12345_buyer1"]


def test_order_internal_and_packages_refuse_junk(sb: Sandbox, client: SoapClient) -> None:
    load_catalog(client)
    assert client.call("products_Update", SWEATER_STOCK).success
    oid = sb.place_order(
        market="Retail-Sweden", pricelist="EUR-Retail", lines=[("T001", "T001_RED", "S", 1)]
    )
    before = export_root(sb, "orders")
    order = f"<orders><order><id>{oid}</id><type>retail</type><store>1</store>{{}}</order></orders>"
    bad = client.call("orders_Update", order.format("<internal>maybe</internal>"))
    assert not bad.success
    assert bad.errors == [
        f"Order {oid}: internal must be a boolean (true, false, 1 or 0), not 'maybe'"
    ]
    shipment = (
        "<shipments><shipment><id>{}</id><carrierinformation><carrier>UPS</carrier>"
        "<packages>two</packages></carrierinformation></shipment></shipments>"
    )
    sid = before.findtext(".//shipments/shipment/id")
    bad = client.call("orders_Update", order.format(shipment.format(sid)))
    assert not bad.success
    assert bad.errors == [f"Order {oid}: packages must be a whole number, not 'two'"]
    after = export_root(sb, "orders")
    assert xt(after, "//shipment/carrierinformation/carrier") == [""]
    assert xt(after, "//order/internal") == ["false"]


def test_invoice_for_an_unknown_order_is_refused(sb: Sandbox, client: SoapClient) -> None:
    invoice = (
        "<invoices><invoice><id>INV-1</id><store>1</store><total>100.00</total>"
        "<order><id>{}</id></order></invoice></invoices>"
    )
    reply = client.call("invoices_Update", invoice.format("999"))
    assert not reply.success
    assert reply.errors == ["Invoice INV-1: order 999 does not exist"]
    assert export_root(sb, "invoices").xpath("//invoice") == []
    load_catalog(client)
    assert client.call("products_Update", SWEATER_STOCK).success
    oid = sb.place_order(
        market="Retail-Sweden", pricelist="EUR-Retail", lines=[("T001", "T001_RED", "S", 1)]
    )
    assert client.call("invoices_Update", invoice.format(oid)).success
    assert xt(export_root(sb, "invoices"), "//invoice/order/id") == [oid]


# ------------------------------------------------------------------ orders_Update fields


def _order_update(client: SoapClient, oid: str, inner: str) -> Any:
    return client.call(
        "orders_Update",
        f"<orders><order><id>{oid}</id><type>retail</type><store>1</store>{inner}</order></orders>",
    )


def _last_order_event(client: SoapClient, oid: str) -> Any:
    events = [
        strip_ns(e)
        for e in client.call("events_Get", "<type>order</type>").events
        if e.findtext("{*}entry") == oid
    ]
    return events[-1].find("data/order")


def _placed(sb: Sandbox, client: SoapClient) -> tuple[str, str]:
    load_catalog(client)
    assert client.call("products_Update", SWEATER_STOCK).success
    oid = sb.place_order(
        market="Retail-Sweden",
        pricelist="EUR-Retail",
        lines=[("T001", "T001_RED", "S", 2)],
        email="ann@example.com",
    )
    sid = export_root(sb, "orders").findtext(".//shipments/shipment/id")
    return oid, sid


def test_orders_update_keeps_the_reference_fields(sb: Sandbox, client: SoapClient) -> None:
    oid, sid = _placed(sb, client)
    reply = _order_update(
        client,
        oid,
        "<internal>true</internal><preferred_shipping_date>2026-12-24</preferred_shipping_date>"
        "<salesrep><id>rep-1</id><name>Rita</name></salesrep>"
        "<deliverywindow><id>DW1</id><description>Spring</description></deliverywindow>"
        "<additionals><additional><key>gift</key><value>yes</value></additional>"
        "<additional><key>shipwallet_doorcode</key><value>1234</value></additional>"
        "</additionals><carrierinformation><carrier>DHL</carrier><service>Express</service>"
        "<account>ACC-9</account><taxid>SE123</taxid><packages>2</packages>"
        "</carrierinformation><ecvatno>SE556677889901</ecvatno>"
        f"<shipments><shipment><id>{sid}</id><shipped>yes</shipped><shippingaddress>"
        "<firstname>Ann</firstname><address1>Dock 4</address1><city>Malmo</city>"
        "</shippingaddress></shipment></shipments>",
    )
    assert reply.success and reply.errors == [] and reply.notices == [], reply.raw
    refund = _order_update(
        client,
        oid,
        f"<shipments><shipment><id>{sid}</id><refunds><refund><id>R-{oid}</id>"
        "<status>confirmed</status><products><product><id>T001</id><variation><id>T001_RED"
        "</id></variation><sizes><size><id>S</id><qty>1</qty></size></sizes></product>"
        "</products><comment>Too small</comment><returnfee><subtotal>5.00</subtotal>"
        "<description>Return fee</description></returnfee></refund></refunds>"
        "</shipment></shipments>",
    )
    assert refund.success and refund.notices == [], refund.raw
    exported = export_root(sb, "orders").xpath(f"//order[id='{oid}']")[0]
    for order in (exported, _last_order_event(client, oid)):
        assert xt(order, "internal") == ["true"]
        assert xt(order, "preferred_shipping_date") == ["2026-12-24"]
        assert xt(order, "salesrep/id") == ["rep-1"]
        assert xt(order, "deliverywindow/description") == ["Spring"]
        assert xt(order, "additionals/additional/key") == ["gift", "shipwallet_doorcode"]
        assert xt(order, "additionals/additional/value") == ["yes", "1234"]
        assert xt(order, "carrierinformation/carrier") == ["DHL"]
        assert xt(order, "carrierinformation/account") == ["ACC-9"]
        assert xt(order, "carrierinformation/taxid") == ["SE123"]
        assert xt(order, "carrierinformation/packages") == ["2"]
        assert xt(order, "ecvatno") == ["SE556677889901"]
        shipment = order.xpath("shipments/shipment")[0]
        assert xt(shipment, "shippingaddress/address1") == ["Dock 4"]
        assert xt(shipment, "shippingaddress/city") == ["Malmo"]
        assert xt(order, "shippingaddress/city") == [""]  # the order's own is unchanged
        assert xt(shipment, "refunds/refund/comment") == ["Too small"]
        assert xt(shipment, "refunds/refund/returnfee/subtotal") == ["5.00"]
    # An additional is merged by key.
    assert _order_update(
        client,
        oid,
        "<additionals><additional><key>gift</key><value>no</value></additional></additionals>",
    ).success
    assert xt(export_root(sb, "orders"), "//order/additionals/additional/value") == ["no", "1234"]


def test_orders_update_names_each_field_it_ignores(sb: Sandbox, client: SoapClient) -> None:
    oid, sid = _placed(sb, client)
    before = export_root(sb, "orders")
    payments_before = xt(before, "//order/payments/payment/value")
    reply = _order_update(
        client,
        oid,
        "<currency>EUR</currency>"  # the order's own value: an echo, nothing ignored
        "<shipping><subtotal>0.00</subtotal></shipping>"  # a partial echo, amounts as numbers
        "<ordertotal>1.00</ordertotal>"
        "<payments><payment><type>capture</type><value>10.00</value></payment></payments>"
        "<customer><id>999</id></customer>"
        "<products><product><id>T001</id><qty>9</qty></product></products>",
    )
    assert reply.success and reply.errors == [], reply.raw
    assert reply.notices == [
        f"Order {oid}: <{name}> was ignored: the sandbox does not change it with orders_Update"
        for name in ("ordertotal", "payments", "customer", "products")
    ]
    after = export_root(sb, "orders")
    assert xt(after, "//order/payments/payment/value") == payments_before
    assert xt(after, "//order/customer/id") == xt(before, "//order/customer/id")
    assert xt(after, "//order/ordertotal") == xt(before, "//order/ordertotal")
    # A shipment's paid flag is the payment's (capture=yes), not the ERP's to set.
    paid = _order_update(
        client,
        oid,
        f"<shipments><shipment><id>{sid}</id><paid>yes</paid><shipping><subtotal>0.00"
        "</subtotal></shipping></shipment></shipments>",
    )
    assert paid.success and paid.notices == [
        f"Order {oid} shipment {sid}: <paid> was ignored: the sandbox does not change it "
        "with orders_Update"
    ]
    assert xt(export_root(sb, "orders"), "//shipment/paid") == ["no"]
