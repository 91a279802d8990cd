"""``run`` end to end: the real CLI against the real sandbox over HTTP, with real files."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.batch.helpers import (
    articles_csv,
    export_tree,
    operations,
    product_rows,
    report_rows,
    texts,
)
from tests.conftest import FIXTURES, PASSWORD, USERNAME, Workspace

SAMPLES = [
    # reverse dependency order: the run must sort them
    "accounts.xlsx",
    "stock.csv",
    "prices.csv",
    "articles.csv",
    "setup.xlsx",
    "sizes.csv",
    "warehouses.csv",
    "markets.csv",
]


def _drop_in_order(ws: Workspace, names: list[str]) -> None:
    for age, name in enumerate(names):
        ws.drop(name)
        stamp = time.time() - 1000 + age
        os.utime(ws.inbox / name, (stamp, stamp))


@pytest.mark.parametrize("form", ["result", "ok"])
def test_samples_in_reverse_order_land_in_dependency_order(
    workspace: Workspace, sandbox: Any, form: str
) -> None:
    """``form`` ok: the sandbox answers every successful update as Centra's API reference
    prints it, ``<xUpdateResponse>OK</xUpdateResponse>``, instead of the guide's ``<result>``."""
    sandbox.configure(update_response=form)
    _drop_in_order(workspace, SAMPLES)
    code, out = workspace.cli_json("run")
    assert code == 0, out
    assert sorted(f["name"] for f in out["files"]) == sorted(SAMPLES)
    assert {f["status"] for f in out["files"]} == {"done"}
    updates = [r for r in sandbox.requests(limit=1000) if r["operation"].endswith("_Update")]
    answered_ok = ["UpdateResponse>OK</" in r["response"] for r in updates]
    assert updates and all(answered_ok) == (form == "ok") and any(answered_ok) == (form == "ok")

    ops = [op for op in operations(sandbox) if op != "events_Get"]
    first = {op: ops.index(op) for op in reversed(ops)}
    last = {op: len(ops) - 1 - ops[::-1].index(op) for op in ops}
    for before, after in [
        ("markets_Update", "products_Update"),
        ("warehouses_Update", "products_Update"),
        ("sizes_Update", "products_Update"),
        ("paymentterms_Update", "accounts_Update"),
        ("shippingterms_Update", "accounts_Update"),
        ("pricelists_Update", "accounts_Update"),
    ]:
        assert last[before] < first[after], (before, after, ops)
    # products (the articles file) before its prices and the stock file
    assert first["products_Update"] < first["pricelists_Update"]

    products = export_tree(sandbox, "products")
    red = "//product[id='T001']/variations/variation[id='T001_RED']"
    blue = "//product[id='T001']/variations/variation[id='T001_BLUE']"
    assert texts(products, f"{red}/sizes/size/id/text()") == ["S", "M", "L"]
    assert texts(products, f"{red}/sizes/size/ean/text()") == [
        "1234567890123",
        "1234567890124",
        "1234567890125",
    ]
    assert texts(products, f"{blue}/sizes/size/ean/text()") == [
        "2234567890123",
        "2234567890124",
        "2234567890125",
    ]
    assert texts(products, f"{blue}/status/text()") == ["inactive"]
    chair = "//product[id='PWC']/variations/variation[id='PWC']/sizes/size[id='OS']"
    stock = {
        w: q
        for w, q in zip(
            texts(products, f"{chair}/warehouseitems/warehouse/id/text()"),
            texts(products, f"{chair}/warehouseitems/warehouse/qty/text()"),
            strict=True,
        )
    }
    assert stock == {"MainWarehouse": "1", "OtherWarehouse": "2"}

    pricelists = export_tree(sandbox, "pricelists")
    eur = "//pricelist[id='EUR-Retail']/items/product"
    assert texts(pricelists, f"{eur}[id='T001']/variation[id='T001_BLUE']/price/text()") == ["234"]
    assert texts(pricelists, f"{eur}[id='PWC']/price/text()") == ["1000"]
    usd = "//pricelist[id='USD-Wholesale']/items/product"
    red_usd = f"{usd}[id='T001']/variation[id='T001_RED']"
    assert texts(pricelists, f"{red_usd}/price/text()") == ["45"]
    assert texts(pricelists, f"{red_usd}/alteredpriceb/text()") == ["150"]
    assert texts(pricelists, f"{usd}[id='PWC']/priceb/text()") == ["1000"]

    accounts = export_tree(sandbox, "accounts")
    assert texts(accounts, "//account[id='12345']/buyers/buyer/email/text()") == [
        "first.last@example.com"
    ]
    assert texts(export_tree(sandbox, "paymentterms"), "//paymentterms/duedays/text()") == ["30"]

    markets = next(f for f in out["files"] if f["name"] == "markets.csv")
    assert report_rows(markets["report"]) == [
        {
            "row": str(n),
            "target": "markets",
            "key": key,
            "status": "sent",
            "message": "",
            "source": f"Market={key}",
        }
        for n, key in ((2, "Retail-Global"), (3, "Retail-Sweden"), (4, "Wholesale-Market"))
    ]
    assert Path(markets["archived"]).read_bytes() == (FIXTURES / "erp" / "markets.csv").read_bytes()
    reports = {f["name"]: report_rows(f["report"]) for f in out["files"]}
    assert [(r["row"], r["target"], r["key"], r["status"]) for r in reports["prices.csv"]] == [
        ("2", "pricelists", "EUR-Retail/T001", "sent"),
        ("3", "pricelists", "EUR-Retail/T001", "sent"),
        ("4", "pricelists", "EUR-Retail/PWC", "sent"),
        ("5", "pricelists", "USD-Wholesale/T001", "sent"),
        ("6", "pricelists", "USD-Wholesale/T001", "sent"),
        ("7", "pricelists", "USD-Wholesale/PWC", "sent"),
    ]
    assert [(r["row"], r["key"], r["status"]) for r in reports["stock.csv"]] == [
        ("2", "PWC", "sent"),
        ("3", "PWC", "sent"),
    ]
    assert [(r["sheet"], r["row"], r["target"], r["key"]) for r in reports["setup.xlsx"]] == [
        ("Payment terms", "2", "paymentterms", "30NET"),
        ("Price dates", "2", "pricealterationdates", "H20"),
        ("Shipping terms", "2", "shippingterms", "DDU"),
    ]
    articles = reports["articles.csv"]
    assert {(r["row"], r["target"]) for r in articles} >= {
        (str(n), t) for n in range(2, 10) for t in ("products", "pricelists", "stock")
    }
    assert all(r["status"] == "sent" for r in articles if r["row"] != "10"), articles
    sizes = [(r["row"], r["key"], r["status"], r["message"]) for r in reports["sizes.csv"]]
    assert (
        sizes
        == [
            ("2", "SML/S", "sent", "Centra: Added new size: S: Small to: Small Medium Large!"),
            ("3", "SML/M", "sent", "Centra: Added new size: M: Medium to: Small Medium Large!"),
            ("4", "SML/L", "sent", "Centra: Added new size: L: Large to: Small Medium Large!"),
            ("5", "OneSize/OS", "sent", "Centra: Added new size: OS:  to: One Size!"),
        ]
        if form == "result"
        else [  # the OK form carries no notices: the same rows, sent
            ("2", "SML/S", "sent", ""),
            ("3", "SML/M", "sent", ""),
            ("4", "SML/L", "sent", ""),
            ("5", "OneSize/OS", "sent", ""),
        ]
    )
    for f in out["files"]:
        sent = {(r.get("sheet"), r["row"]) for r in reports[f["name"]] if r["status"] == "sent"}
        assert (f["rows_sent"], f["rows_failed"]) == (len(sent), 0), f
    assert Path(markets["archived"]).parent.name == time.strftime("%Y-%m-%d", time.gmtime())
    assert [p.name for p in workspace.inbox.iterdir() if not p.name.startswith(".")] == []


def test_one_product_centra_refuses_fails_alone(workspace: Workspace, sandbox: Any) -> None:
    # A sizetable that only Centra knows (created outside the pipeline): the pipeline cannot
    # check sizes against it, so only Centra can refuse a size outside it.
    sizes = (
        '<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.'
        'xmlsoap.org/soap/envelope/"><soap:Body><sizes_Update xmlns="http://www.centra.com/'
        f'webservices/"><login><username>{USERNAME}</username><password>{PASSWORD}</password>'
        "</login><sizes><size><id>OS</id><description/><sizetable><id>Solo</id><description>"
        "Solo</description></sizetable></size></sizes></sizes_Update></soap:Body></soap:Envelope>"
    )
    assert "<ns1:success>true</ns1:success>" in sandbox.handle(sizes.encode()).body.decode()
    rows: list[dict[str, str]] = []
    for n in range(251):
        article = f"A{n:03d}"
        if n == 137:
            # Solo has only OS: M is outside its sizetable.
            rows += product_rows(article, sizetable="Solo", sizes=("M",))
        else:
            rows += product_rows(article, sizetable="Solo", sizes=("OS",))
    (workspace.inbox / "articles-big.csv").write_bytes(articles_csv(rows))
    code, out = workspace.cli_json("run")
    assert code == 1, out
    (result,) = out["files"]
    assert (result["rows_sent"], result["rows_skipped"], result["rows_failed"]) == (250, 0, 1)
    report = report_rows(result["report"])
    bad = [r for r in report if r["key"].endswith("A137")]
    assert [(r["row"], r["target"], r["status"]) for r in bad] == [
        ("139", "products", "failed"),
        ("139", "pricelists", "skipped"),
        ("139", "stock", "skipped"),
    ]
    assert bad[0]["message"].startswith("Centra: ")
    assert "M" in bad[0]["message"]
    assert bad[1]["message"] == "not sent: product A137 failed"
    assert bad[1]["key"] == "EUR-Retail/A137"
    products = export_tree(sandbox, "products")
    assert len(products.xpath("//product")) == 250
    assert products.xpath("//product[id='A137']") == []
    pricelist = export_tree(sandbox, "pricelists")
    assert len(pricelist.xpath("//pricelist[id='EUR-Retail']/items/product")) == 250


def test_a_later_run_resolves_eans_through_the_catalogue_it_journaled(
    workspace: Workspace, sandbox: Any
) -> None:
    """Run 1 sends the articles (indexing their EANs in the journal); run 2 gets a stock file
    keyed only by EAN and nothing else: its codes resolve through that journal."""
    _drop_in_order(workspace, ["sizes.csv", "warehouses.csv", "articles.csv"])
    code, out = workspace.cli_json("run")
    assert code == 0, out
    workspace.drop("stock-by-ean.xlsx")
    code, out = workspace.cli_json("run")
    assert code == 0, out
    assert [(f["name"], f["rows_sent"]) for f in out["files"]] == [("stock-by-ean.xlsx", 3)]
    products = export_tree(sandbox, "products")
    sizes = "//product[id='T001']/variations/variation[id='{}']/sizes/size[id='{}']"
    qty = "/warehouseitems/warehouse[id='MainWarehouse']/qty/text()"
    assert texts(products, sizes.format("T001_RED", "S") + qty) == ["8"]
    assert texts(products, sizes.format("T001_RED", "M") + qty) == ["11"]
    assert texts(products, sizes.format("T001_BLUE", "L") + qty) == ["5"]


def test_a_header_only_article_file_is_done_with_nothing_sent(
    workspace: Workspace, sandbox: Any
) -> None:
    """An ERP export with no rows today is a normal file: archived, nothing sent, exit 0 (the
    bulk mapping path once failed on it, and every later run with it)."""
    header = (FIXTURES / "erp" / "articles.csv").read_bytes().splitlines(keepends=True)[0]
    (workspace.inbox / "articles.csv").write_bytes(header)
    code, out = workspace.cli_json("run")
    assert code == 0, out
    assert [(f["name"], f["rows_sent"]) for f in out["files"]] == [("articles.csv", 0)]
    assert not list(workspace.inbox.glob("*.csv"))
    assert [op for op in operations(sandbox) if op != "events_Get"] == []  # (run pulls first)
