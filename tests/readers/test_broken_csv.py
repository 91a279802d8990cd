"""Broken CSVs say what is broken, on which physical line (issue #16, item 5).

An unterminated quote swallows the rest of the file into one cell; a short row has fewer
cells than the header. Both used to surface as "is empty, but a value is required" on
columns that were never there.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pipeline.errors import ReadError
from pipeline.mapping import load_mapping_file, map_file
from pipeline.readers import ReadOptions, read_table

HEADER = "Article;Name;Size;EAN;Qty"

MAPPING = """\
match: "stock*.csv"
read:
  delimiter: ";"
targets:
  - entity: stock
    fields:
      product.id: {column: Article, required: true}
      variation.id: {column: Article, required: true}
      size.id: {column: Size, required: true}
      warehouse.id: {constant: Main}
      warehouse.qty: {column: Qty, type: integer, required: true}
"""


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# -- an unterminated quote ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "newline"),
    [(None, "\n"), (ReadOptions(encoding="cp1252", delimiter=";"), "\r\n")],
)
def test_an_unterminated_quote_names_the_line_it_opens_on(
    tmp_path: Path, options: ReadOptions | None, newline: str
) -> None:
    lines = [HEADER, "T1;Tee;S;;1", 'T1;"Tee;M;;2', "T1;Tee;L;;3", "T2;Top;S;;4"]
    path = write(tmp_path, "stock.csv", newline.join(lines) + newline)
    with pytest.raises(ReadError) as caught:
        read_table(path, options)
    assert caught.value.line == 3
    assert str(caught.value).startswith(
        "stock.csv, line 3: a quoted field opened here is never closed"
    )


def test_quotes_that_close_are_fine_and_an_open_one_is_found(tmp_path: Path) -> None:
    fine = f'{HEADER}\nT1;"Tee ""V"";S";S;;1\n"T2";"Top\nnext";S;;2\nT3;Hat;"OS";"";3\n'
    table = read_table(write(tmp_path, "stock.csv", fine))
    assert table.n_rows == 3 and not table.row_errors
    assert list(table.columns[1]) == ['Tee "V";S', "Top\nnext", "Hat"]
    # The same with a last row whose quote never closes (a "" inside does not close it).
    with pytest.raises(ReadError) as caught:
        read_table(write(tmp_path, "stock.csv", fine + 'T4;"Cap ""X"";OS;;4\nT5;Cap;OS;;5\n'))
    assert caught.value.line == 6


def test_the_line_is_physical_after_a_value_over_two_lines(tmp_path: Path) -> None:
    # Row 3 (the second record) spans lines 3 and 4; the open quote is on line 6, in row 5,
    # after a closed quoted field of the same row.
    text = (
        f'{HEADER}\nT1;Tee;S;;1\nT1;"Tee\nlong";M;;2\nT1;Tee;L;;3\nT2;"Top";"S\n;;4\nT3;Hat;OS;;5\n'
    )
    with pytest.raises(ReadError) as caught:
        read_table(write(tmp_path, "stock.csv", text))
    assert caught.value.line == 6
    assert "a quoted field opened here is never closed" in str(caught.value)


def test_an_unterminated_quote_before_a_long_tail(tmp_path: Path) -> None:
    # The rest of the file is longer than the csv module takes in one field.
    tail = "".join(f"T{n};Tee;S;;{n}\n" for n in range(20_000))
    text = f'{HEADER}\nT1;Tee;S;;1\nT1;"Tee;M;;2\n{tail}'
    with pytest.raises(ReadError) as caught:
        read_table(write(tmp_path, "stock.csv", text))
    assert caught.value.line == 3
    assert "a quoted field opened here is never closed" in str(caught.value)


def test_an_unterminated_quote_in_a_file_with_a_long_row(tmp_path: Path) -> None:
    # A row with too many values sends the file to the csv module first.
    text = f'{HEADER}\nT1;Tee;S;;1;9;9\nT1;Tee;M;;2\nT1;"Tee;L;;3\nT2;Top;S;;4\n'
    with pytest.raises(ReadError) as caught:
        read_table(write(tmp_path, "stock.csv", text), ReadOptions(header_row=1))
    assert caught.value.line == 4


# -- a short row ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        None,
        ReadOptions(encoding="cp1252", delimiter=";"),
        ReadOptions(encoding="utf-16", delimiter=";"),
    ],
)
def test_a_short_row_is_a_row_error_naming_its_line(
    tmp_path: Path, options: ReadOptions | None
) -> None:
    encoding = options.encoding if options and options.encoding else "utf-8"
    lines = [HEADER, "T1;Tee;S;;1", "T1;Tee;M", "T1;Tee;L;;", '"T2";"To;p";S', "T3;Hat;OS;;"]
    table = read_table(write(tmp_path, "s.csv", "\r\n".join(lines) + "\r\n", encoding), options)
    assert table.row_numbers == [2, 3, 4, 5, 6]
    # Rows 4 and 6 end in empty cells but have all five; row 5's ";" inside quotes is no border.
    assert table.row_errors == {
        1: "line 3 has 3 cells, the header has 5",
        3: "line 5 has 3 cells, the header has 5",
    }
    assert [list(c) for c in table.columns][2] == ["S", "M", "L", "S", "OS"]


def test_a_short_row_after_a_value_over_two_lines_names_its_physical_line(
    tmp_path: Path,
) -> None:
    text = f'{HEADER}\nT1;"Tee\nlong";S;;1\nT1;Tee;M\nT1;Tee;L;;3\n'
    table = read_table(write(tmp_path, "s.csv", text))
    assert table.row_numbers == [2, 3, 4]
    assert table.row_errors == {1: "line 4 has 3 cells, the header has 5"}


def test_a_short_row_below_a_title_row_and_a_one_cell_row(tmp_path: Path) -> None:
    text = f"Stock export 2026-12-05\n{HEADER}\nT1;Tee;S;;1\nT2\nT1;Tee;L;;3"  # (no last \n)
    table = read_table(write(tmp_path, "s.csv", text), ReadOptions(header_row=2))
    assert table.row_numbers == [3, 4, 5]
    assert table.row_errors == {1: "line 4 has 1 cell, the header has 5"}


def test_a_short_row_is_one_problem_not_one_per_empty_column(tmp_path: Path) -> None:
    (tmp_path / "stock.yaml").write_text(MAPPING, encoding="utf-8")
    text = f"{HEADER}\nT1;Tee;S;;1\nT1;Tee\nT1;Tee;L;;3\n"
    mapped = map_file(
        load_mapping_file(tmp_path / "stock.yaml"), write(tmp_path, "stock.csv", text)
    )
    own = [(p.row, p.reason) for p in mapped.problems if not p.collateral]
    assert own == [(3, "line 3 has 2 cells, the header has 5")]
    assert [p.row for p in mapped.problems if p.collateral] == [2, 4]
    assert [o.key for o in mapped.objects] == []  # T1 is not sent without its row 3
    assert mapped.failed_rows == {3}


# -- validate -------------------------------------------------------------------------------


def _validate(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "mappings").mkdir(exist_ok=True)
    (tmp_path / "mappings" / "stock.yaml").write_text(MAPPING, encoding="utf-8")
    data = write(tmp_path, "stock.csv", textwrap.dedent(text).lstrip("\n"))
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "--workspace", str(tmp_path), "validate", str(data)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


def test_validate_reports_the_unterminated_quote(tmp_path: Path) -> None:
    done = _validate(
        tmp_path,
        f"""
        {HEADER}
        T1;Tee;S;;1
        T1;Tee;M;;2
        T2;"Top;S;;3
        T3;Hat;OS;;4
        """,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "stock.csv, line 4: a quoted field opened here is never closed" in done.stdout
    assert "is empty" not in done.stdout


def test_validate_reports_the_short_row(tmp_path: Path) -> None:
    done = _validate(
        tmp_path,
        f"""
        {HEADER}
        T1;Tee;S;;1
        T2;Top;S
        T3;Hat;OS;;4
        """,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "stock.csv, row 3: line 3 has 3 cells, the header has 5" in done.stdout
    assert "is empty" not in done.stdout
    assert "1 problem(s) found." in done.stdout
