"""Field rules and types, through real mapping and data files."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.mapping import load_mapping_file
from pipeline.mapping.batches import merge_items
from pipeline.mapping.rules import Bad, has_bad, may_need_trimming
from pipeline.readers import Table
from tests.mapping.conftest import Mapper, messages

CUSTOMERS = """
match: "*.csv"
targets:
  - entity: customers
    fields:
      customer.id: Id
      customer.{field}: {rule}
"""


def one_field(run_mapping: Mapper, field: str, rule: str, *cells: str) -> list:
    """Map one column ``V`` through ``rule``; return the values (or the problem texts)."""
    data = "Id;V\n" + "".join(f"c{i};{cell}\n" for i, cell in enumerate(cells))
    mapped = run_mapping(CUSTOMERS.replace("{field}", field).replace("{rule}", rule), data)
    by_key = {o.key: o.item.get(field.split(".")[0]) for o in mapped.objects}
    problems = {p.row: str(p) for p in mapped.problems}
    return [problems.get(i + 2, by_key.get(f"c{i}")) for i in range(len(cells))]


def test_empty_cell_leaves_the_field_out(run_mapping: Mapper) -> None:
    assert one_field(run_mapping, "firstname", "V", "Anna", "") == ["Anna", None]


def test_clear_if_writes_an_empty_element(run_mapping: Mapper) -> None:
    values = one_field(run_mapping, "state", '{column: V, clear_if: "-"}', "-", "", "CA")
    assert values == ["", None, "CA"]


def test_required_and_default(run_mapping: Mapper) -> None:
    assert one_field(run_mapping, "status", "{column: V, default: active}", "", "inactive") == [
        "active",
        "inactive",
    ]
    (problem,) = one_field(run_mapping, "status", "{column: V, required: true}", "")
    assert "data.csv, row 2, column 'V': is empty, but a value is required" in problem


def test_constant_template_and_value_map(run_mapping: Mapper) -> None:
    mapped = run_mapping(
        """
        match: "*.csv"
        targets:
          - entity: customers
            fields:
              customer.id: {template: "{Shop}-{No}"}
              customer.store: {constant: 1}
              customer.type: {column: Kind, map: {P: private, B: business}, map_default: other}
              customer.status: {column: State, map: {A: active, I: inactive}}
        """,
        "Shop;No;Kind;State\nSE;001;P;A\nDE;002;X;i\nNO;003;B;Q\n",
    )
    items = {o.key: o.item for o in mapped.objects}
    assert items["SE-001"] == {"id": "SE-001", "store": "1", "type": "private", "status": "active"}
    assert items["DE-002"]["type"] == "other" and items["DE-002"]["status"] == "inactive"
    (problem,) = messages(mapped)
    assert (
        "row 4, column 'State': is not one of the mapped values ('A', 'I') (value 'Q')" in problem
    )


@pytest.mark.parametrize(
    ("rule", "cells", "expected"),
    [
        ("{column: V, type: integer}", ["007", " 12 ", "3.0"], ["7", "12", "3"]),
        (
            "{column: V, type: decimal, decimal: ','}",
            ["12,50", "1000", "-0,5"],
            ["12.50", "1000", "-0.5"],
        ),
        (
            "{column: V, type: decimal, decimal: ',', thousands: '.', places: 2}",
            ["1.299,5"],
            ["1299.50"],
        ),
        ("{column: V, type: yesno}", ["Y", "nej", "TRUE"], ["yes", "no", "yes"]),
        ("{column: V, type: truefalse}", ["1", "no"], ["true", "false"]),
        ("{column: V, type: date, date_format: '%d.%m.%Y'}", ["30.11.2020"], ["2020-11-30"]),
        ("{column: V, type: ean}", ["4006381333931", "40063813"], ["4006381333931", None]),
        ("{column: V, type: ean, pad_to: 13}", ["123456789012"], ["0123456789012"]),
        ("{column: V, type: country}", ["NA", "se"], ["NA", "SE"]),
        (
            "{column: V, ascii: true}",
            ["Michael Ständer", "Øster Straße"],
            ["Michael Stander", "Oster Strasse"],
        ),
        ("{column: V, case: upper}", ["abc"], ["ABC"]),
        ("{column: V, max_length: 3, truncate: true}", ["abcdef"], ["abc"]),
        ("{column: V, trim: false}", [" 01"], [" 01"]),
        ("V", ["NULL", "N/A", "None", "1E5"], ["NULL", "N/A", "None", "1E5"]),
    ],
)
def test_types_and_transforms(
    run_mapping: Mapper, rule: str, cells: list[str], expected: list
) -> None:
    values = one_field(run_mapping, "lastname", rule, *cells)
    # a 8-digit EAN with a wrong check digit gives a problem: compare only the good ones
    assert [v if v is None or not v.startswith("data.csv") else None for v in values] == expected


@pytest.mark.parametrize(
    ("rule", "cell", "message"),
    [
        ("{column: V, type: integer}", "1.5", "is not a whole number"),
        ("{column: V, type: decimal}", "1,234", "is ambiguous"),
        ("{column: V, type: decimal, decimal: '.'}", "12,5", 'set `decimal: ","`'),
        (
            "{column: V, type: ean}",
            "1234567890123",
            "wrong check digit: the last digit should be 8",
        ),
        ("{column: V, type: ean}", "1.23456789012E+12", "scientific notation: Excel has rounded"),
        ("{column: V, type: ean}", "12345", "5 digits"),
        ("{column: V, type: country}", "XX", "ISO 3166"),
        ("{column: V, type: date}", "30/11/2020", "is not a date in the format"),
        ("{column: V, type: yesno}", "maybe", "is not a yes/no value"),
        ("{column: V, max_length: 5}", "Stockholm", "is 9 characters long; at most 5"),
    ],
)
def test_bad_values_name_file_row_column_and_value(
    run_mapping: Mapper, rule: str, cell: str, message: str
) -> None:
    (problem,) = one_field(run_mapping, "lastname", rule, cell)
    assert problem.startswith("data.csv, row 2, column 'V': ")
    assert message in problem
    assert f"(value {cell!r})" in problem


def test_conditions_choose_product_or_variant_price(run_mapping: Mapper) -> None:
    mapped = run_mapping(
        """
        match: "*.csv"
        targets:
          - entity: pricelists
            fields:
              pricelist.id: {constant: EUR}
              product.id: Article
              product.price: {column: Price, if_empty: Variant}
              variation.id: Variant
              variation.price: {column: Price, if_filled: Variant}
        """,
        "Article;Variant;Price\nT1;T1_R;10\nT1;T1_B;12\nC1;;99\n",
    )
    # One object per pricelist unit (pricelist + product); a request merges them again.
    assert [o.key for o in mapped.objects] == ["EUR/T1", "EUR/C1"]
    assert [o.rows for o in mapped.objects] == [(2, 3), (4,)]
    (pricelist,) = merge_items(mapped.objects)
    assert pricelist["items"]["product"] == [
        {"id": "T1", "variation": [{"id": "T1_R", "price": "10"}, {"id": "T1_B", "price": "12"}]},
        {"id": "C1", "price": "99"},
    ]
    assert [o.depends_on for o in mapped.objects] == [(("products", "T1"),), (("products", "C1"),)]


def test_a_null_map_value_leaves_the_field_out(run_mapping: Mapper) -> None:
    mapped = run_mapping(
        """
        match: "*.csv"
        targets:
          - entity: orders
            fields:
              order.id: Order
              shipment.id: Shipment
              shipment.capture: {column: Channel, map: {B2C: "yes", B2B: null}}
        """,
        "Order;Channel;Shipment\n30;B2C;8\n25;b2b;s-25\n26;B2X;s-26\n",
    )
    shipments = {o.key: o.item["shipments"]["shipment"] for o in mapped.objects}
    assert shipments == {
        "30": [{"id": "8", "capture": "yes"}],
        "25": [{"id": "s-25"}],
    }
    assert [p.row for p in mapped.problems] == [4]


COLUMN_CASES = {
    "ids, nothing to trim": ["A1", "A2", "A1", "B 7"],
    "one cell to trim": ["A1", " A2", "A3"],
    "trailing white space": ["A1", "A2\u00a0", "A3"],
    "an empty cell": ["A1", "", "A3"],
    "EANs already whole": ["7300000000004", "73000000", "73000000000041"],
    "an EAN to pad": ["7300000000004", "300000000004"],
    "an EAN with a space": ["7300000000004", "7300 000000004"],
    "an EAN in scientific notation": ["7300000000004", "7.3E+12"],
    "an EAN with letters": ["7300000000004", "73000A0000004"],
    "a line break inside": ["A1", "two\nlines", "A3"],
    "a line break at the end": ["A1", "A2\n", "A3"],
    "a tab at the start of the first": ["\tA1", "A2"],
    "an ideographic space at the end of the last": ["A1", "A2\u3000"],
    "a line break beside a space inside": ["A1", "two \n lines"],
}


@pytest.mark.parametrize("case", sorted(COLUMN_CASES))
@pytest.mark.parametrize(
    "rule", ["V", "{column: V, trim: false}", "{column: V, type: ean, check_digit: false, "
             "pad_to: 13}", "{column: V, type: ean}", "{column: V, required: true}"],
)  # fmt: skip
def test_whole_column_shortcuts_give_what_each_cell_gives(
    tmp_path: Path, case: str, rule: str
) -> None:
    """A rule returns a clean column as it is; that must equal converting cell by cell."""
    mapping = tmp_path / "m.yaml"
    mapping.write_text(CUSTOMERS.replace("{field}", "firstname").replace("{rule}", rule))
    (rule_,) = [r for r in load_mapping_file(mapping).targets[0].rules if r.sub == "firstname"]
    cells = COLUMN_CASES[case]
    table = Table(file="t.csv", header=["Id", "V"], columns=[["x"] * len(cells), cells],
                  row_numbers=list(range(2, 2 + len(cells))))  # fmt: skip
    values = rule_.evaluate(table, {"Id": 0, "V": 1})
    expected = [rule_._one(cell) for cell in cells]
    shown = [(v.message, v.value) if isinstance(v, Bad) else v for v in values]
    assert shown == [(v.message, v.value) if isinstance(v, Bad) else v for v in expected]
    assert has_bad(values) == any(isinstance(v, Bad) for v in expected)


def test_may_need_trimming_is_never_false_for_a_column_that_needs_it() -> None:
    import random

    rng = random.Random(5)
    alphabet = [
        "a",
        "Z",
        "7",
        " ",
        "\t",
        "\r",
        "\n",
        "\u00a0",
        "\u2003",
        "\u3000",
        "\u00e4",
        "\u20ac",
    ]
    for _ in range(3000):
        texts = [
            "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4)))
            for _ in range(rng.randint(1, 5))
        ]
        if not may_need_trimming("\n".join(texts)):
            assert all(t == t.strip() for t in texts), texts
    assert not may_need_trimming("A1\nB 2\nSt\u00e4nder \u20ac 5")
    assert may_need_trimming("A1\nB2 ") and may_need_trimming("A1\n B2")
