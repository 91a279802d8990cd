"""Acceptance: every request example of Centra's ERP guide, posted as printed, in the guide's
order, succeeds; the sandbox's answers and its exported state are what the guide describes."""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from pipeline.sandbox import Sandbox
from tests.guide import ORDER_25, ORDER_30
from tests.sandbox.conftest import (
    SWEATER_STOCK,
    SoapClient,
    export_root,
    guide_examples,
    guide_requests,
    strip_ns,
    xt,
)

_BLANKLESS = etree.XMLParser(remove_blank_text=True)


def canonical(xml: str | bytes) -> bytes:
    data = xml.encode() if isinstance(xml, str) else xml
    return etree.tostring(etree.fromstring(data, _BLANKLESS), method="c14n")


def guide_response(heading: str, index: int = 0) -> str:
    found = [e.xml for e in guide_examples() if e.kind == "response" and e.heading == heading]
    return found[index]


def payload(xml: str | bytes) -> list[bytes]:
    """The children of an *_Update element after <login>, canonical and namespace-free."""
    root = strip_ns(etree.fromstring(xml.encode() if isinstance(xml, str) else xml, _BLANKLESS))
    operation = root.find("Body")[0]
    return [etree.tostring(c, method="c14n") for c in operation if c.tag != "login"]


def element_paths(el: Any, prefix: str = "") -> set[str]:
    out = set()
    for child in el.iterchildren(etree.Element):
        path = f"{prefix}/{etree.QName(child).localname}"
        out.add(path)
        out |= element_paths(child, path)
    return out


def guide_order_event(heading: str) -> Any:
    xml = guide_response(heading)
    # The guide's DTC event is not well-formed: <ns1:ordernumber>30</ns1:id> (a doc defect).
    xml = re.sub(r"(<ns1:ordernumber>\d+)</ns1:id>", r"\1</ns1:ordernumber>", xml)
    return etree.fromstring(xml.encode()).find(".//{*}event/{*}data/{*}order")


def place_guide_orders(sb: Sandbox, client: SoapClient) -> None:
    """The orders the guide's order examples act on (30 retail, 25 wholesale), with the
    guide's lines, order item ids and shipment id. The guide never sends stock for the
    sweater, and an order cannot allocate stock that is not there, so it is sent first."""
    assert client.call("products_Update", SWEATER_STOCK).success
    sb.place_order(**ORDER_30)
    sb.place_order(**ORDER_25)


def test_every_guide_request_succeeds_in_order(sb: Sandbox, client: SoapClient) -> None:
    requests = guide_requests()
    assert len(requests) == 24, [r.heading for r in requests]
    sent: dict[str, str] = {}
    for example in requests:
        xml = example.xml
        if example.heading == "Time Alteration Dates":
            # Deviation in the guide: this one example logs in with "????" where every other
            # uses "???". The sandbox accepts one password, so the printed bytes are refused
            # and the example is then sent with the guide's usual password.
            assert "<password>????</password>" in xml
            refused = client.post(xml)
            assert refused.status == 500
            assert refused.fault is not None and refused.fault[1].startswith("Login failed")
            xml = xml.replace("<password>????</password>", "<password>???</password>")
        if example.heading == "Direct-to-Consumer orders: Event":
            place_guide_orders(sb, client)
        reply = client.post(xml)
        assert reply.status == 200, (example.heading, reply.raw)
        assert reply.fault is None
        if reply.root.find(".//{*}result") is not None:
            assert reply.success and reply.errors == [], (example.heading, reply.raw)
        sent[example.heading] = xml
        _check_answer(sb, client, example.heading, xml, reply)

    _check_final_state(sb, sent)


def _check_answer(sb: Sandbox, client: SoapClient, heading: str, xml: str, reply: Any) -> None:
    if heading in ("Connection test", "Markets", "Product Data: A Sweater example"):
        assert canonical(reply.raw) == canonical(guide_response(heading))
    elif heading == "Product Data: Sizetables":
        assert canonical(reply.raw) == canonical(guide_response(heading, 0))
        assert reply.notices == [
            "Added new size: S: Small to: Small Medium Large!",
            "Added new size: M: Medium to: Small Medium Large!",
            "Added new size: L: Large to: Small Medium Large!",
            "Added new size: OS:  to: One Size!",
        ]
        again = client.post(xml)  # "When you send the same sizes_Update again ..."
        assert canonical(again.raw) == canonical(guide_response(heading, 1))
    elif heading == "Product Stock: Stock Update":
        root = export_root(sb, "stock")
        size = root.xpath("//product[id='PWC']/variations/variation[id='PWC']/sizes/size")[0]
        assert xt(size, "id") == ["OS"]
        assert xt(size, "warehouseitems/warehouse/id") == ["MainWarehouse", "OtherWarehouse"]
        assert xt(size, "warehouseitems/warehouse/qty") == ["1", "2"]
    elif heading == "Direct-to-Consumer orders: Event":
        _check_dtc_event(reply)
    elif heading == "Wholesale orders: Event By Markets":
        events = reply.events
        assert events and {e.findtext("{*}entry") for e in events} == {"25"}
        mine = events[0].find("{*}data/{*}order")
        guide = guide_order_event(heading)
        missing = element_paths(guide) - element_paths(mine)
        assert not missing, missing
        assert mine.findtext("{*}status") == "pending"
        assert mine.find("{*}shipments") is not None and len(mine.find("{*}shipments")) == 0
        assert mine.findtext("{*}paymentterms/{*}description") == "30 Days"
        assert mine.findtext("{*}buyer/{*}id") == "12345_buyer1"


def _check_dtc_event(reply: Any) -> None:
    orders = [e for e in reply.events if e.findtext("{*}entry") == "30"]
    assert len(orders) == 1
    event = orders[0]
    assert event.findtext("{*}type") == "order" and event.findtext("{*}mission") == "update"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", event.findtext("{*}date"))
    mine = event.find("{*}data/{*}order")
    guide = guide_order_event("Direct-to-Consumer orders: Event")
    missing = element_paths(guide) - element_paths(mine)
    assert not missing, missing
    for path in (
        "id",
        "ordernumber",
        "type",
        "store",
        "status",
        "ordertotal",
        "currency",
        "currencyrate",
        "basecurrency",
        "shipping/subtotal",
        "shipments/shipment/id",
        "shipments/shipment/shipmenttotal",
        "shipments/shipment/appendix",
        "shippingaddress/firstname",
        "shippingaddress/email",
        "market/id",
        "market/description",
        "pricelist/id",
        "pricelist/description",
    ):
        steps = "/".join("{*}" + s for s in path.split("/"))
        assert mine.findtext(steps) == guide.findtext(steps), path
    rows = [
        (p.findtext("{*}id"), p.findtext("{*}price"), s.findtext("{*}orderitem/{*}id"))
        for p in mine.findall("{*}products/{*}product")
        for s in p.findall("{*}sizes/{*}size")
    ]
    assert rows == [("PWC", "1000.00", "80"), ("T001", "123.00", "81")]


def _check_final_state(sb: Sandbox, sent: dict[str, str]) -> None:
    # What the guide sends is what the sandbox holds: the export's payload equals the request's.
    for entity, heading in (
        ("markets", "Markets"),
        ("sizes", "Product Data: Sizetables"),
        ("warehouses", "Product Stock: Warehouses"),
        ("pricelists", "Pricelists"),
        ("pricealterationdates", "Time Alteration Dates"),
        ("paymentterms", "Wholesale Accounts: Payment Terms"),
        ("shippingterms", "Wholesale Accounts: Shipping Terms"),
        ("accounts", "Wholesale Accounts: Account Data"),
    ):
        assert payload(sb.export(entity)) == payload(sent[heading]), entity

    products = export_root(sb, "products")
    assert xt(products, "//product/id") == ["T001", "PWC"]
    sweater = products.xpath("//product[id='T001']")[0]
    assert xt(sweater, "variations/variation/id") == ["T001_RED", "T001_BLUE"]
    for vid, prefix in (("T001_RED", "1"), ("T001_BLUE", "2")):
        variation = sweater.xpath(f"variations/variation[id='{vid}']")[0]
        assert xt(variation, "sizes/size/id") == ["S", "M", "L"]
        assert xt(variation, "sizes/size/ean") == [f"{prefix}23456789012{d}" for d in "345"]
        assert xt(variation, "sizetable/id") == ["SML"]
    assert xt(products, "//product[id='PWC']/description") == ["Plain wood chair"]

    # Allocation: retail PWC 1 from OtherWarehouse (most stock), wholesale PWC 2 from both;
    # the cancelled red L went back to stock (5 - 4 + 1).
    stock = export_root(sb, "stock")
    pwc = stock.xpath("//variation[id='PWC']/sizes/size/warehouseitems/warehouse")
    assert [(w.findtext("id"), w.findtext("qty")) for w in pwc] == [
        ("MainWarehouse", "0"),
        ("OtherWarehouse", "0"),
    ]
    red_l = stock.xpath("//variation[id='T001_RED']/sizes/size[id='L']/warehouseitems/warehouse")
    assert [(w.findtext("id"), w.findtext("qty")) for w in red_l] == [("MainWarehouse", "2")]

    pricelists = export_root(sb, "pricelists")
    usd = pricelists.xpath("//pricelist[id='USD-Wholesale']/items/product[id='T001']")[0]
    assert xt(usd, "variation/price") == ["45", "67"]
    assert xt(usd, "variation/alteredprice") == ["50", "80"]
    assert xt(pricelists, "//pricelist[id='EUR-Retail']/items/product[id='PWC']/price") == ["1000"]

    accounts = export_root(sb, "accounts")
    assert xt(accounts, "//account/buyers/buyer/id") == ["12345_buyer1"]
    assert xt(accounts, "//account/paymentterms/id") == ["30NET"]

    customers = export_root(sb, "customers")
    assert xt(customers, "//customer/email") == ["someone@example.com"]

    orders = export_root(sb, "orders")
    retail = orders.xpath("//order[id='30']")[0]
    assert xt(retail, "status") == ["completed"] and xt(retail, "locked") == ["yes"]
    assert xt(retail, "shipments/shipment/id") == ["8"]
    assert xt(retail, "shipments/shipment/shipped") == ["yes"]
    assert xt(retail, "shipments/shipment/paid") == ["yes"]
    assert xt(retail, "shipments/shipment/carrierinformation/tracking") == ["1Z123123123123"]
    assert xt(retail, "shipments/shipment/refunds/refund/id") == ["12"]
    assert xt(retail, "shipments/shipment/refunds/refund//size/id") == ["S"]
    wholesale = orders.xpath("//order[id='25']")[0]
    assert xt(wholesale, "status") == ["confirmed"] and xt(wholesale, "locked") == ["yes"]
    assert xt(wholesale, "cancelled/product/sizes/size/orderitem/id") == ["71"]
    assert xt(wholesale, "cancelled/product/sizes/size/qty") == ["1"]
    assert xt(wholesale, "products/product[variation/id='T001_RED']/sizes/size/qty") == ["3", "3"]
    assert xt(wholesale, "shipments/shipment/id") == ["shipment-25-1", "shipment-25-2"]
    assert xt(wholesale, "shipments/shipment/shipped") == ["yes", "yes"]
    assert xt(wholesale, "shipments/shipment/carrierinformation/tracking") == [
        "876543210",
        "987654321",
    ]
    assert xt(wholesale, "shipments/shipment/shipping/subtotal") == ["123", "0"]
