"""The readers' limits: what a hostile file is refused for on its first bytes, and what a real
export that comes close to a limit still gets read as."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from pipeline.errors import ReadError
from pipeline.readers import ReadOptions, read_table, safety
from pipeline.readers.safety import MAX_COLUMNS


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def header(columns: int, delimiter: str = ";") -> bytes:
    return delimiter.join(f"c{i}" for i in range(columns)).encode() + b"\n1\n"


def refused(path: Path, options: ReadOptions | None = None) -> str:
    with pytest.raises(ReadError) as info:
        read_table(path, options)
    text = str(info.value)
    assert len(text) < 1_000, text[:2_000]
    return text


# -- columns --------------------------------------------------------------------------------


def test_a_header_of_excels_width_is_read_one_column_more_is_refused(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "wide.csv", header(MAX_COLUMNS)))
    assert len(table.header) == MAX_COLUMNS == 16_384
    text = refused(write(tmp_path, "wider.csv", header(MAX_COLUMNS + 1)))
    assert text.startswith("wider.csv, line 1: the header row has 16,385 columns; at most 16,384")
    assert "What to do:" in text


@pytest.mark.parametrize(
    ("name", "data", "options"),
    [
        ("tabs.tsv", header(20_000, "\t"), None),
        ("pipes.txt", header(20_000, "|"), ReadOptions(delimiter="|")),
        ("utf16.csv", header(20_000).decode().encode("utf-16"), None),
        ("third.csv", b"Report\n\n" + header(20_000), ReadOptions(header_row=3)),
    ],
)
def test_too_wide_a_header_is_refused_whatever_its_delimiter_encoding_or_row(
    tmp_path: Path, name: str, data: bytes, options: ReadOptions | None
) -> None:
    line = options.header_row if options else 1
    text = refused(write(tmp_path, name, data), options)
    assert f"{name}, line {line}: the header row has 20,000 columns" in text


def test_only_the_header_row_counts(tmp_path: Path) -> None:
    # A wide title row above the header, a wide data row, quoted delimiters inside a name.
    data = b"x;" * 20_000 + b"\nA;B\n1;" + b"2;" * 20_000 + b"\n"
    table = read_table(write(tmp_path, "t.csv", data), ReadOptions(header_row=2))
    assert table.header == ["A", "B"] and 0 in table.row_errors
    quoted = b'A;"' + b"," * 20_000 + b'";C\n1;2;3\n'
    assert len(read_table(write(tmp_path, "q.csv", quoted)).header) == 3


def test_a_header_that_does_not_end_in_the_first_bytes_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(safety, "MAX_HEADER_BYTES", 2**20)
    text = refused(write(tmp_path, "long.csv", b"A" * 2**21 + b"\n1\n"))
    assert "the header row does not end within the first 1 MB of the file" in text
    text = refused(write(tmp_path, "many.csv", b"a," * 2**20 + b"\n"))
    assert "the header row has more than 16,384 columns, the most that are read (524,289" in text
    # A file smaller than that is read to its end, header row without a line break included.
    assert read_table(write(tmp_path, "short.csv", b"A;B")).header == ["A", "B"]


def test_a_sheet_wider_than_excel_allows_is_refused_before_its_cells_are_read(
    tmp_path: Path,
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Data"
    sheet.append(["Article"])
    sheet.cell(row=1, column=MAX_COLUMNS + 1, value="beyond XFD")  # openpyxl goes to ZZZ
    path = tmp_path / "wide.xlsx"
    book.save(path)
    text = refused(path)
    assert "wide.xlsx: sheet 'Data' has 16,385 columns; at most 16,384 are read" in text


# -- NUL bytes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "where"),
    [
        (b"\0" * 1_000_000, "65,536 in its first 64 KB"),
        ("Article;Name\nA1;x\n".encode("utf-16-le"), "in its first 64 KB"),  # no BOM
        (b"PK\x03\x04\x14\x00\x06\x00", "2 in its first 64 KB"),  # a workbook named .csv
        (b"Article;Name\n" + b"A1;x\n" * 10 + b"\0" * 1_000, "1,000 in its first 64 KB"),
        (b"A" * 70_000 + b"\0;B\n1;2\n", "in its header row"),
    ],
)
def test_nul_bytes_at_the_start_are_refused(tmp_path: Path, data: bytes, where: str) -> None:
    text = refused(write(tmp_path, "binary.csv", data))
    assert text.startswith("binary.csv: the file contains NUL bytes (") and where in text, text
    assert "it is not a text export (a binary file, or UTF-16 without a byte order mark?)" in text
    assert "encoding: utf-16-le" in text


def test_utf16_is_read_with_a_byte_order_mark_or_a_given_byte_order(tmp_path: Path) -> None:
    text = "Article;Name\nA1;Größe\n"
    for data, options in [
        (text.encode("utf-16"), ReadOptions()),
        (text.encode("utf-16-le"), ReadOptions(encoding="utf-16-le")),
        (text.encode("utf-16-be"), ReadOptions(encoding="utf-16-be", delimiter=";")),
    ]:
        table = read_table(write(tmp_path, "u.csv", data), options)
        assert table.header == ["Article", "Name"] and list(table.columns[1]) == ["Größe"]


def test_utf16_given_without_a_byte_order_mark_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = write(tmp_path, "u.csv", "Article;Name\nA1;x\n".encode("utf-16-le"))
    text = refused(path, ReadOptions(encoding="utf-16"))
    assert "cannot be read as utf-16" in text and "utf-16-le" in text


def test_a_few_stray_nul_bytes_in_a_cell_are_that_cells_problem(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "s.csv", b"A;B\n1;x\0y\n2;z\n"))
    assert list(table.columns[1]) == ["x\0y", "z"]  # the mapping reports the cell
