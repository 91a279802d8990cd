"""The sample files and default mappings rebuild the guide's requests (canonical XML)."""

from __future__ import annotations

import copy
import re
import textwrap
from pathlib import Path

import pytest
from lxml import etree

from pipeline.mapping import batches, load_mapping_file, map_file, validate_files

ROOT = Path(__file__).resolve().parents[2]
GUIDE = Path(__file__).resolve().parents[2].parent / "shared" / "centra-erp-guide.md"
SAMPLES = ROOT / "tests" / "fixtures" / "erp"
NS = "{http://www.centra.com/webservices/}"

pytestmark = pytest.mark.skipif(
    not GUIDE.exists(), reason="the Centra guide is not next to the repo"
)


def guide_request(title: str) -> etree._Element:
    """The operation element of the request under the guide's heading ``title``."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split(f"\n## {title}\n", 1)[1]
    request = section.split("### Request", 1)[1]
    xml = re.search(r"```xml\n(.*?)```", request, re.S).group(1)
    return operation(xml.encode())


def operation(xml: bytes) -> etree._Element:
    parser = etree.XMLParser(remove_blank_text=True)
    root = etree.fromstring(xml.strip(), parser)
    op = root[0][0]  # Envelope/Body/<operation>
    op.remove(op.find(f"{NS}login"))
    return op


def canonical(element: etree._Element) -> str:
    # A copy is a tree of its own, with the namespace declarations it needs.
    return etree.tostring(copy.deepcopy(element), method="c14n2", strip_text=True).decode()


def items(op: etree._Element) -> dict[str, str]:
    """Each collection item of a request by its id, canonical."""
    return {item.findtext(f"{NS}id"): canonical(item) for item in op[0]}


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, etree._Element]:
    out = tmp_path_factory.mktemp("xml")
    files = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".csv", ".xlsx"))
    report = validate_files(ROOT, files, xml_out=out)
    assert report.ok, [str(p) for f in report.files for p in f.problems]
    return {p.name: operation(p.read_bytes()) for p in out.iterdir()}


def one(written: dict[str, etree._Element], prefix: str) -> etree._Element:
    found = [op for name, op in written.items() if name.startswith(prefix)]
    assert len(found) == 1, sorted(written)
    return found[0]


@pytest.mark.parametrize(
    ("title", "prefix"),
    [
        ("Markets", "markets.001.markets"),
        ("Product Data: Sizetables", "sizes.001.sizes"),
        ("Product Stock: Warehouses", "warehouses.001.warehouses"),
        ("Pricelists", "prices.001.pricelists"),
        ("Time Alteration Dates", "setup.Price-dates.001"),
        ("Wholesale Accounts: Payment Terms", "setup.Payment-terms.001"),
        ("Wholesale Accounts: Shipping Terms", "setup.Shipping-terms.001"),
        ("Wholesale Accounts: Account Data", "accounts.Accounts.001"),
        ("Wholesale orders: Shipment 1", "shipments.001.orders"),
        ("Direct-to-Consumer orders: Order Shipped", "tracking.001.orders"),
    ],
)
def test_sample_file_gives_the_guides_request(written, title: str, prefix: str) -> None:
    assert canonical(one(written, prefix)) == canonical(guide_request(title))


@pytest.mark.parametrize(
    ("title", "product"),
    [("Product Data: A Sweater example", "T001"), ("Product Data: A Chair example", "PWC")],
)
def test_article_file_gives_the_guides_products(written, title: str, product: str) -> None:
    ours = items(one(written, "articles.001.products"))
    assert ours[product] == items(guide_request(title))[product]


def test_article_file_gives_the_guides_stock_for_the_chair(written) -> None:
    ours = items(one(written, "articles.003.stock"))
    assert ours["PWC"] == items(guide_request("Product Stock: Stock Update"))["PWC"]
    assert canonical(one(written, "stock.001.stock")) == canonical(
        guide_request("Product Stock: Stock Update")
    )


def test_guide_products_from_a_flat_csv(tmp_path: Path) -> None:
    """Both guide products from one flat file, compared with the guide's two requests."""
    mapping = tmp_path / "flat.yaml"
    mapping.write_text(
        textwrap.dedent(
            """
            match: "*.csv"
            targets:
              - entity: products
                fields:
                  product.id: pid
                  product.status: pstatus
                  product.sku: psku
                  product.description: pname
                  product.folder.description: folder
                  product.brand.id: brand
                  product.brand.description: brandname
                  product.collection.id: coll
                  product.collection.description: collname
                  variation.id: vid
                  variation.stockid: vid
                  variation.description: vname
                  variation.sku: vsku
                  variation.status: vstatus
                  variation.sizetable.id: table
                  size.id: size
                  size.sku: ssku
                  size.ean: {column: ean, type: ean, check_digit: false}
            """
        )
    )
    head = (
        "pid,pstatus,psku,pname,folder,brand,brandname,coll,collname,"
        "vid,vname,vsku,vstatus,table,size,ssku,ean"
    )
    common = (
        "T001,active,TURTLE001,Turtleneck sweater,Sweaters / Turtleneck,"
        "Example,Example Brand,XMAS,X-Mas"
    )
    rows = [
        f"{common},T001_RED,Red,RED,active,SML,{s},{n},{e}"
        for s, n, e in (
            ("S", "01", "1234567890123"),
            ("M", "02", "1234567890124"),
            ("L", "03", "1234567890125"),
        )
    ] + [
        f"{common},T001_BLUE,Blue,BLUE,inactive,SML,{s},{n},{e}"
        for s, n, e in (
            ("S", "01", "2234567890123"),
            ("M", "02", "2234567890124"),
            ("L", "03", "2234567890125"),
        )
    ]
    rows.append(
        "PWC,active,,Plain wood chair,Furniture / Chairs,Example,Example Brand,XMAS,X-Mas,"
        "PWC,Plain,,active,OneSize,OS,,"
    )
    data = tmp_path / "flat.csv"
    data.write_text("\n".join([head, *rows]) + "\n")
    mapped = map_file(load_mapping_file(mapping), data)
    assert not mapped.problems
    assert [o.key for o in mapped.objects] == ["T001", "PWC"]
    assert mapped.objects[0].rows == (2, 3, 4, 5, 6, 7)
    for obj, title in zip(
        mapped.objects,
        ("Product Data: A Sweater example", "Product Data: A Chair example"),
        strict=True,
    ):
        (batch,) = batches([obj])
        xml = batch.xml({"username": "example", "password": "???"})
        assert canonical(operation(xml.encode())) == canonical(guide_request(title))
