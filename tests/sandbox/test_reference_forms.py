"""Requests in the reference's form (issue #17): the sandbox applies what the reference
documents, or refuses it with success=false and a message; it never answers success and drops.

Each test sends the XML over real HTTP (``SOAP-ENV:`` + ``ns1:`` as in the reference) and checks
the state the sandbox ends up in (its export, its order events) or the refusal.
"""

from __future__ import annotations

from pipeline.sandbox import Sandbox
from tests.sandbox.conftest import (
    SWEATER_STOCK,
    SoapClient,
    export_root,
    load_catalog,
    stock,
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
