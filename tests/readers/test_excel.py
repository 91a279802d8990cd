"""Excel: every cell as the text Excel shows, via calamine plus the sheet-XML check."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from pipeline.errors import ReadError
from pipeline.readers import ReadOptions, read_table


def col(table, name: str) -> list[str]:
    return list(table.columns[table.header.index(name)])


def workbook(
    tmp_path: Path, rows: list[list[object]], *, title: str = "Data", formats=None
) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    for cell, fmt in (formats or {}).items():
        ws[cell].number_format = fmt
    path = tmp_path / "book.xlsx"
    wb.save(path)
    return path


def set_cached_value(path: Path, cell: str, value: str) -> None:
    """Give a formula cell a cached value, as Excel does when it saves (openpyxl cannot)."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(
                    rb'(<c r="' + cell.encode() + rb'"[^>]*>.*?</f>)<v\s*/?>(</v>)?',
                    rb"\1<v>" + value.encode() + rb"</v>",
                    data,
                )
            dst.writestr(item, data)
    shutil.move(tmp, path)


def test_numbers_come_out_as_excel_shows_them(tmp_path: Path) -> None:
    path = workbook(
        tmp_path,
        [
            ["EAN", "Qty", "Price", "Code", "Country", "Flag"],
            [1234567890123, 5, 12.5, 123, "NA", True],
            [40063813339310, 0, 0.1, "00123", "NULL", False],
        ],
        formats={"D2": "00000"},
    )
    table = read_table(path)
    assert col(table, "EAN") == ["1234567890123", "40063813339310"]  # no 1.23E+12, no .0
    assert col(table, "Qty") == ["5", "0"]
    assert col(table, "Price") == ["12.5", "0.1"]
    assert col(table, "Code") == ["00123", "00123"]  # number shown with leading zeros; text
    assert col(table, "Country") == ["NA", "NULL"]
    assert col(table, "Flag") == ["TRUE", "FALSE"]


def test_ean_with_leading_zero_keeps_it_when_the_cell_format_shows_it(tmp_path: Path) -> None:
    path = workbook(tmp_path, [["EAN"], [123456789012]], formats={"A2": "0000000000000"})
    assert col(read_table(path), "EAN") == ["0123456789012"]


def test_dates_in_the_declared_format(tmp_path: Path) -> None:
    path = workbook(
        tmp_path, [["Start", "At"], [dt.date(2020, 11, 30), dt.datetime(2020, 11, 30, 8, 15)]]
    )
    table = read_table(path, ReadOptions(date_format="%d.%m.%Y", datetime_format="%d.%m.%Y %H:%M"))
    assert col(table, "Start") == ["30.11.2020"]
    assert col(table, "At") == ["30.11.2020 08:15"]


def test_formula_with_cached_value_is_read(tmp_path: Path) -> None:
    path = workbook(tmp_path, [["A", "B"], [2, "=A2*21"]])
    set_cached_value(path, "B2", "42")
    table = read_table(path)
    assert col(table, "B") == ["42"]
    assert not table.cell_errors


def test_uncomputed_formula_is_an_error_for_that_cell(tmp_path: Path) -> None:
    path = workbook(tmp_path, [["A", "B", "C"], [2, "=A2*21", "x"], [3, 4, "y"]])
    table = read_table(path)
    assert list(table.cell_errors) == [(0, 1)]
    assert "=A2*21 has no computed value" in table.cell_errors[(0, 1)]
    assert col(table, "C") == ["x", "y"]


def test_trailing_empty_rows_and_columns_are_ignored(tmp_path: Path) -> None:
    path = workbook(
        tmp_path, [["A", "B", None], [1, 2, None], [None, None, None], [None, None, None]]
    )
    table = read_table(path)
    assert table.header == ["A", "B"]
    assert table.n_rows == 1 and table.row_numbers == [2]


def test_sheet_by_name_or_index_and_missing_sheet(tmp_path: Path) -> None:
    wb = Workbook()
    wb.active.title = "First"
    wb.active.append(["A"])
    second = wb.create_sheet("Stock")
    second.append(["EAN", "Qty"])
    second.append([1234567890128, 3])
    path = tmp_path / "two.xlsx"
    wb.save(path)
    assert read_table(path, ReadOptions(sheet="Stock")).columns[1] == ["3"]
    assert read_table(path, ReadOptions(sheet=1)).sheet == "Stock"
    with pytest.raises(ReadError) as info:
        read_table(path, ReadOptions(sheet="Lager"))
    assert "'First', 'Stock'" in str(info.value)


def test_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_text("A,B\n")
    with pytest.raises(ReadError, match="Excel workbook"):
        read_table(path)
