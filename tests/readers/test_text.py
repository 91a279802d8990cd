"""CSV/TSV/TXT: the awkward inputs ERPs and Excel produce, read as the text a person sees."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import ReadError
from pipeline.readers import ReadOptions, read_table


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def col(table, name: str) -> list[str]:
    return list(table.columns[table.header.index(name)])


def test_cp1252_with_semicolons_and_special_characters_is_detected(tmp_path: Path) -> None:
    text = "Article;Name;Price\r\nA1;Café Straße;12,50 €\r\nA2;Größe;1.299,00\r\n"
    table = read_table(write(tmp_path, "a.csv", text.encode("cp1252")))
    assert table.encoding == "cp1252"
    assert table.delimiter == ";"
    assert col(table, "Name") == ["Café Straße", "Größe"]
    assert col(table, "Price") == ["12,50 €", "1.299,00"]
    assert table.row_numbers == [2, 3]


def test_utf8_bom_semicolons_crlf(tmp_path: Path) -> None:
    data = "\ufeffMarket;Store\r\nRetail-Global;1\r\nRetail-Sweden;1\r\n".encode()
    table = read_table(write(tmp_path, "m.csv", data))
    assert table.header == ["Market", "Store"]  # no BOM glued to the first name
    assert col(table, "Market") == ["Retail-Global", "Retail-Sweden"]
    assert table.encoding == "utf-8-sig"


def test_missing_values_and_codes_stay_as_written(tmp_path: Path) -> None:
    text = "Code,Country,Note,Zip\n00123,NA,NULL,01234\n1E5,N/A,None,\n"
    table = read_table(write(tmp_path, "c.csv", text.encode()))
    assert col(table, "Code") == ["00123", "1E5"]
    assert col(table, "Country") == ["NA", "N/A"]
    assert col(table, "Note") == ["NULL", "None"]
    assert col(table, "Zip") == ["01234", ""]
    assert all(isinstance(v, str) for c in table.columns for v in c)


def test_embedded_quotes_and_newlines_count_rows_like_a_spreadsheet(tmp_path: Path) -> None:
    text = 'Id,Text\n1,"say ""hi""\nsecond line"\n2,plain\n\n3,after a blank row\n'
    table = read_table(write(tmp_path, "q.csv", text.encode()))
    assert col(table, "Text") == ['say "hi"\nsecond line', "plain", "after a blank row"]
    # row 1 header, row 2 the two-line record, row 3 "plain", row 4 blank, row 5.
    assert table.row_numbers == [2, 3, 5]


def test_header_row_and_skipped_rows_keep_spreadsheet_numbers(tmp_path: Path) -> None:
    text = "Export 2024-05-01\n\nId;Qty\npcs;units\nA;1\nB;2\n"
    table = read_table(
        write(tmp_path, "h.csv", text.encode()), ReadOptions(header_row=3, skip_rows=1)
    )
    assert table.header == ["Id", "Qty"]
    assert col(table, "Id") == ["A", "B"]
    assert table.row_numbers == [5, 6]


def test_forced_encoding_error_names_the_line_and_suggests_cp1252(tmp_path: Path) -> None:
    data = "Id;Name\nA;ok\nB;Café\n".encode("cp1252")
    path = write(tmp_path, "bad.csv", data)
    with pytest.raises(ReadError) as info:
        read_table(path, ReadOptions(encoding="utf-8"))
    assert info.value.line == 3
    assert "bad.csv, line 3" in str(info.value)
    assert "encoding: cp1252" in str(info.value)


def test_ragged_rows_are_reported_per_row(tmp_path: Path) -> None:
    text = "A;B;C\n1;2;3\n4;5;6;7\n8;9\n10;11;12;\n"
    table = read_table(write(tmp_path, "r.csv", text.encode()))
    assert table.n_rows == 4
    assert col(table, "C") == ["3", "6", "", "12"]  # the short row is padded, and reported
    assert set(table.row_errors) == {1, 2}  # a trailing ";" is fine
    assert "4 values" in table.row_errors[1] and "3 columns" in table.row_errors[1]
    assert table.row_errors[2] == "line 4 has 2 cells, the header has 3"


def test_sniffs_tab_and_comma(tmp_path: Path) -> None:
    assert read_table(write(tmp_path, "t.txt", b"A\tB\n1,5\t2\n")).delimiter == "\t"
    assert read_table(write(tmp_path, "c.csv", b'A,B\n"1;5",2\n')).delimiter == ","


def test_empty_file_is_an_error_and_header_only_has_no_rows(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="empty"):
        read_table(write(tmp_path, "empty.csv", b""))
    table = read_table(write(tmp_path, "header.csv", b"A;B\r\n"))
    assert table.header == ["A", "B"] and table.n_rows == 0


def test_trailing_empty_rows_and_columns_are_ignored(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "t.csv", b"A;B;;\n1;2;;\n;;;\n;;;\n"))
    assert table.header == ["A", "B"]
    assert table.n_rows == 1 and not table.row_errors


def test_unsupported_suffix(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="unsupported file type"):
        read_table(write(tmp_path, "a.pdf", b"x"))


@pytest.mark.parametrize(
    ("data", "encoding", "delimiter"),
    [
        ("Article;Name;Price\r\nA1;Café Straße;12,50 €\r\n".encode("cp1252"), "cp1252", ";"),
        ("\ufeffMarket;Store\r\nRetail-Global;1\r\n".encode(), "utf-8", ";"),
        (b'Id,Text\n1,"say ""hi""\nsecond line"\n\n3,x\n', "utf-8", ","),
        (b"A;B;C\n1;2;3\n4;5;6;7\n8;9\n", "latin-1", ";"),
        (b"A;B;;\n1;2;;\n;;;\n", "ascii", ";"),
        ("A;B\n1;ß\n".encode("utf-16"), "utf-16", ";"),
    ],
)
def test_given_encoding_and_delimiter_read_as_detection_does(
    tmp_path: Path, data: bytes, encoding: str, delimiter: str
) -> None:
    # With both given, pandas decodes the bytes itself (no decoding beforehand).
    path = write(tmp_path, "f.csv", data)
    given = read_table(path, ReadOptions(encoding=encoding, delimiter=delimiter))
    found = read_table(path)
    assert (given.header, given.columns, given.row_numbers, given.row_errors) == (
        found.header,
        found.columns,
        found.row_numbers,
        found.row_errors,
    )


def test_given_encoding_and_delimiter_still_name_the_bad_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.csv", "Id;Name\nA;ok\nB;Café\n".encode("cp1252"))
    with pytest.raises(ReadError) as info:
        read_table(path, ReadOptions(encoding="utf-8", delimiter=";"))
    assert info.value.line == 3 and "encoding: cp1252" in str(info.value)
    with pytest.raises(ReadError, match="empty"):
        read_table(
            write(tmp_path, "e.csv", b" \r\n"), ReadOptions(encoding="cp1252", delimiter=";")
        )
    with pytest.raises(ReadError, match="unknown encoding"):
        read_table(path, ReadOptions(encoding="klingon", delimiter=";"))
