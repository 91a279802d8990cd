"""The guide's update semantics: creation, partial updates, frozen sizetables, notices,
uniqueness rules, warehouses created by stock, and all-or-nothing requests."""

from __future__ import annotations

from pipeline.sandbox import Sandbox
from tests.sandbox.conftest import SoapClient, export_root, load_catalog, stock, xt

TABLE = "<sizetable><id>SM</id><description>Small Medium</description></sizetable>"
SIZES = (
    f"<sizes><size><id>S</id><description>Small</description>{TABLE}</size>"
    f"<size><id>M</id><description>Medium</description>{TABLE}</size></sizes>"
)


def test_new_sizes_give_exact_notices_and_none_on_resend(sb: Sandbox, client: SoapClient) -> None:
    first = client.call("sizes_Update", SIZES)
    assert first.success
    assert first.notices == [
        "Added new size: S: Small to: Small Medium!",
        "Added new size: M: Medium to: Small Medium!",
    ]
    again = client.call("sizes_Update", SIZES)
    assert again.success and again.notices == [] and again.errors == []
    # Omitting fields is not a change.
    partial = client.call(
        "sizes_Update", "<sizes><size><id>S</id><sizetable><id>SM</id></sizetable></size></sizes>"
    )
    assert partial.success and partial.notices == []


def test_sizetable_cannot_change_once_created(sb: Sandbox, client: SoapClient) -> None:
    assert client.call("sizes_Update", SIZES).success
    before = export_root(sb, "sizes")
    changes = [
        # a new size in an existing sizetable
        (
            "<size><id>L</id><description>Large</description><sizetable><id>SM</id></sizetable></size>",
            "Sizetable SM cannot be changed once created: size L is not in it",
        ),
        # a size's description
        (
            "<size><id>S</id><description>Smol</description><sizetable><id>SM</id>"
            "</sizetable></size>",
            "Sizetable SM cannot be changed once created: size S has description 'Small', "
            "not 'Smol'",
        ),
        # the sizetable's description
        (
            "<size><id>S</id><sizetable><id>SM</id><description>Other</description>"
            "</sizetable></size>",
            "Sizetable SM cannot be changed once created: its description is 'Small Medium', "
            "not 'Other'",
        ),
    ]
    for size, message in changes:
        # A new sizetable in the same request is rolled back too: nothing of the request applies.
        reply = client.call(
            "sizes_Update",
            f"<sizes><size><id>X</id><sizetable><id>NEW</id></sizetable></size>{size}</sizes>",
        )
        assert not reply.success
        assert reply.errors == [message]
        assert reply.notices == ["Added new size: X:  to: !"]
    after = export_root(sb, "sizes")
    assert xt(after, "//size/id") == xt(before, "//size/id") == ["S", "M"]
    assert xt(after, "//size/description") == ["Small", "Medium"]


def test_partial_update_keeps_omitted_fields(sb: Sandbox, client: SoapClient) -> None:
    full = (
        "<customers><customer><id>C1</id><firstname>Ann</firstname><lastname>Ek</lastname>"
        "<email>ann@example.com</email></customer></customers>"
    )
    assert client.call("customers_Update", full).success
    assert client.call(
        "customers_Update",
        "<customers><customer><id>C1</id><firstname>Anna</firstname></customer></customers>",
    ).success
    customer = export_root(sb, "customers").xpath("//customer[id='C1']")[0]
    assert xt(customer, "firstname") == ["Anna"]
    assert xt(customer, "lastname") == ["Ek"]  # not blanked
    assert xt(customer, "email") == ["ann@example.com"]
    # An empty element is an explicit clear.
    assert client.call(
        "customers_Update", "<customers><customer><id>C1</id><lastname/></customer></customers>"
    ).success
    assert xt(export_root(sb, "customers"), "//customer[id='C1']/lastname") == [""]


def test_product_partial_update_and_buyer_merge(sb: Sandbox, client: SoapClient) -> None:
    load_catalog(client)
    reply = client.call(
        "products_Update",
        "<products><product><id>T001</id><description>Turtleneck v2</description>"
        "<variations><variation><id>T001_RED</id><sizes><size><id>M</id>"
        "<ean>9999999999999</ean></size></sizes></variation></variations>"
        "</product></products>",
    )
    assert reply.success, reply.raw
    sweater = export_root(sb, "products").xpath("//product[id='T001']")[0]
    assert xt(sweater, "description") == ["Turtleneck v2"]
    assert xt(sweater, "sku") == ["TURTLE001"]
    assert xt(sweater, "brand/description") == ["Example Brand"]
    red = sweater.xpath("variations/variation[id='T001_RED']")[0]
    assert xt(red, "sizes/size/ean") == ["1234567890123", "9999999999999", "1234567890125"]
    assert xt(red, "sizes/size/sku") == ["01", "02", "03"]
    assert xt(red, "description") == ["Red"]
    # A second buyer is added next to the first, matched by id; the first keeps its fields.
    reply = client.call(
        "accounts_Update",
        "<accounts><account><id>12345</id><buyers><buyer><id>b2</id>"
        "<firstname>Bo</firstname></buyer><buyer><id>12345_buyer1</id>"
        "<lastname>Changed</lastname></buyer></buyers></account></accounts>",
    )
    assert reply.success
    account = export_root(sb, "accounts")
    assert xt(account, "//buyer/id") == ["12345_buyer1", "b2"]
    assert xt(account, "//buyer/firstname") == ["Frist", "Bo"]
    assert xt(account, "//buyer/lastname") == ["Changed"]


def test_stock_to_unknown_warehouse_creates_it(sb: Sandbox, client: SoapClient) -> None:
    load_catalog(client, upto="Product Data: A Chair example")
    reply = client.call(
        "products_Update",
        "<products><product><id>PWC</id><variations><variation><id>PWC</id><sizes>"
        "<size><id>OS</id><warehouseitems><warehouse><id>Popup</id><qty>7</qty>"
        "</warehouse></warehouseitems></size></sizes></variation></variations>"
        "</product></products>",
    )
    assert reply.success and reply.notices == []
    assert stock(sb, "PWC", "OS") == {"Popup": 7}
    assert xt(export_root(sb, "warehouses"), "//warehouse/id") == ["Popup"]
    assert ("warehouse", "Popup", 1) in sb.store.conversion()


def test_catalogue_rules_refuse_the_whole_request(sb: Sandbox, client: SoapClient) -> None:
    load_catalog(client, upto="Product Data: A Chair example")
    cases = [
        (
            "<product><id>OTHER</id><variations><variation><id>T001_RED</id><description>R</description>"
            "<sizetable><id>SML</id></sizetable></variation></variations></product>",
            "Variation T001_RED belongs to product T001, not OTHER: variation ids must be unique "
            "across all products",
        ),
        (
            "<product><id>T001</id><variations><variation><id>T001_GREEN</id><description>Red</description>"
            "<sizetable><id>SML</id></sizetable></variation></variations></product>",
            "Variation T001_GREEN: product T001 already has a variation named 'Red' (T001_RED); "
            "variant names must be unique within a product",
        ),
        (
            "<product><id>T001</id><variations><variation><id>T001_RED</id><sizes><size><id>OS</id>"
            "</size></sizes></variation></variations></product>",
            "Variation T001_RED: size OS is not in its sizetable SML",
        ),
        (
            "<product><id>T001</id><variations><variation><id>T001_RED</id><sizetable><id>OneSize</id>"
            "</sizetable></variation></variations></product>",
            "Variation T001_RED: its sizetable is SML and cannot be changed to OneSize",
        ),
        (
            "<product><id>NEWP</id><variations><variation><id>NEWV</id><sizes><size><id>S</id>"
            "<warehouseitems><warehouse><id>W</id><qty>1</qty></warehouse></warehouseitems></size>"
            "</sizes></variation></variations></product>",
            "Variation NEWV of product NEWP is new and needs a <sizetable><id>",
        ),
        (
            "<product><id>T001</id><variations><variation><id>T001_RED</id><sizes><size><id>S</id>"
            "<warehouseitems><warehouse><id>W</id><qty>many</qty></warehouse></warehouseitems></size>"
            "</sizes></variation></variations></product>",
            "Variation T001_RED size S warehouse W: qty 'many' is not a whole number",
        ),
    ]
    before = sb.export("products")
    for product, message in cases:
        # A valid product first in the same request: it must not be applied either.
        body = (
            "<products><product><id>NEW1</id><description>Should not exist</description>"
            f"</product>{product}</products>"
        )
        reply = client.call("products_Update", body)
        assert not reply.success
        assert reply.errors == [message]
    assert sb.export("products") == before
    assert not [r for r in sb.store.conversion() if r[1] in ("NEW1", "NEWP", "W")]


def test_references_must_exist_and_account_needs_a_buyer(sb: Sandbox, client: SoapClient) -> None:
    load_catalog(client, upto="Product Data: A Chair example")
    reply = client.call(
        "pricelists_Update",
        "<pricelists><pricelist><id>P</id><items><product><id>NOPE</id><price>1</price>"
        "</product><product><id>T001</id><variation><id>PWC</id><price>2</price>"
        "</variation></product></items></pricelist></pricelists>",
    )
    assert not reply.success
    assert reply.errors == [
        "Pricelist P: product NOPE does not exist",
        "Pricelist P: variation PWC is not a variation of T001",
    ]
    reply = client.call(
        "accounts_Update",
        "<accounts><account><id>A1</id><status>active</status><market><id>Nowhere</id>"
        "</market></account></accounts>",
    )
    assert reply.errors == ["Account A1: market Nowhere does not exist"]
    reply = client.call(
        "accounts_Update",
        "<accounts><account><id>A1</id><status>active</status></account></accounts>",
    )
    assert reply.success
    assert reply.notices == [
        "Account A1 has no buyer, so it is not active: send at least one buyer"
    ]


def test_numeric_account_ids_are_centra_ids(sb: Sandbox, client: SoapClient) -> None:
    body = (
        "<accounts><account><id>{}</id><buyers><buyer><id>b</id></buyer></buyers>"
        "</account></accounts>"
    )
    assert client.call("accounts_Update", body.format("777")).success
    assert client.call("accounts_Update", body.format("0777")).success
    assert client.call("accounts_Update", body.format("ACME")).success
    rows = {(ext, internal) for type_, ext, internal in sb.store.conversion() if type_ == "account"}
    assert ("777", 777) in rows
    assert {internal for ext, internal in rows if ext in ("0777", "ACME")} == {778, 779}
