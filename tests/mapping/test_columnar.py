"""The bulk path gives exactly what the general path gives, or steps aside.

Every file is mapped twice, with ``map_file(..., bulk=False)`` (row by row) and with the bulk
path (column by column); objects, keys, rows, dependencies, payload dicts, request XML and the
catalogue learnt from them must be equal. Files with something to report must leave the bulk
path, so that the general path reports it.
"""

from __future__ import annotations

import random
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pipeline.centra.xmlbuild import Prerendered, fragment
from pipeline.mapping import (
    MemoryCatalogue,
    batches,
    columnar,
    load_mapping_file,
    load_mappings,
    map_file,
)
from pipeline.mapping.batches import Batch
from pipeline.mapping.columnar import _factorize, _renumber
from pipeline.mapping.engine import MappedFile
from pipeline.mapping.validate import find_mappings

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "tests" / "fixtures" / "erp"
LOGIN = {"username": "u", "password": "***"}


def plain(value: Any) -> Any:
    """Payload with every Prerendered read as the dict it stands for."""
    if isinstance(value, Prerendered):
        return plain(value.as_dict())
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def both(mapping: Any, path: Path, lookups: Any = None) -> tuple[MappedFile, MappedFile]:
    general = map_file(mapping, path, lookups=lookups, bulk=False)
    bulk = map_file(mapping, path, lookups=lookups)
    return general, bulk


def assert_same(general: MappedFile, bulk: MappedFile, *, bulk_used: bool = True) -> None:
    assert [str(p) for p in bulk.problems] == [str(p) for p in general.problems]
    assert bulk.rejected == general.rejected
    took_bulk = any(isinstance(o.item, Prerendered) for o in bulk.objects)
    assert took_bulk == (bulk_used and bool(bulk.objects))
    assert [(o.entity, o.operation, o.key, o.rows, o.depends_on) for o in bulk.objects] == [
        (o.entity, o.operation, o.key, o.rows, o.depends_on) for o in general.objects
    ]
    assert bulk.objects == general.objects and general.objects == bulk.objects
    for b, g in zip(bulk.objects, general.objects, strict=True):
        assert plain(b.item) == g.item, b.key
        assert b.item.get("id") == g.item.get("id")
    for size in (1, 3, 250):
        got = [(x.operation, x.rows, x.xml(LOGIN)) for x in batches(bulk.objects, size)]
        want = [(x.operation, x.rows, x.xml(LOGIN)) for x in batches(general.objects, size)]
        assert got == want, size
        # The sender's way: merge_items and the client's envelope (tests/batch/test_sender.py).
        got_sent = [fragment(x.payload()) for x in batches(bulk.objects, size)]
        want_sent = [fragment(x.payload()) for x in batches(general.objects, size)]
        assert got_sent == want_sent, size
    # Requests of objects that are not next to each other (a sender isolating a refusal).
    for entity in {o.entity for o in general.objects}:
        mine = [i for i, o in enumerate(general.objects) if o.entity == entity][::2]
        got_xml = Batch(general.objects[mine[0]].operation, tuple(bulk.objects[i] for i in mine))
        want_xml = Batch(got_xml.operation, tuple(general.objects[i] for i in mine))
        assert got_xml.xml(LOGIN) == want_xml.xml(LOGIN), entity
    learnt_bulk, learnt_general = MemoryCatalogue(), MemoryCatalogue()
    learnt_bulk.learn(bulk.objects)
    learnt_general.learn(general.objects)
    assert learnt_bulk.eans == learnt_general.eans
    assert learnt_bulk.skus == learnt_general.skus
    assert learnt_bulk.sizetables == learnt_general.sizetables


def test_every_sample_file_maps_the_same_both_ways() -> None:
    mappings = load_mappings(ROOT / "mappings")
    catalogue = MemoryCatalogue()
    for name in ("sizes.csv", "articles.csv", "articles-giftset.csv"):
        for mapping in find_mappings(mappings, SAMPLES / name):
            catalogue.learn(map_file(mapping, SAMPLES / name, bulk=False).objects)
    compared = 0
    for path in sorted(SAMPLES.iterdir()):
        for mapping in find_mappings(mappings, path):
            general, bulk = both(mapping, path, catalogue)
            assert not general.problems, path.name
            assert_same(general, bulk)
            compared += 1
    assert compared >= 19


ARTICLES = """
match: "*.csv"
read: {delimiter: ";"}
targets:
  - entity: products
    fields:
      product.id: P
      product.sku: PS
      product.description: Name
      product.brand.id: Brand
      variation.id: V
      variation.sku: VS
      variation.description: Colour
      variation.sizetable.id: Table
      size.id: S
      size.sku: {column: SS, trim: false}
      size.ean: {column: EAN, type: ean, check_digit: false}
  - entity: pricelists
    fields:
      pricelist.id: {constant: EUR}
      pricelist.currency: {constant: EUR}
      product.id: P
      variation.id: V
      variation.price: {column: Price, type: decimal}
  - entity: pricelists
    fields:
      pricelist.id: {constant: USD}
      product.id: P
      variation.id: V
      variation.price: {column: USD, type: decimal}
      variation.priceb: {column: RRP, type: decimal}
  - entity: stock
    fields:
      product.id: P
      variation.id: V
      size.id: S
      warehouse.id: {constant: Main}
      warehouse.qty: {column: Main, type: integer}
  - entity: stock
    fields:
      product.id: P
      variation.id: V
      size.id: S
      warehouse.id: {constant: Other}
      warehouse.qty: {column: Other, type: integer}
"""
HEADER = "P;PS;Name;Brand;V;VS;Colour;Table;S;SS;EAN;Price;USD;RRP;Main;Other"


def random_articles(rng: random.Random, uniform: bool = False) -> str:
    """Products with random shapes, rows shuffled or not, blanks where the guide allows;
    ``uniform``: every product with the same number of variations, each with the same
    number of sizes (as many catalogues are)."""
    rows = []
    ean = 7300000000000
    variations, sizes = rng.randint(1, 3), rng.randint(1, 4)
    for p in range(rng.randint(1, 12)):
        pid = f"P{p}"
        name = rng.choice(["Tee", "Knit & Co", "<Crew>", "Ünïcode ß", "Sweater"])
        brand = rng.choice(["", "B1", "B2"])
        used_names: set[str] = set()
        for v in range(variations if uniform else rng.randint(1, 3)):
            colour = rng.choice(["Red", "Blue", "Green", "Grey", ""])
            if colour in used_names:
                colour = ""
            used_names.add(colour)
            table = rng.choice(["SML", "ONE", ""])
            price = rng.choice(["", "10,00", "99,50"])
            usd, rrp = rng.choice(["", "12,00"]), rng.choice(["", "20,00"])
            for s in rng.sample(["S", "M", "L", "XL"], sizes if uniform else rng.randint(1, 4)):
                ean += 1
                cells = [
                    pid,
                    f"ST{p}" if rng.random() < 0.9 else "",
                    name if rng.random() < 0.8 else "",
                    brand,
                    f"{pid}_{v}",
                    f"V{v}",
                    colour,
                    table,
                    s,
                    rng.choice([f"0{s}", "", " 1"]),
                    rng.choice([str(ean), "", str(ean)[1:]]),
                    price,
                    usd,
                    rrp,
                    rng.choice(["", "0", "5"]),
                    rng.choice(["", "3"]),
                ]
                rows.append(cells)
                if rng.random() < 0.1:
                    rows.append(cells)  # the same size twice, agreeing
    if rng.random() < 0.5:
        rng.shuffle(rows)
    return "\n".join([HEADER, *(";".join(r) for r in rows)]) + "\n"


def write(tmp_path: Path, mapping: str, data: str) -> tuple[Any, Path]:
    (tmp_path / "m.yaml").write_text(textwrap.dedent(mapping), encoding="utf-8")
    (tmp_path / "data.csv").write_text(data, encoding="utf-8")
    return load_mapping_file(tmp_path / "m.yaml"), tmp_path / "data.csv"


@pytest.mark.parametrize("seed", range(40))
def test_random_article_files_map_the_same_both_ways(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    mapping, path = write(tmp_path, ARTICLES, random_articles(rng))
    general, bulk = both(mapping, path)
    assert not general.problems
    assert_same(general, bulk)


@pytest.mark.parametrize("seed", range(20))
def test_uniform_shapes_written_inside_their_parents_map_the_same_both_ways(
    tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Children written inside their parent's f-string (every parent with the same few
    children: always a size's warehouses here, and variations and sizes) give the same XML."""
    fused: list[str] = []
    original = columnar._Entity._fused

    def spy(self: Any, name: str, n: int) -> Any:
        found = original(self, name, n)
        if found is not None:
            fused.append(f"{self.entity.name}.{name}")
        return found

    monkeypatch.setattr(columnar._Entity, "_fused", spy)
    rng = random.Random(seed)
    mapping, path = write(tmp_path, ARTICLES, random_articles(rng, uniform=True))
    general, bulk = both(mapping, path)
    assert not general.problems
    assert_same(general, bulk)
    assert fused  # (which levels depends on the blanks drawn)


@pytest.mark.parametrize("seed", range(10))
def test_sizes_are_checked_against_known_sizetables_the_same_way(tmp_path: Path, seed: int) -> None:
    catalogue = MemoryCatalogue()
    catalogue.sizetables = {"SML": ["S", "M", "L"], "ONE": ["S", "M", "L", "XL"]}
    mapping, path = write(tmp_path, ARTICLES, random_articles(random.Random(seed)))
    general, bulk = both(mapping, path, catalogue)
    assert_same(general, bulk, bulk_used=not general.problems)


BAD = {
    "conflicting names": "P1;;Tee;;P1_R;;;;S;;;;;;;\nP1;;Top;;P1_R;;;;M;;;;;;;",
    "a bad EAN": "P1;ST;Tee;;P1_R;R;Red;SML;S;01;12AB;;;;;",
    "a missing product id": ";ST;Tee;;P1_R;R;Red;SML;S;01;;;;;;",
    "a variant id in two products": "P1;;;;X;;;;S;;;;;;;\nP2;;;;X;;;;S;;;;;;;",
    "two variants with one name": "P1;;;;A;;Red;;S;;;;;;;\nP1;;;;B;;Red;;S;;;;;;;",
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_files_with_something_to_report_leave_the_bulk_path(tmp_path: Path, case: str) -> None:
    mapping, path = write(tmp_path, ARTICLES, f"{HEADER}\n{BAD[case]}\n")
    general, bulk = both(mapping, path)
    assert_same(general, bulk, bulk_used=False)
    assert general.problems


def test_a_character_xml_cannot_carry_is_a_row_problem_both_ways(tmp_path: Path) -> None:
    row = "P1;ST;Te\x01e;;P1_R;R;Red;SML;S;01;;;;;;"
    mapping, path = write(tmp_path, ARTICLES, f"{HEADER}\n{row}\n")
    general, bulk = both(mapping, path)
    assert_same(general, bulk, bulk_used=False)
    (problem,) = [p for p in bulk.problems if not p.collateral]
    assert (problem.row, problem.column) == (2, "Name")
    assert "U+0001" in str(problem) and "cannot carry" in str(problem)
    assert not bulk.objects


def test_the_bulk_path_shares_repeated_values_and_reads_ids_without_building(
    tmp_path: Path,
) -> None:
    mapping, path = write(tmp_path, ARTICLES, random_articles(random.Random(7)))
    bulk = map_file(mapping, path)
    product = next(o for o in bulk.objects if o.entity == "products")
    assert isinstance(product.item, Prerendered)
    assert product.item["id"] == product.key
    assert product.item._data is None  # reading the id did not build the dict
    assert product.item.xml.startswith(f"<product><id>{product.key}</id>")


@pytest.mark.parametrize("seed", range(20))
def test_renumbering_gives_numbers_in_order_of_first_appearance(seed: int) -> None:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 50, size=int(rng.integers(1, 300)))
    if seed % 2:
        codes.sort()  # the usual file: never decreasing (the path without a sort)
    expected = list(dict.fromkeys(codes.tolist()))
    assert _renumber(codes).tolist() == [expected.index(c) for c in codes.tolist()]


@pytest.mark.parametrize(("usd_id", "usd_currency", "agree"), [
    ("USD", "USD", True),  # two pricelists, each its own constants
    ("EUR", "EUR", True),  # both targets fill one pricelist, with equal constants
    ("EUR", "USD", False),  # one pricelist, two currencies: a conflict the general path reports
])  # fmt: skip
def test_constants_of_two_targets_are_checked_per_pricelist(
    tmp_path: Path, usd_id: str, usd_currency: str, agree: bool
) -> None:
    text = ARTICLES.replace(
        "      pricelist.id: {constant: USD}\n",
        f"      pricelist.id: {{constant: {usd_id}}}\n"
        f"      pricelist.currency: {{constant: {usd_currency}}}\n",
    )
    rows = "P1;;;;P1_R;;;;S;;;1,00;1,00;3,00;1;2\nP1;;;;P1_R;;;;M;;;1,00;1,00;3,00;1;2"
    mapping, path = write(tmp_path, text, f"{HEADER}\n{rows}\n")
    general, bulk = both(mapping, path)
    assert_same(general, bulk, bulk_used=agree)
    assert bool(general.problems) is not agree


@pytest.mark.parametrize("seed", range(30))
def test_factorizing_numbers_values_in_order_of_first_appearance(seed: int) -> None:
    rng = random.Random(seed)
    pool = ["", None, "A", "B", "C", "a b", "\u00e4", "00", "0"][: rng.randint(1, 9)]
    values = [rng.choice(pool) for _ in range(rng.randint(0, 40))]
    ids: dict[Any, int] = {}
    expected = [ids.setdefault(v, len(ids)) if v else -1 for v in values]
    codes, uniques = _factorize(values)
    assert codes.tolist() == expected
    assert uniques == list(ids)


@pytest.mark.parametrize(
    "rows",
    ["", ";;;;;;;;;;;;;;;\n", ";ST;Tee;;;;;;;;;1,00;;;1;\n"],
    ids=["a header only", "a blank row", "no key in any row"],
)
def test_files_with_no_objects_map_the_same_both_ways(tmp_path: Path, rows: str) -> None:
    mapping, path = write(tmp_path, ARTICLES, f"{HEADER}\n{rows}")
    general, bulk = both(mapping, path)
    assert_same(general, bulk, bulk_used=False)


def test_the_writer_cache_holds_shapes_not_values(tmp_path: Path) -> None:
    """Values every parent's j-th child shares become static text; the cache of compiled
    writers must not grow with them (watch maps file after file in one process)."""
    for i in range(30):
        rows = [f"P{p};;;;P{p}_0;;;;S{i}_{s};;;;;;{i};{i + 1}" for p in range(3) for s in range(2)]
        mapping, path = write(tmp_path, ARTICLES, HEADER + "\n" + "\n".join(rows) + "\n")
        general, bulk = both(mapping, path)
        assert_same(general, bulk)
        if i == 1:
            cached = len(columnar._WRITERS)
    assert len(columnar._WRITERS) == cached


def test_rows_read_by_two_threads_at_once_are_right(tmp_path: Path) -> None:
    """An object's rows are worked out on first reading; two threads may do it at once."""
    import sys
    import threading

    lines = [HEADER] + [
        f"P{p};;;;P{p}_{v};;;;{s};;;;;;1;" for p in range(1500) for v in range(2) for s in "SML"
    ]
    mapping, path = write(tmp_path, ARTICLES, "\n".join(lines) + "\n")
    general = [o.rows for o in map_file(mapping, path, bulk=False).objects if o.entity == "stock"]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        for _ in range(5):
            objects = [o for o in map_file(mapping, path).objects if o.entity == "stock"]
            start, errors = threading.Barrier(2), []
            threads = [
                threading.Thread(target=_read_rows, args=(objects[i::2][:50], start, errors))
                for i in (0, 1)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert errors == []
            assert [o.rows for o in objects] == general
    finally:
        sys.setswitchinterval(interval)


def _read_rows(objects: list[Any], start: Any, errors: list[Exception]) -> None:
    start.wait()
    try:
        for obj in objects:
            obj.rows  # noqa: B018 - reading is the test
    except Exception as exc:
        errors.append(exc)


def test_a_bulk_pricelist_object_given_a_whole_catalogue_is_still_split(tmp_path: Path) -> None:
    import dataclasses

    mapping, path = write(tmp_path, ARTICLES, random_articles(random.Random(1)))
    obj = next(o for o in map_file(mapping, path).objects if o.entity == "pricelists")
    products = [{"id": str(i)} for i in range(5)]
    big = dataclasses.replace(obj, item={"id": "EUR", "items": {"product": products}})
    found = [[len(o.item["items"]["product"]) for o in b.objects] for b in batches([big], 2)]
    assert found == [[2, 2], [1]]
