"""Rows into objects: grouping, conflicts, dropped objects, checks across rows, every entity."""

from __future__ import annotations

import pytest

from pipeline.errors import ReadError
from pipeline.mapping import MemoryCatalogue, SizeRef, batches
from pipeline.mapping.engine import MappedObject
from tests.mapping.conftest import Mapper, messages

PRODUCTS = """
match: "*.csv"
{extra}
targets:
  - entity: products
    fields:
      product.id: P
      product.description: Name
      variation.id: V
      variation.description: Colour
      variation.sizetable.id: {constant: SML}
      size.id: S
      size.ean: {column: EAN, type: ean}
  - entity: stock
    fields:
      product.id: P
      variation.id: V
      size.id: S
      warehouse.id: {constant: Main}
      warehouse.qty: {column: Qty, type: integer}
"""

GOOD = """\
P;Name;V;Colour;S;EAN;Qty
T1;Tee;T1_R;Red;S;4006381333931;1
K1;Knit;K1_G;Grey;M;4006381333948;
T1;Tee;T1_B;Blue;S;4006381333955;2
T1;;T1_R;Red;M;4006381333962;3
"""


def products(extra: str = "") -> str:
    return PRODUCTS.replace("{extra}", extra)


def test_rows_become_products_in_order_of_first_appearance(run_mapping: Mapper) -> None:
    mapped = run_mapping(products(), GOOD)
    assert not mapped.problems
    assert [(o.entity, o.key) for o in mapped.objects] == [
        ("products", "T1"),
        ("products", "K1"),
        ("stock", "T1"),
    ]  # fmt: skip  (K1 has no quantity: no stock object)
    t1 = mapped.objects[0]
    assert t1.rows == (2, 4, 5)
    variations = t1.item["variations"]["variation"]
    assert [v["id"] for v in variations] == ["T1_R", "T1_B"]
    assert [s["id"] for s in variations[0]["sizes"]["size"]] == ["S", "M"]
    assert t1.item["description"] == "Tee"  # the empty cell in row 5 is no conflict
    assert t1.depends_on == (("sizes", "SML/S"), ("sizes", "SML/M"))
    stock = mapped.objects[2]
    assert stock.operation == "products_Update" and stock.depends_on == (("products", "T1"),)


def test_a_bad_row_drops_its_whole_product_and_reports_every_row(run_mapping: Mapper) -> None:
    data = GOOD.replace("4006381333962", "4006381333961")
    mapped = run_mapping(products(), data)
    assert [(o.entity, o.key) for o in mapped.objects] == [("products", "K1")]
    texts = messages(mapped)  # in row order
    assert (
        texts[0] == "data.csv, row 2: not sent: products 'T1' also has row 5, which has a problem"
    )
    assert texts[2].startswith("data.csv, row 5, column 'EAN': has a wrong check digit")
    assert mapped.failed_rows == {5}
    collateral = {p.row for p in mapped.problems if p.collateral}
    assert collateral == {2, 4}


def test_conflicting_values_name_both_rows(run_mapping: Mapper) -> None:
    data = GOOD.replace("T1;;T1_R;Red;M", "T1;Tee shirt;T1_R;Red;M")
    mapped = run_mapping(products(), data)
    problem = next(p for p in mapped.problems if not p.collateral)
    assert problem.row == 5 and problem.column == "Name" and problem.value == "Tee shirt"
    assert "conflicts with 'Tee' given for product.description of products 'T1' in row 2" in str(
        problem
    )
    assert "T1" not in {o.key for o in mapped.objects}


def test_variant_ids_unique_across_products_and_names_within_a_product(run_mapping: Mapper) -> None:
    data = (
        "P;Name;V;Colour;S;EAN;Qty\n"
        "A;a;X1;Red;S;;\nB;b;X1;Red;S;;\nC;c;C1;Red;S;;\nC;c;C2;Red;S;;\n"
    )
    mapped = run_mapping(products(), data)
    texts = [str(p) for p in mapped.problems if not p.collateral]
    assert any(
        "row 3" in t and "variation id 'X1' is already used by product 'A'" in t for t in texts
    )
    assert any("has the same name 'Red' as variation 'C1'" in t for t in texts)
    assert [o.key for o in mapped.objects if o.entity == "products"] == ["A"]


def test_size_must_be_in_a_known_sizetable(run_mapping: Mapper) -> None:
    catalogue = MemoryCatalogue()
    catalogue.sizetables["SML"] = ["S", "M", "L"]
    mapped = run_mapping(
        products(), "P;Name;V;Colour;S;EAN;Qty\nA;a;A1;Red;XL;;\n", lookups=catalogue
    )
    (problem,) = mapped.problems
    assert "size 'XL' is not in sizetable 'SML' (it has S, M, L)" in str(problem)
    assert problem.column == "S"


def test_missing_id_is_a_row_problem(run_mapping: Mapper) -> None:
    mapped = run_mapping(products(), "P;Name;V;Colour;S;EAN;Qty\n;Tee;T1_R;Red;S;;\n")
    (problem,) = mapped.problems
    assert "row 2, column 'P': product.id is empty, so the row's values cannot be placed" in str(
        problem
    )


def test_missing_column_and_duplicate_header_stop_the_file(run_mapping: Mapper) -> None:
    with pytest.raises(ReadError) as info:
        run_mapping(products(), "P;Name;V;Colour;Size;EAN;Qty\nA;a;A1;Red;S;;\n")
    assert "no column 'S'" in str(info.value) and "data.csv, line 1" in str(info.value)
    with pytest.raises(ReadError, match=r"'Qty' \(columns G and H\) more than once"):
        run_mapping(products(), "P;Name;V;Colour;S;EAN;Qty;Qty\nA;a;A1;Red;S;;1;2\n")


def test_blank_quantities_leave_the_warehouse_out(run_mapping: Mapper) -> None:
    mapped = run_mapping(products(), GOOD)
    (stock,) = [o for o in mapped.objects if o.entity == "stock"]
    sizes = [
        (v["id"], s["id"], s["warehouseitems"]["warehouse"])
        for v in stock.item["variations"]["variation"]
        for s in v["sizes"]["size"]
    ]
    assert sizes == [
        ("T1_R", "S", [{"id": "Main", "qty": "1"}]),
        ("T1_R", "M", [{"id": "Main", "qty": "3"}]),
        ("T1_B", "S", [{"id": "Main", "qty": "2"}]),
    ]


@pytest.mark.parametrize(
    ("option", "rejected"),
    [
        ("on_invalid: reject", True),
        ("max_invalid_rows: 1", False),
        ("max_invalid_rows: '10%'", True),
    ],
)
def test_reject_whole_file(run_mapping: Mapper, option: str, rejected: bool) -> None:
    data = GOOD.replace("4006381333948", "4006381333940")  # one bad row of four
    mapped = run_mapping(products(option), data)
    assert (mapped.rejected is not None) is rejected
    assert bool(mapped.objects) is not rejected


def test_stock_by_ean_through_the_catalogue(run_mapping: Mapper) -> None:
    catalogue = MemoryCatalogue()
    catalogue.eans["4006381333931"] = SizeRef("T1", "T1_R", "S")
    mapping = """
        match: "*.csv"
        targets:
          - entity: stock
            resolve: {ean: {column: EAN, type: ean}}
            fields:
              warehouse.id: {constant: Main}
              warehouse.qty: {column: Qty, type: integer}
    """
    mapped = run_mapping(mapping, "EAN;Qty\n4006381333931;5\n4006381333948;1\n", lookups=catalogue)
    (stock,) = mapped.objects
    assert stock.item == {
        "id": "T1",
        "variations": {"variation": [{"id": "T1_R", "sizes": {"size": [
            {"id": "S", "warehouseitems": {"warehouse": [{"id": "Main", "qty": "5"}]}}
        ]}}]},
    }  # fmt: skip
    (problem,) = mapped.problems
    assert "row 3, column 'EAN': EAN 4006381333948 is not in the catalogue" in str(problem)
    without = run_mapping(mapping, "EAN;Qty\n4006381333931;5\n")
    assert without.rejected == "EAN resolution needs the catalogue" and not without.objects


def test_uncomputed_formula_is_a_row_problem_only_where_used(run_mapping: Mapper, tmp_path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["Id", "Name", "Note"])
    wb.active.append(["M1", '=UPPER("x")', "=1+1"])
    wb.active.append(["M2", "Two", "=1+1"])
    wb.save(tmp_path / "m.xlsx")
    mapping = (
        'match: "*.xlsx"\ntargets:\n  - entity: markets\n'
        "    fields: {market.id: Id, market.description: Name}\n"
    )
    mapped = run_mapping(mapping, (tmp_path / "m.xlsx").read_bytes(), name="m.xlsx")
    (problem,) = mapped.problems
    assert str(problem).startswith(
        "m.xlsx, sheet 'Sheet', row 2, column 'Name': the formula =UPPER"
    )
    assert [o.key for o in mapped.objects] == ["M2"]


def test_every_entity_can_be_mapped(run_mapping: Mapper) -> None:
    """The entities the default mappings do not cover: salesreps, delivery windows, invoices,
    and orders with cancelled rows and refunds."""
    mapping = """
        match: "*.csv"
        targets:
          - entity: salesreps
            fields: {salesrep.id: Rep, salesrep.name: RepName, mastersalesrep.id: Master}
          - entity: deliverywindows
            fields:
              deliverywindow.id: Window
              deliverywindow.atonce: {column: AtOnce, type: truefalse}
              variation.id: Variant
          - entity: invoices
            fields:
              invoice.id: Invoice
              invoice.order.id: Order
              invoiceitem.itemid: Line
              invoiceitem.qty: {column: Qty, type: integer}
          - entity: orders
            fields:
              order.id: Order
              cancelled.product.id: Article
              cancelled.product.variation.id: Variant
              cancelled.size.id: Size
              cancelled.size.qty: Qty
              cancelled.size.orderitem.id: Line
              cancelled.size.supplierorderitems: {clear: true}
              shipment.id: {constant: 30-1}
              refund.id: Refund
              refund.status: {constant: confirmed}
              refund.product.id: Article
              refund.product.variation.id: Variant
              refund.size.id: Size
              refund.size.qty: Qty
    """
    data = (
        "Rep;RepName;Master;Window;AtOnce;Variant;Invoice;Order;Line;Qty;Article;Size;Refund\n"
        "R1;Rita;R0;W1;no;T001_RED;I1;25;71;1;T001;L;12\n"
    )
    mapped = run_mapping(mapping, data)
    assert not mapped.problems
    items = {o.entity: o for o in mapped.objects}
    assert items["salesreps"].item == {
        "id": "R1",
        "name": "Rita",
        "mastersalesrep": {"salesrep": [{"id": "R0"}]},
    }
    assert items["salesreps"].depends_on == (("salesreps", "R0"),)
    assert items["deliverywindows"].item["atonce"] == "false"
    assert items["invoices"].item["items"] == {"invoiceitem": [{"itemid": "71", "qty": "1"}]}
    order = items["orders"].item
    assert order["cancelled"]["product"][0]["sizes"]["size"][0] == {
        "id": "L", "qty": "1", "orderitem": {"id": "71"}, "supplierorderitems": "",
    }  # fmt: skip
    refund = order["shipments"]["shipment"][0]["refunds"]["refund"][0]
    assert refund["id"] == "12" and refund["status"] == "confirmed"
    assert items["orders"].operation == "orders_Update"


def test_batches_split_by_entity_size_and_large_pricelists() -> None:
    def obj(entity: str, key: str, item: dict) -> MappedObject:
        return MappedObject(
            entity,
            "pricelists_Update" if entity == "pricelists" else "products_Update",
            key,
            item,
            (2,),
        )

    pricelist = obj(
        "pricelists",
        "EUR",
        {"id": "EUR", "currency": "EUR", "items": {"product": [{"id": str(i)} for i in range(5)]}},
    )
    objects = [
        obj("products", "A", {"id": "A"}),
        obj("products", "B", {"id": "B"}),
        obj("stock", "A", {"id": "A"}),
        pricelist,
    ]
    found = [(b.operation, [o.key for o in b.objects]) for b in batches(objects, max_items=2)]
    assert found == [
        ("products_Update", ["A", "B"]),
        ("products_Update", ["A"]),
        ("pricelists_Update", ["EUR", "EUR"]),
        ("pricelists_Update", ["EUR"]),
    ]
    parts = [o for b in batches([pricelist], max_items=2) for o in b.objects]
    assert [p.item["currency"] for p in parts] == ["EUR"] * 3
    assert [len(p.item["items"]["product"]) for p in parts] == [2, 2, 1]
