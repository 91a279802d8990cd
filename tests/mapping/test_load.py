"""Mapping files are checked when loaded: every problem at once, with file and key path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pipeline.errors import MappingError
from pipeline.mapping import ENTITIES, find_mapping, find_mappings, load_mappings

ROOT = Path(__file__).resolve().parents[2]


def folder_with(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "mappings"
    folder.mkdir()
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(textwrap.dedent(text))
    return folder


def problems(folder: Path) -> list[tuple[str, str]]:
    with pytest.raises(MappingError) as info:
        load_mappings(folder)
    return info.value.problems


def test_default_mappings_load() -> None:
    mappings = load_mappings(ROOT / "mappings")
    entities = {e for m in mappings for e in m.entities}
    assert entities >= {"markets", "sizes", "warehouses", "products", "pricelists", "stock",
                        "accounts", "customers", "orders", "paymentterms", "shippingterms",
                        "pricealterationdates"}  # fmt: skip


def test_every_problem_of_every_file_is_listed_with_its_path(tmp_path: Path) -> None:
    folder = folder_with(
        tmp_path,
        articles="""
            match: "articles*.csv"
            targets:
              - entity: products
                fields:
                  product.id: Article
              - entity: products
                fields:
                  product.id: Article
                  variation.id: Variant
                  size.id: Size
                  size.ean: {column: EAN, type: gtin14}
                  size.eam: EAN
                  variation.colour: Colour
                  product.description: {column: Name, maxlength: 20}
            """,
        other="""
            match: "x.csv"
            targets:
              - entity: product
                fields: {product.id: A}
              - entity: stock
                fields:
                  warehouse.qty: Qty
            """,
        broken="match: [unclosed\n",
    )
    found = problems(folder)
    text = "\n".join(f"{p}: {m}" for p, m in found)
    assert (
        "mappings/articles.yaml: targets[1].fields[\"size.ean\"].type: unknown type 'gtin14'"
        in text
    )
    assert (
        'targets[1].fields["size.eam"]: unknown field path for products '
        "(did you mean 'size.ean'?)" in text
    )
    assert 'targets[1].fields["variation.colour"]' in text
    assert (
        'targets[1].fields["product.description"].maxlength: unknown key '
        "(did you mean 'max_length'?)" in text
    )
    assert (
        "mappings/other.yaml: targets[0].entity: unknown entity 'product' (did you mean 'products'?"
        in text
    )
    # missing Centra ids: warehouse.qty needs the product, variation, size and warehouse ids
    for key in ("product.id", "variation.id", "size.id", "warehouse.id"):
        assert f'mappings/other.yaml: targets[1].fields["{key}"]: is missing' in text
    assert "mappings/broken.yaml: line 2, column 1: is not valid YAML" in text


def test_missing_match_and_targets(tmp_path: Path) -> None:
    found = dict(problems(folder_with(tmp_path, empty="description: nothing\n")))
    assert "mappings/empty.yaml: match" in found
    assert "mappings/empty.yaml: targets" in found


@pytest.mark.parametrize("targets", ["5", "{entity: markets}", "some text"])
def test_targets_that_are_not_a_list_are_named_as_such(tmp_path: Path, targets: str) -> None:
    found = dict(problems(folder_with(tmp_path, m=f'match: "*.csv"\ntargets: {targets}\n')))
    assert found["mappings/m.yaml: targets"] == (
        "must be a list of targets, each item starting with '- entity:'"
    )


def test_rule_needs_exactly_one_source(tmp_path: Path) -> None:
    folder = folder_with(
        tmp_path,
        m="""
            match: "*.csv"
            targets:
              - entity: markets
                fields:
                  market.id: {column: A, constant: B}
                  market.type: {map: {a: retail}}
            """,
    )
    text = "\n".join(f"{p}: {m}" for p, m in problems(folder))
    assert (
        'fields["market.id"]: needs exactly one of column, constant, template, clear '
        "(has column, constant)" in text
    )
    assert 'fields["market.type"]: needs exactly one of' in text


def test_yaml_keeps_norway_and_leading_zeros(tmp_path: Path) -> None:
    folder = folder_with(
        tmp_path,
        m="""
            match: "*.csv"
            targets:
              - entity: customers
                fields:
                  customer.id: Id
                  customer.country: {column: Land, map: {Norge: NO, Sverige: SE}}
                  customer.zipcode: {constant: 01234}
            """,
    )
    (mapping,) = load_mappings(folder)
    rules = {r.path: r for r in mapping.targets[0].rules}
    assert rules["customer.country"].convert("Norge") == "NO"
    assert rules["customer.zipcode"].source.value == "01234"


def test_find_mapping_by_glob_and_sheet() -> None:
    mappings = load_mappings(ROOT / "mappings")
    assert find_mapping(mappings, Path("inbox/ARTICLES_2024.csv")).name == "articles"
    sheets = {m.sheet for m in find_mappings(mappings, Path("setup-2024.xlsx"))}
    assert sheets == {"Payment terms", "Shipping terms", "Price dates"}
    assert (
        find_mapping(mappings, Path("setup.xlsx"), sheet="Price dates").name
        == "pricealterationdates"
    )
    assert find_mapping(mappings, Path("unknown.csv")) is None


def test_every_entity_has_its_operation() -> None:
    assert ENTITIES["stock"].operation == "products_Update"
    assert ENTITIES["paymentterms"].top.element == "paymentterms"
    assert set(ENTITIES) == {
        "markets", "warehouses", "sizes", "paymentterms", "shippingterms", "pricealterationdates",
        "products", "pricelists", "stock", "accounts", "customers", "salesreps",
        "deliverywindows", "orders", "invoices",
    }  # fmt: skip
