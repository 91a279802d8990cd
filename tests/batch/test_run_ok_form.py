"""``run`` end to end with the sandbox answering every successful update in the reference's
form, ``<xUpdateResponse>OK</xUpdateResponse>``: the real CLI against the real sandbox over
HTTP, the same files and checks as the main test of ``test_run_e2e.py``.

The OK form carries no notices, so the sizes report has no "Added new size" messages; every
row of every chunk still counts as sent.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.batch.helpers import export_tree, operations, report_rows, texts
from tests.batch.test_run_e2e import SAMPLES, _drop_in_order
from tests.conftest import FIXTURES, Workspace


def test_samples_land_when_centra_answers_ok(workspace: Workspace, sandbox: Any) -> None:
    sandbox.settings.update_response = "ok"
    _drop_in_order(workspace, SAMPLES)
    code, out = workspace.cli_json("run")
    assert code == 0, out
    assert sorted(f["name"] for f in out["files"]) == sorted(SAMPLES)
    assert {f["status"] for f in out["files"]} == {"done"}

    # The sandbox really answered in the OK form (and the pipeline read it as success).
    log = sandbox.requests(limit=1000)
    updates = [r for r in log if r["operation"].endswith("_Update")]
    assert updates and all(
        "UpdateResponse>OK</" in r["response"] and "<ns1:result>" not in r["response"]
        for r in updates
    ), updates[:1]

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
    stock = dict(
        zip(
            texts(products, f"{chair}/warehouseitems/warehouse/id/text()"),
            texts(products, f"{chair}/warehouseitems/warehouse/qty/text()"),
            strict=True,
        )
    )
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
        {"row": str(n), "target": "markets", "key": key, "status": "sent", "message": ""}
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
    assert all(r["status"] == "sent" for r in reports["setup.xlsx"]), reports["setup.xlsx"]
    articles = reports["articles.csv"]
    assert {(r["row"], r["target"]) for r in articles} >= {
        (str(n), t) for n in range(2, 10) for t in ("products", "pricelists", "stock")
    }
    assert all(r["status"] == "sent" for r in articles if r["row"] != "10"), articles
    sizes = [(r["row"], r["key"], r["status"], r["message"]) for r in reports["sizes.csv"]]
    # The OK form has no notices: the same rows, sent, without Centra's "Added new size".
    assert sizes == [
        ("2", "SML/S", "sent", ""),
        ("3", "SML/M", "sent", ""),
        ("4", "SML/L", "sent", ""),
        ("5", "OneSize/OS", "sent", ""),
    ]
    sizes_state = export_tree(sandbox, "sizes")
    assert texts(sizes_state, "//size[sizetable/id='SML']/id/text()") == ["S", "M", "L"]
    assert texts(sizes_state, "//size[sizetable/id='OneSize']/id/text()") == ["OS"]
    for f in out["files"]:
        sent = {(r.get("sheet"), r["row"]) for r in reports[f["name"]] if r["status"] == "sent"}
        assert (f["rows_sent"], f["rows_failed"]) == (len(sent), 0), f
    assert Path(markets["archived"]).parent.name == time.strftime("%Y-%m-%d", time.gmtime())
    assert [p.name for p in workspace.inbox.iterdir() if not p.name.startswith(".")] == []
