"""The fast paths added for speed give exactly what the general paths give."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from lxml import etree

from pipeline.centra.xmlbuild import (
    INVALID_XML_CHARS,
    PayloadError,
    RawXml,
    fragment,
    has_invalid_xml_chars,
    has_markup_chars,
)
from pipeline.outbox import csvfile
from pipeline.outbox.export_mapping import CsvOptions, _simple, strip_namespaces
from pipeline.outbox.values import Cell, NumericCell, neutralise
from pipeline.readers.excel import _plain_table
from pipeline.readers.table import ReadOptions, build_table


def _slow_strip(element: etree._Element) -> etree._Element:
    root = copy.deepcopy(element)
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag[:1] == "{":
            el.tag = el.tag.rpartition("}")[2]
    etree.cleanup_namespaces(root)
    return root


@pytest.mark.parametrize(
    "xml",
    [
        "<a xmlns='urn:x'><b>1 &amp; &lt;2</b><c xmlns='urn:y'><d/></c></a>",
        "<p:a xmlns:p='urn:x' xmlns:q='urn:q'><p:b q:at='1'>t</p:b></p:a>",
        "<a xmlns='urn:x'><!-- <p:x --><b><![CDATA[<x>]]></b></a>",
        "<p:a xmlns:p='urn:x'><p:b xml:lang='en' k='v'>t</p:b>tail<?pi x?></p:a>",
        "<e:events xmlns:e='urn:c'><e:event><e:order><e:id>1</e:id></e:order>t</e:event>"
        "</e:events>",
    ],
)
def test_strip_namespaces_matches_renaming_element_by_element(xml: str) -> None:
    doc = etree.fromstring(xml)
    for element in [doc, *doc.iter(etree.Element)]:
        assert etree.tostring(strip_namespaces(element)) == etree.tostring(_slow_strip(element))


ORDER = etree.fromstring(
    "<order><id>7</id><shipments><shipment><x/></shipment><shipment><id>S2</id></shipment>"
    "<shipment><id>S3</id></shipment></shipments><products><product><id>P</id><variation>"
    "<id>V</id></variation><sizes><size><id>M</id><orderitem><id>11</id></orderitem></size>"
    "</sizes></product></products></order>"
)


@pytest.mark.parametrize(
    ("path", "context"),
    [
        ("/order/id", "size"),
        ("/order/shipments/shipment/id", "order"),
        ("/nothere/id", "order"),
        ("../../id", "size"),
        ("../../variation/id", "size"),
        ("orderitem/id", "size"),
        ("id", "size"),
        ("../../../../../../id", "size"),
    ],
)
def test_simple_paths_give_the_xpath_nodes(path: str, context: str) -> None:
    element = next(ORDER.iter(context))
    simple = _simple(path)
    assert simple is not None
    assert simple(element) == etree.XPath(path)(element)


@pytest.mark.parametrize("path", ["sum(qty)", "a[. != '']", "a//b", "/a/../b", "a/..", "@id"])
def test_other_paths_stay_with_xpath(path: str) -> None:
    assert _simple(path) is None


def test_column_checks_agree_with_the_regular_expressions_on_every_character() -> None:
    # Every character of the first plane, and a sample of the others (their UTF-8 is 4 bytes,
    # none below 0x80), alone and between ordinary text (a joined column).
    for code in [*range(0x10000), *range(0x10000, 0x110000, 251)]:
        char = chr(code)
        expected = INVALID_XML_CHARS.search(char) is not None
        assert has_invalid_xml_chars(char) is expected, hex(code)
        assert has_invalid_xml_chars(f"A001\nSt\u00e4nder{char}x\u20ac") is expected, hex(code)
        assert has_markup_chars(f"a{char}b") is (char in "&<>"), hex(code)
    assert not has_invalid_xml_chars("")
    assert has_invalid_xml_chars("\ud800\uffff")  # a lone surrogate does not hide the rest


def test_fragment_fast_path_escapes_and_refuses_as_before() -> None:
    payload = {"a": {"b": "x & <y>", "c": "", "d": ["1", "2"], "e": None, "f": RawXml("<g/>")}}
    assert fragment(payload) == ("<a><b>x &amp; &lt;y&gt;</b><c/><d>1</d><d>2</d><f><g/></f></a>")
    assert fragment({"t": ("1", 2)}) == "<t>1</t><t>2</t>"
    with pytest.raises(PayloadError):
        fragment({"a": "bell \x07"})
    with pytest.raises(PayloadError):
        fragment({"1bad": "x"})
    with pytest.raises(PayloadError):
        fragment({"ok": {"bad name": "x"}})
    with pytest.raises(PayloadError):
        fragment({"a": True})


@pytest.mark.parametrize(
    "rows",
    [
        [["Id ", "Qty", ""], ["A", 1.0, ""], ["", "", ""], ["B", 2.5, ""], ["", "x", ""]],
        [["Id", "Qty"], ["0001", 12345678901234.0], ["C", True]],
    ],
)
def test_plain_excel_table_matches_build_table(rows: list[list[object]]) -> None:
    from pipeline.readers.excel import _text

    options = ReadOptions()
    fast = _plain_table("f.xlsx", rows, options, "S")
    records = [[_text(v, options) for v in row] for row in rows]
    slow = build_table("f.xlsx", records, first_row_number=1, options=options, sheet="S")
    assert fast is not None
    assert (fast.header, [list(c) for c in fast.columns], fast.row_numbers) == (
        slow.header,
        [list(c) for c in slow.columns],
        slow.row_numbers,
    )


def test_plain_excel_table_leaves_values_right_of_the_header_to_build_table() -> None:
    rows: list[list[object]] = [["Id", ""], ["A", "stray"]]
    assert _plain_table("f.xlsx", rows, ReadOptions(), "S") is None


def _render_cell_by_cell(
    header: list[str], rows: list[list[str]], guard: list[bool], options: CsvOptions
) -> bytes:
    guarded = [[neutralise(c) if g else c for c, g in zip(row, guard, strict=True)] for row in rows]
    return csvfile.render(header, guarded, options, None)  # csv writes every row


@pytest.mark.parametrize(
    "rows",
    [
        [["plain", "1", ""], ["x", "y", "z"], ["", "", ""]],
        [["=SUM(A1)", "+1", "-2"], ["@x", "\tx", "\rx"], ["a=b", "x+", "-"]],
        [[NumericCell("-5.00"), Cell("-5.00"), "=x"], ["", "", "@"]],
        [["a\0=b", "\0", "x\0"], ["\0+", "ok", "ok"]],  # a NUL inside a cell
        [['"q"', "a,b", "line\nbreak"], ["a;b", "tab\there", "cr\r"], [" sp ", "é€", "x"]],
    ],
)
def test_outbox_rows_render_as_csv_writes_them(rows: list[list[str]]) -> None:
    for options in (CsvOptions(), CsvOptions(delimiter=";", line_ending="\n"),
                    CsvOptions(delimiter="\t", header=False)):  # fmt: skip
        for guard in ([True, True, True], [False, True, False], [True, False, True]):
            expected = _render_cell_by_cell(["a", "b", "c"], rows, guard, options)
            assert csvfile.render(["a", "b", "c"], rows, options, guard) == expected


def test_outbox_rows_of_one_column_and_of_other_types_render_as_csv_writes_them() -> None:
    options = CsvOptions()
    assert csvfile.render(["a"], [[""], ["x"]], options, [False]) == b'a\r\n""\r\nx\r\n'
    rows: list[list[Any]] = [["x", 1, 2.5], ["y", None, "z"]]
    expected = csvfile.render(["a", "b", "c"], rows, options, None)
    assert csvfile.render(["a", "b", "c"], rows, options, [True, False, False]) == expected
    with pytest.raises(TypeError):
        csvfile.render(["a", "b"], [["x", 1]], options, [True, True])
