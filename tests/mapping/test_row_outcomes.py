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

import textwrap
from pathlib import Path

import pytest
from openpyxl import Workbook

from pipeline.errors import ReadError
from pipeline.mapping import load_mapping_file, map_file

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
