"""Objects Centra cannot change once created (size tables) are sent whole or not at all.

The file is the kind a German ERP exports: cp1252, semicolons, decimal commas, ids with leading
zeros, one row per size, and a mapping with a ``sizes`` target beside ``products`` (issue #16,
item 1). One size of the three-size product has an EAN with a wrong check digit: sending the
size table without that size would lose it for good, as Centra refuses later changes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from pipeline.mapping import load_mapping_file, map_file
from pipeline.mapping.catalogue import MemoryCatalogue
from tests.batch.helpers import export_tree, report_rows, texts
from tests.conftest import make_workspace

MAPPING = """\
description: Artikelstamm (one row per size) with its size tables
match: "artikel*.csv"
read:
  encoding: cp1252
  delimiter: ";"
  decimal: ","
targets:
  - entity: sizes
    fields:
      size.sizetable.id: Grössentabelle
      size.sizetable.description: Tabellenname
      size.id: Grösse
      size.description: Grössenname
  - entity: products
    fields:
      product.id: Artikel
      product.description: Bezeichnung
      variation.id: Variante
      variation.stockid: Variante
      variation.description: Farbe
      variation.sizetable.id: Grössentabelle
      size.id: Grösse
      size.sku: {column: Grösse Nr, trim: false}
      size.ean: {column: EAN, type: ean}
  - entity: pricelists
    fields:
      pricelist.id: {constant: EUR-Retail}
      pricelist.store: {constant: 1}
      pricelist.type: {constant: retail}
      pricelist.currency: {constant: EUR}
      pricelist.description: {constant: Euro}
      product.id: Artikel
      variation.id: Variante
      variation.price: {column: Preis EUR, type: decimal}
"""

HEADER = "Artikel;Bezeichnung;Variante;Farbe;Grössentabelle;Tabellenname;Grösse;Grössenname;"
HEADER += "Grösse Nr;EAN;Preis EUR"
GOOD_L = "4006381333955"
BAD_L = "4006381333950"  # the check digit should be 5


def artikel(ean_l: str = BAD_L) -> bytes:
    """The ERP export: 000123 in S, M, L (size table STG), 000456 in one size (EG), and
    000789 in S and M of STG; row 4 (size L of 000123) carries ``ean_l``."""
    rows = [
        HEADER,
        "000123;Wollpullover;000123-01;Grün;STG;Strick Größen;S;Klein;01;4006381333931;49,95",
        "000123;Wollpullover;000123-01;Grün;STG;Strick Größen;M;Mittel;02;4006381333948;49,95",
        f"000123;Wollpullover;000123-01;Grün;STG;Strick Größen;L;Groß;03;{ean_l};49,95",
        "000456;Mütze;000456-01;Grau;EG;Einheitsgröße;OS;Einheitsgröße;00;4006381333962;9,50",
        "000789;Strickjacke;000789-01;Blau;STG;Strick Größen;S;Klein;01;4006381333979;59,95",
        "000789;Strickjacke;000789-01;Blau;STG;Strick Größen;M;Mittel;02;4006381333986;59,95",
    ]
    return ("\r\n".join(rows) + "\r\n").encode("cp1252")


HELD = (
    "size table 'STG' is not sent: Centra cannot change a size table once created, and row 4 "
    "(size L) has a problem; fix that row and push the file again"
)


def _map(tmp_path: Path, data: bytes, **kwargs: Any) -> Any:
    (tmp_path / "artikel.yaml").write_text(MAPPING, encoding="utf-8")
    (tmp_path / "artikel_export.csv").write_bytes(data)
    mapping = load_mapping_file(tmp_path / "artikel.yaml")
    return map_file(mapping, tmp_path / "artikel_export.csv", **kwargs)


def test_a_bad_ean_holds_back_the_whole_size_table_and_the_products_that_need_it(
    tmp_path: Path,
) -> None:
    mapped = _map(tmp_path, artikel())
    keys = [(o.entity, o.key) for o in mapped.objects]
    # No half STG: none of its sizes, and neither product that needs it; EG goes whole.
    assert keys == [
        ("sizes", "EG/OS"),
        ("products", "000456"),
        ("pricelists", "EUR-Retail/000456"),
    ]
    assert mapped.held_back == [HELD]
    by_row: dict[int, list[tuple[str | None, str | None, str, bool]]] = {}
    for p in mapped.problems:
        by_row.setdefault(p.row, []).append((p.entity, p.key, p.reason, p.collateral))
    # The bad row fails for its EAN; every row of STG says why the table is not sent.
    assert ("sizes", "STG/L", HELD, True) in by_row[4]
    assert any(not c and "wrong check digit" in r for _, _, r, c in by_row[4])
    for row, size in ((2, "S"), (3, "M"), (6, "S"), (7, "M")):
        assert ("sizes", f"STG/{size}", HELD, True) in by_row[row], by_row[row]
    # 000789 is fine itself but needs STG: not sent, with the reason and the row to fix.
    for row in (6, 7):
        assert (
            "products",
            "000789",
            "not sent: products '000789' needs size table 'STG', which is not sent because "
            "row 4 has a problem",
            True,
        ) in by_row[row]
    assert 5 not in by_row
    assert mapped.failed_rows == {4}
    assert mapped.rejected is None
    # The row path and the bulk switch agree (a file with a bad cell takes the row path).
    assert _map(tmp_path, artikel(), bulk=False).objects == mapped.objects

    # Fixed, the table goes whole, before the products that need it.
    fixed = _map(tmp_path, artikel(GOOD_L))
    assert fixed.problems == [] and fixed.held_back == []
    sizes = [o.key for o in fixed.objects if o.entity == "sizes"]
    assert sizes == ["STG/S", "STG/M", "STG/L", "EG/OS"]
    assert [o.key for o in fixed.objects if o.entity == "products"] == [
        "000123",
        "000456",
        "000789",
    ]


def test_a_size_table_already_in_centra_is_not_held_back(tmp_path: Path) -> None:
    """A table the catalogue knows was created before: it is frozen as it is, so holding its
    sizes back protects nothing, and its products go (only the bad row's product stays out)."""
    # Without the catalogue the file holds STG back ...
    assert [o.key for o in _map(tmp_path, artikel()).objects if o.entity == "sizes"] == ["EG/OS"]
    # ... with it, STG is known to exist already.
    known = MemoryCatalogue()
    known.sizetables["STG"] = ["S", "M", "L"]
    mapped = _map(tmp_path, artikel(), lookups=known)
    assert mapped.held_back == []
    assert [(o.entity, o.key) for o in mapped.objects if o.entity != "pricelists"] == [
        ("sizes", "STG/S"),
        ("sizes", "STG/M"),
        ("sizes", "EG/OS"),
        ("products", "000456"),
        ("products", "000789"),
    ]


def test_a_problem_in_the_sizes_target_itself_holds_the_table(tmp_path: Path) -> None:
    """A size name that contradicts an earlier row of the same size drops that size: the rest
    of its table must not go without it."""
    data = (
        artikel(GOOD_L)
        .decode("cp1252")
        .replace(
            "000789;Strickjacke;000789-01;Blau;STG;Strick Größen;M;Mittel;",
            "000789;Strickjacke;000789-01;Blau;STG;Strick Größen;M;Medium;",
        )
    )
    mapped = _map(tmp_path, data.encode("cp1252"))
    assert [o.key for o in mapped.objects if o.entity == "sizes"] == ["EG/OS"]
    assert [o.key for o in mapped.objects if o.entity == "products"] == ["000456"]
    assert mapped.failed_rows == {7}
    assert mapped.held_back == [
        "size table 'STG' is not sent: Centra cannot change a size table once created, and "
        "row 7 (size M) has a problem; fix that row and push the file again"
    ]


def test_validate_warns_that_the_size_table_is_held_back(tmp_path: Path) -> None:
    (tmp_path / "mappings").mkdir()
    (tmp_path / "mappings" / "artikel.yaml").write_text(MAPPING, encoding="utf-8")
    data = tmp_path / "artikel_export.csv"
    data.write_bytes(artikel())
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "--workspace", str(tmp_path), "validate", str(data)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "-> 1 sizes, 1 products, 1 pricelists: PROBLEMS" in out, out
    assert f"  warning: {HELD}" in out, out
    assert f"artikel_export.csv, row 2: {HELD}" in out, out


def test_run_sends_no_half_size_table_and_the_whole_one_after_the_fix(
    tmp_path: Path, sandbox: Any
) -> None:
    """The real CLI against the real sandbox: STG is not created at all (so no size of it is
    lost for good); the report says why on each of its rows; fixed and pushed again, STG is
    created with all three sizes and both its products go."""
    ws = make_workspace(tmp_path / "ws", sandbox.url)
    (ws.root / "mappings" / "artikel.yaml").write_text(MAPPING, encoding="utf-8")
    (ws.inbox / "artikel_export.csv").write_bytes(artikel())
    code, out = ws.cli_json("run")
    assert code == 1, out
    (result,) = out["files"]
    sizes = export_tree(sandbox, "sizes")
    assert texts(sizes, "//size[sizetable/id='STG']/id/text()") == []
    assert texts(sizes, "//size[sizetable/id='EG']/id/text()") == ["OS"]
    products = export_tree(sandbox, "products")
    assert texts(products, "//product/id/text()") == ["000456"]
    report = report_rows(result["report"])
    held = {(r["row"], r["key"], r["status"]) for r in report if r["target"] == "sizes"}
    assert held >= {
        ("2", "STG/S", "skipped"),
        ("3", "STG/M", "skipped"),
        ("4", "STG/L", "skipped"),
        ("6", "STG/S", "skipped"),
        ("7", "STG/M", "skipped"),
    }, report
    assert all(
        HELD in r["message"] for r in report if r["target"] == "sizes" and r["key"] != "EG/OS"
    )
    row4 = [r for r in report if r["row"] == "4" and r["target"] == "products"]
    assert [r["status"] for r in row4] == ["failed"]
    assert "wrong check digit" in row4[0]["message"]
    needs = [r for r in report if r["row"] == "6" and r["target"] == "products"]
    assert [(r["status"], r["message"]) for r in needs] == [
        (
            "skipped",
            "not sent: products '000789' needs size table 'STG', which is not sent because "
            "row 4 has a problem",
        )
    ]

    (ws.inbox / "artikel_export.csv").write_bytes(artikel(GOOD_L))
    code, out = ws.cli_json("run")
    assert code == 0, out
    sizes = export_tree(sandbox, "sizes")
    assert texts(sizes, "//size[sizetable/id='STG']/id/text()") == ["S", "M", "L"]
    assert texts(sizes, "//size[sizetable/id='STG']/description/text()") == [
        "Klein",
        "Mittel",
        "Groß",
    ]
    products = export_tree(sandbox, "products")
    assert texts(products, "//product/id/text()") == ["000456", "000123", "000789"]
    assert texts(products, "//product[id='000123']//size/ean/text()") == [
        "4006381333931",
        "4006381333948",
        GOOD_L,
    ]
    assert texts(products, "//product[id='000123']//size/sku/text()") == ["01", "02", "03"]
