"""Pricelists stored as a header plus one row per product behave as one merged document."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from lxml import etree

from pipeline.sandbox import Sandbox
from pipeline.sandbox.pricelists import documents
from pipeline.sandbox.soap import Pairs, request_envelope, to_pairs
from pipeline.sandbox.store import merge
from tests.sandbox.conftest import GUIDE_USER, SoapClient, export_root, load_catalog, xt


def update(client: SoapClient, *pricelists: str) -> Any:
    return client.call("pricelists_Update", f"<pricelists>{''.join(pricelists)}</pricelists>")


def pricelist(id_: str, inner: str) -> str:
    return f"<pricelist><id>{id_}</id>{inner}</pricelist>"


def exported(sb: Sandbox) -> Any:
    return export_root(sb, "pricelists")


def product_ids(root: Any, id_: str) -> list[str]:
    return xt(root, f"//pricelist[id='{id_}']/items/product/id")


def create_products(client: SoapClient, ids: list[str]) -> None:
    body = "".join(f"<product><id>{p}</id><name>{p}</name></product>" for p in ids)
    reply = client.call("products_Update", f"<products>{body}</products>")
    assert reply.success, reply.raw


def test_partial_update_keeps_omitted_fields(sb: Sandbox, client: SoapClient) -> None:
    load_catalog(client)
    usd = "//pricelist[id='USD-Wholesale']"
    price = xt(exported(sb), f"{usd}/items/product[id='PWC']/price")
    reply = update(client, pricelist("USD-Wholesale", "<items><product><id>PWC</id>"
                                     "<priceb>900</priceb></product></items>"))  # fmt: skip
    assert reply.success, reply.raw
    root = exported(sb)
    assert xt(root, f"{usd}/items/product[id='PWC']/priceb") == ["900"]
    assert xt(root, f"{usd}/items/product[id='PWC']/price") == price != []
    assert xt(root, f"{usd}/currency") == ["USD"]  # the header is untouched
    reply = update(client, pricelist("USD-Wholesale", "<description>Dollars</description>"))
    assert reply.success
    root = exported(sb)
    assert xt(root, f"{usd}/description") == ["Dollars"]
    assert xt(root, f"{usd}/items/product[id='PWC']/priceb") == ["900"]  # products stay


def test_variation_prices_merge_by_id(sb: Sandbox, catalog: SoapClient) -> None:
    client = catalog  # the guide's catalogue with stock for the sweater
    before = exported(sb)
    t001 = "//pricelist[id='EUR-Retail']/items/product[id='T001']"
    blue = xt(before, f"{t001}/variation[id='T001_BLUE']/price")
    reply = update(client, pricelist("EUR-Retail", "<items><product><id>T001</id><variation>"
                                     "<id>T001_RED</id><price>99</price></variation></product>"
                                     "</items>"))  # fmt: skip
    assert reply.success, reply.raw
    after = exported(sb)
    assert xt(after, f"{t001}/variation[id='T001_RED']/price") == ["99"]
    assert xt(after, f"{t001}/variation[id='T001_BLUE']/price") == blue
    assert len(after.xpath(f"{t001}/variation")) == len(before.xpath(f"{t001}/variation"))
    order_id = sb.place_order(
        "Retail-Sweden", [("T001", "T001_RED", "S", 1)], "EUR-Retail", email="a@example.com"
    )
    order = sb.order(order_id)
    assert order is not None and order["items"][0]["price"] == "99.00"  # orders read the row


def test_refused_request_changes_nothing(sb: Sandbox, client: SoapClient) -> None:
    load_catalog(client)
    before = sb.export("pricelists")
    reply = update(
        client,
        pricelist("EUR-Retail", "<currency>SEK</currency><items><product><id>PWC</id>"
                  "<price>1</price></product></items>"),
        pricelist("NEW", "<items><product><id>T001</id><price>5</price></product></items>"),
        pricelist("EUR-Retail", "<items><product><id>NOPE</id><price>1</price></product>"
                  "<product><id>PWC</id><price>abc</price></product></items>"),
    )  # fmt: skip
    assert not reply.success
    assert reply.errors == [
        "Pricelist EUR-Retail: product NOPE does not exist",
        "Pricelist EUR-Retail: price 'abc' of PWC is not a number",
    ]
    assert sb.export("pricelists") == before
    assert not sb.store.query("SELECT 1 FROM pricelist_entries WHERE pricelist='NEW'")
    assert not [r for r in sb.store.conversion() if r[1] == "NEW"]


def test_export_lists_products_in_order_of_first_appearance(
    sb: Sandbox, client: SoapClient
) -> None:
    load_catalog(client)
    create_products(client, ["A", "B", "C"])
    reply = update(client, pricelist("L", "<items><product><id>B</id><price>1</price>"
                                     "</product><product><id>A</id><price>2</price></product>"
                                     "</items>"))  # fmt: skip
    assert reply.success, reply.raw
    reply = update(client, pricelist("L", "<currency>EUR</currency><items><product><id>C</id>"
                                     "<price>3</price></product><product><id>B</id>"
                                     "<price>4</price></product></items>"))  # fmt: skip
    assert reply.success, reply.raw
    root = exported(sb)
    assert product_ids(root, "L") == ["B", "A", "C"]
    assert xt(root, "//pricelist[id='L']/items/product/price") == ["4", "2", "3"]
    # The header keeps its order too: <items> came before <currency>.
    names = [c.tag for c in root.xpath("//pricelist[id='L']")[0]]
    assert names == ["id", "items", "currency"]


def test_a_product_twice_in_one_request_is_one_entry(sb: Sandbox, client: SoapClient) -> None:
    load_catalog(client)
    reply = update(client, pricelist("EUR-Retail", "<items><product><id>PWC</id>"
                                     "<price>1</price></product><product><id>PWC</id>"
                                     "<priceb>2</priceb></product></items>"))  # fmt: skip
    assert reply.success
    pwc = "//pricelist[id='EUR-Retail']/items/product[id='PWC']"
    root = exported(sb)
    assert len(root.xpath(pwc)) == 1
    assert (xt(root, f"{pwc}/price"), xt(root, f"{pwc}/priceb")) == (["1"], ["2"])


def test_export_equals_the_single_merged_document(sb: Sandbox, client: SoapClient) -> None:
    """Random partial updates, checked against merging each pricelist as one document."""
    load_catalog(client, upto="Product Data: A Chair example")
    plain = [f"P{n}" for n in range(6)]
    create_products(client, plain)
    variations = {"T001": ["T001_RED", "T001_BLUE"], "PWC": ["PWC"], **{p: [] for p in plain}}
    rng = random.Random(7)
    expected: dict[str, Pairs] = {}
    for step in range(60):
        id_ = rng.choice(["EUR", "USD", "SEK"])
        header = ""
        for field in rng.sample(["store", "type", "currency", "description"], rng.randint(0, 2)):
            value = "retail" if field == "type" else f"{field}-{step}"
            header += f"<{field}>{value}</{field}>"
        items = ""
        for pid in rng.sample(sorted(variations), rng.randint(0, 3)):
            fields = rng.sample(["price", "priceb", "alteredprice"], rng.randint(0, 2))
            items += f"<product><id>{pid}</id>"
            items += "".join(f"<{f}>{step}.{n}</{f}>" for n, f in enumerate(fields))
            for vid in rng.sample(variations[pid], rng.randint(0, len(variations[pid]))):
                items += f"<variation><id>{vid}</id><price>{step}</price></variation>"
            items += "</product>"
        body = header + (f"<items>{items}</items>" if items else rng.choice(["", "<items/>"]))
        xml = pricelist(id_, body)
        reply = update(client, xml)
        assert reply.success, reply.raw
        expected[id_] = merge(expected.get(id_, []), to_pairs(etree.fromstring(xml), ["id"]))
    rows = sb.store.query("SELECT id FROM objects WHERE type='pricelist' ORDER BY rowid")
    created = [r[0] for r in rows]
    assert sorted(created) == sorted(expected)  # the guide's pricelists come later
    docs: Pairs = [("pricelist", [("id", id_), *expected[id_]]) for id_ in created]
    want = request_envelope("pricelists_Update", GUIDE_USER, [("pricelists", docs)])
    assert sb.export("pricelists") == want


def test_pricelists_survive_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "centra.db"
    with Sandbox(db=str(db), password="???") as sb:
        client = SoapClient(sb.url)
        load_catalog(client)
        reply = update(client, pricelist("EUR-Retail", "<items><product><id>PWC</id>"
                                         "<price>7</price></product></items>"))  # fmt: skip
        assert reply.success, reply.raw
        before = sb.export("pricelists")
        client.close()
    with Sandbox(db=str(db), password="???") as again:
        assert again.export("pricelists") == before
        client = SoapClient(again.url)
        reply = update(client, pricelist("EUR-Retail", "<items><product><id>PWC</id>"
                                         "<priceb>8</priceb></product></items>"))  # fmt: skip
        assert reply.success
        pwc = "//pricelist[id='EUR-Retail']/items/product[id='PWC']"
        root = exported(again)
        assert (xt(root, f"{pwc}/price"), xt(root, f"{pwc}/priceb")) == (["7"], ["8"])
        client.close()


def test_a_database_with_whole_pricelist_documents_is_migrated(tmp_path: Path) -> None:
    db = tmp_path / "centra.db"
    with Sandbox(db=str(db), password="???") as sb:
        client = SoapClient(sb.url)
        load_catalog(client)
        client.close()
        before = sb.export("pricelists")
        with sb.store.transaction():  # write them as the sandbox did before pricelist_entries
            for id_, doc in documents(sb.store):
                sb.store.db.execute(
                    "UPDATE objects SET data=? WHERE type='pricelist' AND id=?",
                    (json.dumps(doc), id_),
                )
            sb.store.db.execute("DELETE FROM pricelist_entries")
    with Sandbox(db=str(db), password="???") as again:
        assert again.export("pricelists") == before
        assert again.store.query("SELECT count(*) FROM pricelist_entries") != [(0,)]
        order_id = again.place_order("Retail-Global", [("PWC", "PWC", "OS", 1)], "EUR-Retail")
        order = again.order(order_id)
        assert order is not None and order["items"][0]["price"] != ""


def test_a_large_pricelist_in_many_requests(sb: Sandbox, client: SoapClient) -> None:
    load_catalog(client, upto="Product Data: A Chair example")
    ids = [f"X{n:04d}" for n in range(2000)]
    create_products(client, ids)
    for start in range(0, 2000, 100):  # 20 requests of 100 products
        chunk = "".join(
            f"<product><id>{p}</id><price>{n}</price></product>"
            for n, p in enumerate(ids[start : start + 100], start)
        )
        header = "<currency>EUR</currency>" if start == 0 else ""
        reply = update(client, pricelist("BIG", f"{header}<items>{chunk}</items>"))
        assert reply.success, reply.raw
    # Resend the first 10 with a second price: they keep their place and gain the field.
    again = "".join(f"<product><id>{p}</id><priceb>1</priceb></product>" for p in ids[:10])
    assert update(client, pricelist("BIG", f"<items>{again}</items>")).success
    root = exported(sb)
    assert product_ids(root, "BIG") == ids
    assert xt(root, "//pricelist[id='BIG']/items/product/price") == [str(n) for n in range(2000)]
    assert len(xt(root, "//pricelist[id='BIG']/items/product/priceb")) == 10
    assert xt(root, "//pricelist[id='BIG']/currency") == ["EUR"]
    rows = sb.store.query("SELECT count(*) FROM pricelist_entries WHERE pricelist='BIG'")
    assert rows == [(2000,)]
