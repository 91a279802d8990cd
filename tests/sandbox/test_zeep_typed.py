"""zeep, a standard SOAP client, drives all 17 operations of the sandbox's WSDL with plain
dicts (no ``xsd:any`` objects), in both answer forms: the guide's ``ns1:result`` and the
reference's ``<xUpdateResponse>OK</xUpdateResponse>``. Loopback only."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from pipeline.sandbox import Sandbox
from tests.sandbox.conftest import (
    GUIDE_PASSWORD,
    GUIDE_USER,
    SoapClient,
    export_root,
    guide_requests,
    stock,
    xt,
)

zeep = pytest.importorskip("zeep")
from pipeline.centra.operations import OPERATIONS as CLIENT_OPERATIONS  # noqa: E402
from tests.sandbox.test_zeep import LoopbackTransport  # noqa: E402

LOGIN = {"username": GUIDE_USER, "password": GUIDE_PASSWORD}
#: Every operation the pipeline's client knows (the 17 of the reference).
OPERATIONS = tuple(sorted(CLIENT_OPERATIONS))
XSD = "{http://www.w3.org/2001/XMLSchema}"


def zeep_client(sb: Sandbox) -> Any:
    return zeep.Client(sb.url + "?wsdl", transport=LoopbackTransport(cache=None))


def ok_name(operation: str) -> str:
    """The reference's answer element: accounts_Update -> accountsUpdateResponse."""
    return operation.replace("_", "") + "Response"


class Driver:
    """Calls an operation through zeep and checks the answer says success in ``form``."""

    def __init__(self, sb: Sandbox, form: str) -> None:
        self.sb, self.form = sb, form
        self.client = zeep_client(sb)
        self.called: list[str] = []

    def __call__(self, operation: str, **payload: Any) -> Any:
        answer = getattr(self.client.service, operation)(login=LOGIN, **payload)
        self.called.append(operation)
        logged = self.sb.requests(limit=1)[-1]
        assert logged["operation"] == operation
        if operation.startswith("events_Get"):
            return answer
        ok = getattr(answer, ok_name(operation))
        if self.form == "ok":
            assert (answer.result, ok) == (None, "OK"), answer
        else:
            assert ok is None and answer.result.success is True, answer
        return answer


@pytest.mark.parametrize("form", ["result", "ok"])
def test_every_operation_through_zeep_with_plain_dicts(sb: Sandbox, form: str) -> None:
    sb.settings.update_response = form
    call = Driver(sb, form)

    call(
        "markets_Update",
        markets={
            "market": [
                {"id": "Retail-Sweden", "store": 1, "type": "retail", "description": "Sweden"},
                {"id": "Wholesale-Market", "store": 2, "type": "wholesale", "description": "B2B"},
            ]
        },
    )
    markets = export_root(sb, "markets")
    assert xt(markets, "//market/id") == ["Retail-Sweden", "Wholesale-Market"]
    assert xt(markets, "//market/store") == ["1", "2"]

    call(
        "warehouses_Update",
        warehouses={"warehouse": [{"id": "MainWarehouse", "description": "Main"}]},
    )
    assert xt(export_root(sb, "warehouses"), "//warehouse/description") == ["Main"]

    sizes = call(
        "sizes_Update",
        sizes={
            "size": [
                {
                    "id": size,
                    "description": name,
                    "sizetable": {"id": "SML", "description": "Small Medium Large"},
                }
                for size, name in (("S", "Small"), ("M", "Medium"))
            ]
        },
    )
    if form == "result":
        assert sizes.result.notices.message == [
            "Added new size: S: Small to: Small Medium Large!",
            "Added new size: M: Medium to: Small Medium Large!",
        ]
    assert xt(export_root(sb, "sizes"), "//size/id") == ["S", "M"]

    call(
        "products_Update",
        products={
            "product": {
                "id": "T001",
                "status": "active",
                "sku": "TURTLE001",
                "description": "Turtleneck",
                "folder": {"description": "Sweaters / Turtleneck"},
                "brand": {"id": "Example", "description": "Example Brand"},
                "collection": {"id": "XMAS", "description": "X-Mas"},
                "variations": {
                    "variation": [
                        {
                            "id": "T001_RED",
                            "stockid": "T001_RED",
                            "description": "Red",
                            "sku": "RED",
                            "status": "active",
                            "sizetable": {"id": "SML"},
                            "sizes": {
                                "size": [
                                    {
                                        "id": "S",
                                        "sku": "01",
                                        "ean": "1234567890123",
                                        "warehouseitems": {
                                            "warehouse": [{"id": "MainWarehouse", "qty": 5}]
                                        },
                                    },
                                    {"id": "M", "sku": "02", "ean": "1234567890124"},
                                ]
                            },
                        }
                    ]
                },
            }
        },
    )
    assert stock(sb, "T001_RED", "S") == {"MainWarehouse": 5}
    products = export_root(sb, "products")
    assert xt(products, "//variation[id='T001_RED']/sizes/size/ean") == [
        "1234567890123",
        "1234567890124",
    ]

    pricelist = {
        "store": 1,
        "type": "retail",
        "currency": "EUR",
        "items": {
            "product": {
                "id": "T001",
                "price": Decimal("100.00"),
                "variation": [{"id": "T001_RED", "price": Decimal("90.50")}],
            }
        },
    }
    wholesale = {
        "store": 2,
        "type": "wholesale",
        "currency": "USD",
        "items": {
            "product": {
                "id": "T001",
                "price": Decimal("45"),
                "priceb": Decimal("100"),
                "variation": [{"id": "T001_RED", "alteredprice": 40, "alteredpriceb": 150}],
            }
        },
    }
    call(
        "pricelists_Update",
        pricelists={
            "pricelist": [
                {"id": "EUR-Retail", "description": "Euro", **pricelist},
                {"id": "USD-Wholesale", "description": "Dollar", **wholesale},
            ]
        },
    )
    prices = export_root(sb, "pricelists")
    assert xt(prices, "//pricelist[id='EUR-Retail']//variation[id='T001_RED']/price") == ["90.50"]
    assert xt(prices, "//pricelist[id='USD-Wholesale']//variation/alteredpriceb") == ["150"]

    call(
        "pricealterationdates_Update",
        pricealterationdates={
            "pricealterationdate": {
                "id": "H20",
                "status": "active",
                "name": "Autumn",
                "store": 2,
                "startdate": "2020-08-01",
            }
        },
    )
    assert xt(export_root(sb, "pricealterationdates"), "//startdate") == ["2020-08-01"]

    call(
        "paymentterms_Update",
        paymentterms={
            "paymentterms": {
                "id": "30NET",
                "name": "30 Days",
                "description": "Pay in 30 days",
                "duedays": 30,
            }
        },
    )
    assert xt(export_root(sb, "paymentterms"), "//duedays") == ["30"]

    call(
        "shippingterms_Update",
        shippingterms={
            "shippingterms": {"id": "DDU", "name": "Delivered Duty Unpaid", "duedays": 0}
        },
    )
    assert xt(export_root(sb, "shippingterms"), "//shippingterms/name") == ["Delivered Duty Unpaid"]

    call(
        "salesreps_Update",
        salesreps={
            "salesrep": {
                "id": "REP1",
                "email": "rep@example.com",
                "name": "Rep",
                "percent": Decimal("5.5"),
            }
        },
    )
    assert xt(export_root(sb, "salesreps"), "//salesrep/percent") == ["5.5"]

    address = {
        "company": "Shop AB",
        "address1": "Street 1",
        "city": "Stockholm",
        "zipcode": "11122",
        "country": "SE",
        "email": "shop@example.com",
    }
    call(
        "accounts_Update",
        accounts={
            "account": {
                "id": "12345",
                "type": "wholesale",
                "status": "active",
                "description": "Shop AB",
                "discount": Decimal("0"),
                "market": {"id": "Wholesale-Market"},
                "pricelist": {"id": "USD-Wholesale"},
                "creditlimit": Decimal("10000"),
                "salesrep": {"id": "REP1"},
                "paymentterms": {"id": "30NET"},
                "shippingterms": {"id": "DDU"},
                "accountaddress": address,
                "shippingaddress": address,
                "invoiceaddress": {**address, "vat": "SE123"},
                "buyers": {
                    "buyer": [
                        {
                            "id": "12345_buyer1",
                            "store": 2,
                            "status": "active",
                            "firstname": "First",
                            "lastname": "Last",
                            "email": "first.last@example.com",
                        }
                    ]
                },
                "additionals": {"additional": [{"key": "segment", "value": "A"}]},
            }
        },
    )
    accounts = export_root(sb, "accounts")
    assert xt(accounts, "//account[id='12345']/buyers/buyer/email") == ["first.last@example.com"]
    assert xt(accounts, "//account[id='12345']/invoiceaddress/vat") == ["SE123"]

    call(
        "customers_Update",
        customers={
            "customer": {
                "id": "C1",
                "store": 1,
                "type": "retail",
                "status": "active",
                "firstname": "Ann",
                "lastname": "Example",
                "email": "ann@example.com",
            }
        },
    )
    assert xt(export_root(sb, "customers"), "//customer[id='C1']/store") == ["1"]

    call(
        "deliverywindows_Update",
        deliverywindows={
            "deliverywindow": {
                "id": "DW1",
                "status": "active",
                "description": "Spring",
                "startdate": "2020-01-01",
                "stopdate": "2020-03-01",
                "atonce": False,
                "variations": {
                    "variation": [{"id": "T001_RED", "productlimit": 10, "variationlimit": 5}]
                },
            }
        },
    )
    windows = export_root(sb, "deliverywindows")
    assert xt(windows, "//deliverywindow/atonce") == ["false"]
    assert xt(windows, "//variation/variationlimit") == ["5"]

    call(
        "invoices_Update",
        invoices={
            "invoice": {
                "id": "INV1",
                "store": 2,
                "status": "open",
                "currency": "USD",
                "total": Decimal("90.00"),
                "account": {"id": "12345"},
                "items": {
                    "invoiceitem": [
                        {"itemid": "1", "qty": 2, "price": Decimal("45.00"), "sku": "T001RED01"}
                    ]
                },
            }
        },
    )
    assert xt(export_root(sb, "invoices"), "//invoiceitem/qty") == ["2"]

    order_id = sb.place_order(
        market="Retail-Sweden",
        pricelist="EUR-Retail",
        lines=[("T001", "T001_RED", "S", 1)],
        email="someone@example.com",
        auto_shipment=False,
    )
    orderitem = export_root(sb, "orders").xpath("//order//size/orderitem/id")[0].text
    call(
        "orders_Update",
        orders={
            "order": {
                "id": order_id,
                "type": "retail",
                "store": 1,
                "locked": "yes",
                "internalinformation": "picked",
                "shipments": {
                    "shipment": [
                        {
                            "id": f"shipment-{order_id}-1",
                            "shipped": "no",
                            "goodtogo": "yes",
                            "appendix": 1,
                            "products": {
                                "product": [
                                    {
                                        "id": "T001",
                                        "variation": {"id": "T001_RED"},
                                        "sizes": {
                                            "size": [
                                                {
                                                    "id": "S",
                                                    "qty": 1,
                                                    "orderitem": {"id": orderitem},
                                                }
                                            ]
                                        },
                                    }
                                ]
                            },
                            "shipping": {"subtotal": Decimal("0")},
                        }
                    ]
                },
            }
        },
    )
    orders = export_root(sb, "orders")
    assert xt(orders, f"//order[id='{order_id}']/locked") == ["yes"]
    assert xt(orders, f"//order[id='{order_id}']/internalinformation") == ["picked"]
    assert xt(orders, f"//order[id='{order_id}']/shipments/shipment/id") == [
        f"shipment-{order_id}-1"
    ]

    # Centra-side changes (the order and its customer) are in the queue.
    events = call("events_Get", type="order")
    assert events and {e.type for e in events} == {"order"}
    assert all(isinstance(e.id, int) and e.entry == order_id for e in events)
    by_market = call(
        "events_GetByMarkets", type="all", markets={"market": [{"id": "Retail-Sweden"}]}
    )
    assert [e.id for e in by_market] == [e["id"] for e in sb.events()]
    assert not call("events_GetByMarkets", type="all", markets={"market": {"id": "Nowhere"}})
    call("events_Done", event=[e.id for e in by_market])
    assert sb.events() == []

    assert sorted(set(call.called)) == sorted(OPERATIONS)
    # Every request went out as plain, typed XML: no xsd:any wrappers, no xsi:type.
    for logged in sb.requests(limit=100):
        assert "xsi:type" not in logged["request"] and "_value_1" not in logged["request"]


def test_a_refused_update_is_success_false_in_both_forms(sb: Sandbox) -> None:
    client = zeep_client(sb)
    for form in ("result", "ok"):
        sb.settings.update_response = form
        answer = client.service.markets_Update(
            login=LOGIN, markets={"market": {"id": "M", "type": "neither"}}
        )
        assert answer.marketsUpdateResponse is None
        assert answer.result.success is False
        assert answer.result.errors.message == [
            "Market M: type must be retail or wholesale, not 'neither'"
        ]


def test_the_ok_form_is_the_references_exactly(sb: Sandbox) -> None:
    sb.settings.update_response = "ok"
    body = (
        '<?xml version="1.0"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/'
        'soap/envelope/" xmlns:ns1="http://www.centra.com/webservices/"><SOAP-ENV:Body>'
        f"<ns1:{{op}}><ns1:login><ns1:username>{GUIDE_USER}</ns1:username><ns1:password>"
        f"{GUIDE_PASSWORD}</ns1:password></ns1:login>{{inner}}</ns1:{{op}}>"
        "</SOAP-ENV:Body></SOAP-ENV:Envelope>"
    )
    markets = "<ns1:markets><ns1:market><ns1:id>M</ns1:id></ns1:market></ns1:markets>"
    answer = sb.handle(body.format(op="markets_Update", inner=markets).encode())
    assert answer.status == 200
    assert answer.body == (
        b'<?xml version="1.0"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org'
        b'/soap/envelope/"><SOAP-ENV:Body><marketsUpdateResponse>OK</marketsUpdateResponse>'
        b"</SOAP-ENV:Body></SOAP-ENV:Envelope>\n"
    )
    done = sb.handle(body.format(op="events_Done", inner="<ns1:event>1</ns1:event>").encode())
    assert b"<eventsDoneResponse>OK</eventsDoneResponse>" in done.body
    # The event operations keep their answer; a login failure in result mode stays a result.
    got = sb.handle(body.format(op="events_GetRequest", inner="<ns1:type>all</ns1:type>").encode())
    assert b"<ns1:events_Get><ns1:events/></ns1:events_Get>" in got.body
    sb.configure(login_failure_mode="result")
    wrong = body.replace(GUIDE_PASSWORD, "wrong").format(op="markets_Update", inner=markets)
    refused = sb.handle(wrong.encode())
    assert b"<ns1:success>false</ns1:success>" in refused.body


# ------------------------------------------------------------ every documented field is typed


def _leaves(root: Any) -> Counter[tuple[str, str]]:
    """(path below the operation element, text) of every leaf, namespaces dropped."""
    out: Counter[tuple[str, str]] = Counter()

    def walk(el: Any, path: str) -> None:
        for c in el.iterchildren(etree.Element):
            p = f"{path}/{etree.QName(c).localname}"
            if len(c):
                walk(c, p)
            else:
                out[(p, (c.text or "").strip())] += 1

    walk(root, "")
    return out


def _operation_element(envelope: Any) -> Any:
    body = envelope.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    return body[0]


def _as_dict(el: Any) -> Any:
    """An element's content as zeep takes it: a dict per complex element, a list for repeats."""
    if not len(el):
        return (el.text or "").strip()
    out: dict[str, Any] = {}
    for c in el.iterchildren(etree.Element):
        name = etree.QName(c).localname
        value = _as_dict(c)
        if name in out:
            if not isinstance(out[name], list):
                out[name] = [out[name]]
            out[name].append(value)
        else:
            out[name] = value
    return out


def _round_trip(client: Any, request_xml: bytes) -> str:
    """Rebuild a request as plain dicts, let zeep serialise it, and compare every leaf."""
    operation_el = _operation_element(etree.fromstring(request_xml))
    name = etree.QName(operation_el).localname
    operation = "events_Get" if name == "events_GetRequest" else name
    kwargs = _as_dict(operation_el)
    # An empty element that zeep's type makes a structure (e.g. <supplierorderitems/>) is
    # sent by zeep as nothing: leave those out of both sides.
    kwargs = _drop_empty(kwargs)
    message = client.create_message(client.service, operation, **kwargs)
    expected = Counter({k: n for k, n in _leaves(operation_el).items() if k[1] != ""})
    got = Counter({k: n for k, n in _leaves(_operation_element(message)).items() if k[1] != ""})
    assert got == expected, (operation, expected - got, got - expected)
    return operation


def _drop_empty(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_empty(v) for k, v in value.items() if v != ""}
    if isinstance(value, list):
        return [_drop_empty(v) for v in value if v != ""]
    return value


def test_every_guide_request_goes_through_zeep_as_plain_dicts(sb: Sandbox) -> None:
    """Every field the guide sends is a typed element: zeep takes the guide's requests as
    dicts (an unknown key would be a TypeError) and writes every value back out."""
    client = zeep_client(sb)
    examples = guide_requests()
    assert len(examples) > 15
    seen = set()
    for example in examples:
        xml = example.xml.replace("<password>????</password>", "<password>???</password>")
        seen.add(_round_trip(client, xml.encode()))
    assert {"orders_Update", "products_Update", "accounts_Update", "events_Done"} <= seen


def test_everything_the_sandbox_stores_goes_through_zeep_as_plain_dicts(
    sb: Sandbox, catalog: SoapClient
) -> None:
    """The export of every entity (the guide's catalogue, then orders placed by Centra with a
    bundle, a shipment shipped through zeep and a refund) is a request zeep accepts as dicts,
    field for field."""
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
    parts = [{"product": "PWC", "variation": "PWC", "size": "OS", "qty": 1}]
    bundle = {"product": "B-221", "variation": "B-221-V", "size": "OS", "qty": 1, "parts": parts}
    sb.place_order("Retail-Global", [bundle], "EUR-Retail", email="bundle@example.com")
    oid = sb.place_order(
        "Retail-Sweden",
        [("T001", "T001_RED", "S", 1)],
        "EUR-Retail",
        email="someone@example.com",
        shipment_id="S-1",
    )
    client = zeep_client(sb)
    line = {"id": "T001", "variation": {"id": "T001_RED"}, "sizes": {"size": {"id": "S", "qty": 1}}}
    shipped = {
        "id": "S-1",
        "shipped": "yes",
        "capture": "yes",
        "carrierinformation": {"carrier": "DHL", "service": "Express", "tracking": "T1"},
    }
    refund = {"id": "S-1", "refunds": {"refund": {"id": "R-1", "status": "confirmed"}}}
    refund["refunds"]["refund"]["products"] = {"product": line}  # type: ignore[index]
    for shipment in (shipped, refund):
        answer = client.service.orders_Update(
            login=LOGIN,
            orders={"order": {"id": oid, "type": "retail", "shipments": {"shipment": shipment}}},
        )
        assert answer.result.success is True, answer
    orders = export_root(sb, "orders")
    assert set(xt(orders, "//bundleinfo/isbundle")) == {"true", "false"}
    assert xt(orders, "//refund/id") == ["R-1"]
    assert "T1" in xt(orders, "//shipment/carrierinformation/tracking")
    entities = [
        "markets",
        "warehouses",
        "sizes",
        "products",
        "stock",
        "pricelists",
        "pricealterationdates",
        "paymentterms",
        "shippingterms",
        "accounts",
        "customers",
        "salesreps",
        "deliverywindows",
        "orders",
        "invoices",
    ]
    for entity in entities:
        _round_trip(client, sb.export(entity).encode())


def test_the_schema_types_every_field() -> None:
    from pipeline.sandbox.wsdl import document

    root = etree.fromstring(document("http://127.0.0.1:1/x").encode())
    elements = list(root.iter(f"{XSD}element"))
    anys = list(root.iter(f"{XSD}any"))
    assert len(elements) > 400
    # Each element is typed: a named type or a structure of its own.
    for el in elements:
        assert el.get("type") or el.find(f"{XSD}complexType") is not None, el.get("name")
    # xsd:any only closes a sequence (open content), it never replaces fields.
    for any_ in anys:
        assert any_.getnext() is None and any_.get("processContents") == "lax"
    assert len(anys) < len(elements) / 4
    typed = Counter(el.get("type") for el in elements)
    assert typed["xsd:int"] > 20 and typed["xsd:decimal"] > 20 and typed["xsd:boolean"] >= 4


def test_serve_update_response_ok(tmp_path: Any) -> None:
    """``sandbox serve --update-response ok``: a zeep call answered in the OK form."""
    from tests.sandbox.test_cli import serve, stop

    proc, url = serve(tmp_path / "ok.db", "--update-response", "ok")
    try:
        client = zeep.Client(url + "?wsdl", transport=LoopbackTransport(cache=None))
        answer = client.service.warehouses_Update(
            login=LOGIN, warehouses={"warehouse": {"id": "W1", "description": "One"}}
        )
        assert (answer.result, answer.warehousesUpdateResponse) == (None, "OK")
    finally:
        stop(proc)


def test_the_schema_is_valid_xsd_and_still_open() -> None:
    """Both schemas compile (deterministic content models), and zeep still reads answers
    carrying elements Centra may add later."""
    from pipeline.sandbox.wsdl import document

    root = etree.fromstring(document("http://127.0.0.1:1/x").encode())
    ok_schema, main = root.iter(f"{XSD}schema")
    for imported in main.findall(f"{XSD}import"):
        main.remove(imported)  # the OK elements, in no namespace: compiled on their own
    etree.XMLSchema(etree.fromstring(etree.tostring(main)))
    etree.XMLSchema(etree.fromstring(etree.tostring(ok_schema)))


def test_zeep_reads_answers_with_fields_it_does_not_know(sb: Sandbox) -> None:
    client = zeep_client(sb)
    operations = client.service._binding._operations
    envelope = (
        '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:ns1="http://www.centra.com/webservices/"><SOAP-ENV:Body>{}</SOAP-ENV:Body>'
        "</SOAP-ENV:Envelope>"
    )
    result = (
        "<ns1:result><ns1:success>true</ns1:success><ns1:errors/><ns1:notices>"
        "<ns1:message>note</ns1:message></ns1:notices><ns1:brandnew>1</ns1:brandnew></ns1:result>"
    )
    answer = operations["products_Update"].process_reply(etree.fromstring(envelope.format(result)))
    assert answer.result.success is True and answer.result.notices.message == ["note"]
    events = (
        "<ns1:events_Get><ns1:events><ns1:event><ns1:id>7</ns1:id><ns1:type>order</ns1:type>"
        "<ns1:entry>30</ns1:entry><ns1:mission>update</ns1:mission><ns1:date>2019-03-27 "
        "12:52:20</ns1:date><ns1:data><ns1:order><ns1:id>30</ns1:id></ns1:order></ns1:data>"
        "<ns1:brandnew/></ns1:event></ns1:events></ns1:events_Get>"
    )
    (event,) = operations["events_Get"].process_reply(etree.fromstring(envelope.format(events)))
    assert (event.id, event.entry, event.mission) == (7, "30", "update")


def _wsdl_paths(operation: str) -> set[str]:
    """Every element path the WSDL types under an operation's request element."""
    from pipeline.sandbox.wsdl import NAMED, request_fields

    out: set[str] = set()

    def walk(fields: Any, path: str, depth: int) -> None:
        for name, type_, _repeated in fields:
            p = f"{path}/{name}"
            out.add(p)
            if isinstance(type_, str) and type_.startswith("tns:"):
                type_ = NAMED[type_[4:]]
            if not isinstance(type_, str) and depth < 12:
                walk(type_, p, depth + 1)

    walk(request_fields(operation), "", 0)
    return out


def test_every_field_a_mapping_can_fill_is_typed() -> None:
    """The pipeline's own entity layouts (every field a mapping can send) are in the WSDL."""
    from pipeline.mapping.entities import ENTITIES, Child, Group, Leaf

    checked = 0
    for entity in ENTITIES.values():
        op = CLIENT_OPERATIONS[entity.operation]
        typed = _wsdl_paths(entity.operation)

        def walk(entries: Any, path: str, entity: Any = entity) -> list[str]:
            out: list[str] = []
            for entry in entries:
                if isinstance(entry, Leaf):
                    out.append(f"{path}/{entry.name}")
                elif isinstance(entry, Group):
                    out += walk(entry.entries, f"{path}/{entry.name}")
                elif isinstance(entry, Child):
                    level = entity.levels[entry.level]
                    out += walk(level.entries, f"{path}/{level.element}")
            return out

        top = entity.top
        paths = walk(top.entries, f"/{op.collection}/{top.element}")
        missing = [p for p in paths if p not in typed]
        assert not missing, (entity.name, missing)
        checked += len(paths)
    assert checked > 200


def test_a_running_sandbox_is_switched_to_the_ok_form(tmp_path: Any) -> None:
    """``sandbox settings --update-response ok`` on a running sandbox, and back."""
    import subprocess
    import sys

    from tests.sandbox.test_cli import serve, stop

    proc, url = serve(tmp_path / "switch.db")
    try:
        client = zeep.Client(url + "?wsdl", transport=LoopbackTransport(cache=None))

        def update() -> Any:
            return client.service.warehouses_Update(
                login=LOGIN, warehouses={"warehouse": {"id": "W1", "description": "One"}}
            )

        assert update().warehousesUpdateResponse is None
        for form in ("ok", "result"):
            switched = subprocess.run(
                [sys.executable, "-m", "pipeline", "sandbox", "settings", "--url", url,
                 "--update-response", form],
                capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            assert switched.returncode == 0, switched.stderr
            assert f'"update_response": "{form}"' in switched.stdout
            answer = update()
            assert (answer.warehousesUpdateResponse == "OK") == (form == "ok")
    finally:
        stop(proc)
