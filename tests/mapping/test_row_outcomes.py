"""Row outcomes a person can act on (issue #16, items 2, 3 and 6).

- ``on_invalid: skip_row`` leaves out only the bad row's own size (or variation): the product
  and its other sizes go, size tables stay whole or nothing, and rows that need the left-out
  size (stock, in the same file or a later one) are skipped naming the row to fix.
- A row skipped because of another row is ``skipped`` and names that row and its file; a failed
  row carries its key.
- Hints: a missing sheet suggests ``sheet:``; an object every row feeds (a target of constants
  only) dropped for one bad row suggests ``if_filled``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from pipeline.batch.catalogue import RunCatalogue
from pipeline.errors import ReadError
from pipeline.mapping import load_mapping_file, map_file
from pipeline.mapping.catalogue import MemoryCatalogue, Unsent
from tests.batch.helpers import export_tree, report_rows, texts
from tests.conftest import make_workspace
from tests.mapping.test_frozen_objects import BAD_L, GOOD_L, MAPPING, _map, artikel

# -- item 6: hints ---------------------------------------------------------------------------


def _write_mapping(tmp_path: Path, text: str, name: str = "mapping.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _book(tmp_path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "Info"
    ws.append(["exported by", "ERP 7"])
    stock = wb.create_sheet("Artikel")
    stock.append(["Artikel", "Name"])
    stock.append(["A1", "Hat"])
    path = tmp_path / "artikel.xlsx"
    wb.save(path)
    return path


def test_a_missing_sheet_suggests_sheet(tmp_path: Path) -> None:
    book = _book(tmp_path)
    named = _write_mapping(
        tmp_path,
        """\
        match: "*.xlsx"
        sheet: Articles
        targets:
          - entity: products
            fields: {product.id: Artikel, product.description: Name}
        """,
    )
    with pytest.raises(ReadError) as caught:
        map_file(load_mapping_file(named), book)
    assert "there is no sheet 'Articles'; the workbook has: 'Info', 'Artikel'" in str(caught.value)
    assert caught.value.hint is not None and "set `sheet:` in the mapping" in caught.value.hint
    numbered = _write_mapping(tmp_path, named.read_text().replace("Articles", "3"), "n.yaml")
    with pytest.raises(ReadError) as caught:
        map_file(load_mapping_file(numbered), book)
    assert caught.value.hint is not None and "set `sheet:` in the mapping" in caught.value.hint


def test_columns_on_another_sheet_suggest_sheet(tmp_path: Path) -> None:
    """No ``sheet:``: the first sheet is read, and its header lacks the columns."""
    book = _book(tmp_path)
    unset = _write_mapping(
        tmp_path,
        """\
        match: "*.xlsx"
        targets:
          - entity: products
            fields: {product.id: Artikel, product.description: Name}
        """,
    )
    with pytest.raises(ReadError) as caught:
        map_file(load_mapping_file(unset), book)
    assert caught.value.hint is not None
    assert (
        "or set `sheet:` if the columns are on another sheet (this is sheet 'Info'; the "
        "workbook also has 'Artikel')" in caught.value.hint
    )


def test_an_object_of_constants_dropped_for_one_row_suggests_if_filled(tmp_path: Path) -> None:
    mapping = _write_mapping(
        tmp_path,
        """\
        match: "*.csv"
        targets:
          - entity: products
            fields:
              product.id: Artikel
              product.description: {column: Name, required: true}
          - entity: markets
            fields:
              market.id: {constant: M1}
              market.description: {constant: Retail}
        """,
    )
    data = tmp_path / "data.csv"
    data.write_text("Artikel,Name\nA1,Hat\nA2,\nA3,Cap\n", encoding="utf-8")
    mapped = map_file(load_mapping_file(mapping), data)
    dropped = [p for p in mapped.problems if p.entity == "markets"]
    assert [(p.row, p.collateral) for p in dropped] == [(2, True), (4, True)]
    for p in dropped:
        assert p.reason == "not sent: markets 'M1' also has row 3, which has a problem"
        assert p.hint is not None and "add `if_filled: COLUMN` to its rules" in p.hint
    # The bad row itself fails for its own cell, with no such hint.
    (own,) = [p for p in mapped.problems if p.entity == "products"]
    assert (own.row, own.collateral, own.hint) == (3, False, None)


# -- item 3: skipped because of another row; failed rows carry their key ---------------------

STOCK = """\
match: "lager*.csv"
read: {encoding: cp1252, delimiter: ";"}
targets:
  - entity: stock
    resolve:
      ean: {column: EAN}
    fields:
      warehouse.id: {constant: Hauptlager}
      warehouse.qty: {column: Menge, type: integer}
"""

NOT_SENT = "which was not sent because row 4 of artikel_export.csv has a problem"


def _stock(tmp_path: Path, lines: list[str], lookups: object) -> Any:
    (tmp_path / "lager.yaml").write_text(STOCK, encoding="utf-8")
    data = tmp_path / "lager_export.csv"
    data.write_bytes(("EAN;Menge\r\n" + "".join(f"{x}\r\n" for x in lines)).encode("cp1252"))
    return map_file(load_mapping_file(tmp_path / "lager.yaml"), data, lookups=lookups)  # type: ignore[arg-type]


class _NoJournal:
    def lookup_ean(self, ean: str) -> None:
        return None

    def lookup_sku(self, sku: str) -> None:
        return None

    def sizes_of(self, table: str) -> None:
        return None


def test_stock_of_a_product_not_sent_is_skipped_naming_the_row_to_fix(tmp_path: Path) -> None:
    """The article file was mapped, but 000123 (bad EAN on row 4) and 000789 (needs the held
    size table) are not sent: their stock rows in a later file are skipped, naming row 4 of
    the article file, instead of failing as 'not in the catalogue'."""
    articles = _map(tmp_path, artikel())
    # The failed row carries its key.
    (own,) = [p for p in articles.problems if p.row == 4 and not p.collateral]
    assert (own.entity, own.key) == ("products", "000123")
    unsent = {u.ean: u for u in articles.unsent}
    assert unsent["4006381333931"] == Unsent(
        "4006381333931",
        None,
        "000123",
        "product '000123'",
        "row 4 of artikel_export.csv has a problem",
    )
    assert unsent["4006381333979"].product == "000789"
    assert unsent[BAD_L].product == "000123"
    assert "4006381333962" not in unsent  # 000456 goes

    catalogue = RunCatalogue(_NoJournal())  # type: ignore[arg-type]
    catalogue.learn(articles.objects)
    catalogue.learn_unsent(articles.unsent)
    stock = _stock(
        tmp_path,
        ["4006381333931;5", "4006381333962;7", "4006381333979;2", "4006381333993;1"],
        catalogue,
    )
    assert [(o.entity, o.key, o.rows) for o in stock.objects] == [("stock", "000456", (3,))]
    by_row = {p.row: p for p in stock.problems}
    assert (
        by_row[2].reason == f"not sent: EAN 4006381333931 belongs to product '000123', {NOT_SENT}"
    )
    assert (by_row[2].collateral, by_row[2].entity, by_row[2].key) == (True, "stock", "000123")
    assert (
        by_row[4].reason == f"not sent: EAN 4006381333979 belongs to product '000789', {NOT_SENT}"
    )
    assert by_row[4].collateral
    # An EAN nobody mapped still fails as unknown.
    assert "is not in the catalogue" in by_row[5].reason and not by_row[5].collateral
    assert stock.failed_rows == {5}


def test_a_rejected_article_file_names_itself(tmp_path: Path) -> None:
    text = MAPPING.replace("targets:", "on_invalid: reject\ntargets:", 1)
    (tmp_path / "artikel.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "artikel_export.csv").write_bytes(artikel())
    mapped = map_file(load_mapping_file(tmp_path / "artikel.yaml"), tmp_path / "artikel_export.csv")
    assert mapped.rejected and mapped.objects == []
    catalogue = MemoryCatalogue()
    catalogue.learn_unsent(mapped.unsent)
    stock = _stock(tmp_path, ["4006381333962;7"], catalogue)
    (problem,) = stock.problems
    assert problem.collateral
    assert problem.reason == (
        "not sent: EAN 4006381333962 belongs to product '000456', which was not sent because "
        f"artikel_export.csv was not sent: {mapped.rejected}"
    )


def test_validate_skips_stock_of_a_product_not_sent(tmp_path: Path) -> None:
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "artikel.yaml").write_text(MAPPING, encoding="utf-8")
    (tmp_path / "mappings" / "lager.yaml").write_text(STOCK, encoding="utf-8")
    (tmp_path / "artikel_export.csv").write_bytes(artikel())
    (tmp_path / "lager_export.csv").write_bytes(b"EAN;Menge\r\n4006381333931;5\r\n")
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "--workspace", str(tmp_path), "validate",
         str(tmp_path / "artikel_export.csv"), str(tmp_path / "lager_export.csv")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert f"EAN 4006381333931 belongs to product '000123', {NOT_SENT}" in done.stdout, done.stdout


def test_run_skips_stock_of_a_product_not_sent(tmp_path: Path, sandbox: Any) -> None:
    """The real CLI against the sandbox: the stock row of a product the same run does not send
    is `skipped` and names the article file's row to fix."""
    ws = make_workspace(tmp_path / "ws", sandbox.url)
    (ws.root / "mappings" / "artikel.yaml").write_text(MAPPING, encoding="utf-8")
    (ws.root / "mappings" / "lager.yaml").write_text(STOCK, encoding="utf-8")
    (ws.inbox / "artikel_export.csv").write_bytes(artikel())
    (ws.inbox / "lager_export.csv").write_bytes(
        b"EAN;Menge\r\n4006381333931;5\r\n4006381333962;7\r\n"
    )
    _, out = ws.cli_json("run")
    results = {f["name"]: f for f in out["files"]}
    rows = report_rows(results["lager_export.csv"]["report"])
    assert [(r["row"], r["status"]) for r in rows] == [("2", "skipped"), ("3", "sent")], rows
    assert (
        f"not sent: EAN 4006381333931 belongs to product '000123', {NOT_SENT}" in rows[0]["message"]
    )


# -- item 2: on_invalid: skip_row ------------------------------------------------------------

SKIP_ROW = MAPPING.replace("targets:", "on_invalid: skip_row\ntargets:", 1).replace(
    "  - entity: pricelists",
    """\
  - entity: stock
    fields:
      product.id: Artikel
      variation.id: Variante
      size.id: Grösse
      warehouse.id: {constant: Hauptlager}
      warehouse.qty: {constant: 3}
  - entity: pricelists""",
)


def _skip_row(tmp_path: Path, data: bytes, **kwargs: Any) -> Any:
    (tmp_path / "artikel.yaml").write_text(SKIP_ROW, encoding="utf-8")
    (tmp_path / "artikel_export.csv").write_bytes(data)
    return map_file(
        load_mapping_file(tmp_path / "artikel.yaml"), tmp_path / "artikel_export.csv", **kwargs
    )


def _sizes(obj: Any) -> list[str]:
    return [s["id"] for v in obj.item["variations"]["variation"] for s in v["sizes"]["size"]]


def test_skip_row_leaves_out_only_the_bad_size(tmp_path: Path) -> None:
    """The messy export, bad EAN on size L of the three-size 000123: the size table goes whole
    (its own cells are fine), 000123 goes with S and M, 000789 goes; the stock of L (same file)
    is skipped naming row 4, and a later file's L is told the same."""
    mapped = _skip_row(tmp_path, artikel())
    objects = {(o.entity, o.key): o for o in mapped.objects}
    assert [k for e, k in objects if e == "sizes"] == ["STG/S", "STG/M", "STG/L", "EG/OS"]
    assert mapped.held_back == []
    assert [k for e, k in objects if e == "products"] == ["000123", "000456", "000789"]
    assert _sizes(objects[("products", "000123")]) == ["S", "M"]
    assert _sizes(objects[("stock", "000123")]) == ["S", "M"]
    assert _sizes(objects[("stock", "000789")]) == ["S", "M"]
    assert ("pricelists", "EUR-Retail/000123") in objects  # the variation's price stays
    problems = [(p.row, p.entity, p.key, p.collateral) for p in mapped.problems]
    assert problems == [
        (4, "products", "000123/000123-01/L", False),
        (4, "stock", "000123/000123-01/L", True),
    ]
    assert mapped.problems[1].reason == (
        "not sent: stock needs size 'L' of variation '000123-01' of product '000123', which "
        "is not sent because row 4 has a problem"
    )
    assert mapped.failed_rows == {4}
    assert _skip_row(tmp_path, artikel(), bulk=False).objects == mapped.objects
    (unsent,) = mapped.unsent
    assert unsent == Unsent(
        BAD_L, None, "000123", "size 'L' of product '000123'",
        "row 4 of artikel_export.csv has a problem",
    )  # fmt: skip
    catalogue = MemoryCatalogue()
    catalogue.learn(mapped.objects)
    catalogue.learn_unsent(mapped.unsent)
    stock = _stock(tmp_path, [f"{BAD_L};1", "4006381333931;5"], catalogue)
    assert [(o.key, _sizes(o)) for o in stock.objects] == [("000123", ["S"])]
    (skipped,) = stock.problems
    assert skipped.collateral and skipped.reason == (
        f"not sent: EAN {BAD_L} belongs to size 'L' of product '000123', {NOT_SENT}"
    )


def test_skip_row_keeps_the_size_table_rule(tmp_path: Path) -> None:
    """A bad cell of the sizes target itself still holds its table back whole, and the
    products that need it, as under skip."""
    data = (
        artikel(GOOD_L)
        .decode("cp1252")
        .replace(";M;Mittel;02;4006381333986", ";M;Medium;02;4006381333986")
        .encode("cp1252")
    )
    mapped = _skip_row(tmp_path, data)
    assert [o.key for o in mapped.objects if o.entity == "sizes"] == ["EG/OS"]
    assert [o.key for o in mapped.objects if o.entity == "products"] == ["000456"]
    assert len(mapped.held_back) == 1


def test_skip_row_a_product_level_problem_costs_the_product(tmp_path: Path) -> None:
    data = artikel(GOOD_L).decode("cp1252").replace("000456;Mütze;", "000456;;").encode("cp1252")
    text = SKIP_ROW.replace(
        "product.description: Bezeichnung",
        "product.description: {column: Bezeichnung, required: true}",
    )
    (tmp_path / "artikel.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "artikel_export.csv").write_bytes(data)
    mapped = map_file(load_mapping_file(tmp_path / "artikel.yaml"), tmp_path / "artikel_export.csv")
    assert [o.key for o in mapped.objects if o.entity == "products"] == ["000123", "000789"]
    assert [o.key for o in mapped.objects if o.entity == "stock"] == ["000123", "000789"]
    assert [(p.row, p.key) for p in mapped.problems if not p.collateral] == [(5, "000456")]


def test_run_skip_row_sends_the_product_without_its_bad_size(tmp_path: Path, sandbox: Any) -> None:
    """The real CLI against the sandbox: STG is created whole, 000123 with S and M; the report
    fails row 4 with its key, skips its stock naming the row; fixed and pushed again, L joins."""
    ws = make_workspace(tmp_path / "ws", sandbox.url)
    (ws.root / "mappings" / "artikel.yaml").write_text(SKIP_ROW, encoding="utf-8")
    (ws.inbox / "artikel_export.csv").write_bytes(artikel())
    code, out = ws.cli_json("run")
    assert code == 1, out
    (result,) = out["files"]
    sizes = export_tree(sandbox, "sizes")
    assert texts(sizes, "//size[sizetable/id='STG']/id/text()") == ["S", "M", "L"]
    products = export_tree(sandbox, "products")
    assert texts(products, "//product/id/text()") == ["000123", "000456", "000789"]
    assert texts(products, "//product[id='000123']//size/id/text()") == ["S", "M"]
    rows = [r for r in report_rows(result["report"]) if r["row"] == "4"]
    got = {r["target"]: (r["key"], r["status"]) for r in rows}
    assert got["products"] == ("000123/000123-01/L", "failed"), rows
    assert got["stock"] == ("000123/000123-01/L", "skipped"), rows
    assert got["sizes"] == ("STG/L", "sent"), rows

    (ws.inbox / "artikel_export.csv").write_bytes(artikel(GOOD_L))
    code, out = ws.cli_json("run")
    assert code == 0, out
    products = export_tree(sandbox, "products")
    assert texts(products, "//product[id='000123']//size/ean/text()") == [
        "4006381333931",
        "4006381333948",
        GOOD_L,
    ]
