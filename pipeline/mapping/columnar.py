"""The bulk path of :func:`~pipeline.mapping.engine.map_file`: a clean file, column by column.

Most files an ERP exports every night have nothing wrong in them. For those, grouping rows one
at a time into nested dicts and serialising the dicts again would be most of the work of a
run. This path does the same job per column:

1. each level's rows are numbered by their key once (a product id, then a variation id within
   its product...), in order of first appearance;
2. values that must agree within one object (a product's name on each of its rows) are
   compared array-wise;
3. each level's XML is written straight from the columns, children before parents, and each
   object carries its XML (:class:`ColumnarItem`); its dict form is built only if asked for.

It gives up (returns None) on anything it does not handle exactly like the general path, which
then runs and reports: a bad cell, a row that misses a key, values of one object that
disagree, a product check that fails, a character XML cannot carry. The tests map the samples
and a generated corpus both ways and compare objects and XML (tests/mapping/test_columnar.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from itertools import accumulate
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from pipeline.centra.xmlbuild import Prerendered
from pipeline.mapping.catalogue import Catalogue
from pipeline.mapping.entities import Child, Entity, Group, Leaf, Level

if TYPE_CHECKING:
    from pipeline.mapping.engine import MappedObject, _TargetPlan

Column = Sequence[Any]  # str | None per row (no Bad: the bulk path only sees clean values)

#: Anything in a text that needs escaping, or that XML cannot carry at all.
_SPECIAL = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
#: Stands for the one child of a unit object while its parent is written (never in a value:
#: a value with a control character sends the file down the general path).
_SLOT = "\x00"


class GiveUp(Exception):
    """The file needs the general path (it has something to report)."""


class ColumnarItem(Prerendered):
    """A collection item of the bulk path: its XML, and where its values are in the columns.

    ``item["id"]`` (the item's own text elements) reads the column; anything else builds the
    item's dict once. Products also list their sizes cheaply (:meth:`size_rows`).
    """

    __slots__ = ("_node", "_owner", "_unit")

    def __init__(
        self, xml: str, element: str, owner: _Entity, node: int, unit: int | None = None
    ) -> None:
        self.xml = xml
        self.element = element
        self.parts = None
        self._data = None
        self._owner = owner
        self._node = node
        self._unit = unit

    def as_dict(self) -> dict[str, Any]:
        if self._data is None:
            owner = self._owner
            built = owner._dict(owner.levels[owner.entity.root], self._node, self._unit)
            self._data = built if built is not None else {}
        return self._data

    def __getitem__(self, key: str) -> Any:
        values = self._owner.head_values.get(key)
        if values is None:
            return self.as_dict()[key]
        value = values[self._node]
        if value is None:
            raise KeyError(key)
        return value

    def size_rows(self) -> list[tuple[str, str | None, str, str | None, str | None]] | None:
        """(variation id, variation sku, size id, size sku, ean) of a product, or None."""
        if self._owner.entity.name != "products":
            return None
        return self._owner._size_rows(self._node)


class _Level:
    """One level of one entity over the whole file: its nodes and their values."""

    def __init__(self, level: Level, columns: dict[str, Column]) -> None:
        self.level = level
        self.name = level.name
        self.columns = columns  # sub path -> value per virtual row
        self.codes = _NO_CODES  # node per virtual row, -1 where the row has no node here
        self.present = _NO_CODES  # the virtual rows with a node here
        self.node_of = _NO_CODES  # their nodes
        self.first = _NO_CODES  # each node's first virtual row
        self.key_parts: list[list[str]] = []  # per key part, its text per node
        self.key_text: list[str] = []  # per node, its key as object keys show it ("a/b")
        self.parent_of = _NO_CODES  # node -> node of the parent level
        self.fields: dict[str, list[Any]] = {}  # sub path -> value per node
        self.kids: dict[str, Sequence[Sequence[int]]] = {}  # child level -> per node, its children
        self.spans: dict[str, _Runs] = {}  # the same, when each node's children are consecutive
        self.xml: list[str | None] = []
        self.rows: list[tuple[int, ...]] = []  # unit level only: file row numbers per node

    @property
    def n(self) -> int:
        return len(self.first)


def map_columnar(
    plans: Sequence[_TargetPlan],
    n_rows: int,
    row_numbers: Sequence[int],
    lookups: Catalogue | None,
) -> list[MappedObject] | None:
    """The objects of a file none of whose cells is bad, or None for the general path."""
    by_entity: dict[str, list[_TargetPlan]] = {}
    for plan in plans:
        by_entity.setdefault(plan.entity.name, []).append(plan)
    objects: list[MappedObject] = []
    try:
        for entity_plans in by_entity.values():
            objects.extend(_Entity(entity_plans, n_rows, row_numbers, lookups).objects())
    except GiveUp:
        return None
    return objects


class _Entity:
    def __init__(
        self,
        plans: list[_TargetPlan],
        n_rows: int,
        row_numbers: Sequence[int],
        lookups: Catalogue | None,
    ) -> None:
        self.entity: Entity = plans[0].entity
        self.row_numbers = row_numbers
        self.arrays: dict[int, tuple[Column, np.ndarray]] = {}  # id -> (list kept alive, array)
        self.factors: dict[int, tuple[np.ndarray, int]] = {}
        self.lookups = lookups
        # Two targets of one entity fill the same objects: row i of target p is virtual row
        # i * k + p, the order in which the general path meets them.
        k = self.k = len(plans)
        used: dict[str, dict[str, list[Column | None]]] = {}
        for p, plan in enumerate(plans):
            for lp in plan.levels:
                subs = used.setdefault(lp.name, {})
                for sub, values in lp.pairs:
                    subs.setdefault(sub, [None] * k)[p] = values
        self.levels: dict[str, _Level] = {}
        for name in self.entity.levels:  # declaration order: parents first
            if name in used:
                columns = {sub: _interleave(lists, n_rows) for sub, lists in used[name].items()}
                self.levels[name] = _Level(self.entity.levels[name], columns)
        self.m = n_rows * k

    # -- grouping ---------------------------------------------------------------------------

    def factorized(self, values: Column) -> tuple[np.ndarray, int]:
        """:func:`_factorize` of ``values``, once per list."""
        found = self.factors.get(id(values))
        if found is None:
            found = self.factors[id(values)] = _factorize(values)
            self.arrays.setdefault(id(values), (values, self.array(values)))  # keeps it alive
        return found

    def array(self, values: Column) -> np.ndarray:
        """``values`` as an object array, made once per list (targets share their columns)."""
        found = self.arrays.get(id(values))
        if found is None:
            found = self.arrays[id(values)] = (values, np.asarray(values, dtype=object))
        return found[1]

    def objects(self) -> list[MappedObject]:
        for lv in self.levels.values():
            self._number(lv)
            self._node_fields(lv)
        for lv in self.levels.values():
            parent = lv.level.parent
            if parent is not None:
                owners = self.levels[parent].n
                counts = np.bincount(lv.parent_of, minlength=owners)
                if (np.diff(lv.parent_of) >= 0).all():  # children come parent by parent
                    ends = np.cumsum(counts).tolist()
                    runs = _Runs(ends)
                    self.levels[parent].spans[lv.name] = runs
                    self.levels[parent].kids[lv.name] = runs
                else:
                    order = np.argsort(lv.parent_of, kind="stable").tolist()
                    self.levels[parent].kids[lv.name] = _split(order, counts)
        unit = self.levels.get(self.entity.unit)
        root = self.levels[self.entity.root]
        if unit is None or (
            unit is not root and (unit.level.parent != root.name or len(root.kids) != 1)
        ):
            raise GiveUp  # shapes no entity has today: the general path handles them
        self._unit_rows(unit)
        if self.entity.name == "products":
            self._check_products()
        for lv in reversed(self.levels.values()):
            self._render(lv, slot=self.entity.unit if lv is root and unit is not root else None)
        return list(self._objects(root, unit))

    def _number(self, lv: _Level) -> None:
        """Give every row the node it belongs to at this level (-1: none).

        A node is the level's key within its parent's node (a variation id within its product),
        numbered in order of first appearance, as the general path's dicts keep them.
        """
        level = lv.level
        m = self.m
        parts = [lv.columns.get(k) for k in level.key]
        missing = (np.full(m, -1, dtype=np.int64), 0)  # a key part no rule fills
        factors = [self.factorized(col) if col is not None else missing for col in parts]
        parent = self.levels[level.parent] if level.parent is not None else None
        if parent is None:  # a top level needs every key part, a child level the first
            given = np.logical_and.reduce([codes >= 0 for codes, _ in factors])
        else:
            given = (factors[0][0] >= 0) & (parent.codes >= 0)
        present = np.flatnonzero(given)
        if parent is None and len(factors) == 1:
            node_of = factors[0][0][present]  # already numbered in order of appearance
        else:
            combined = (
                parent.codes[present] if parent is not None else np.zeros(len(present), np.int64)
            )
            for codes, count in factors:
                part = codes[present]
                # A missing part of a child's key counts as "" (the general path's key).
                part = np.where(part < 0, count, part)
                combined = _renumber(combined * (count + 1) + part)
            node_of = combined
        lv.codes = np.full(m, -1, dtype=np.int64)
        lv.codes[present] = node_of
        lv.present, lv.node_of = present, node_of
        _, first_index = np.unique(node_of, return_index=True)
        lv.first = first = present[first_index]
        lv.key_parts = [
            [x or "" for x in self.array(col)[first].tolist()]
            if col is not None
            else [""] * len(first)
            for col in parts
        ]
        if len(lv.key_parts) == 1:
            lv.key_text = lv.key_parts[0]
        else:
            lv.key_text = ["/".join(key) for key in zip(*lv.key_parts, strict=True)]
        if parent is not None:
            lv.parent_of = parent.codes[first]
        if len(present) < m:
            # A row with values for this level but no node here misses a key: reported by the
            # general path.
            empty_rows = np.flatnonzero(lv.codes < 0).tolist()
            for col in lv.columns.values():
                if any(col[r] is not None for r in empty_rows):
                    raise GiveUp

    def _node_fields(self, lv: _Level) -> None:
        """Each node's value per field: the first given, all others equal to it."""
        present, node_of, first = lv.present, lv.node_of, lv.first
        one_row_each = len(first) == len(present)
        for sub, col in lv.columns.items():
            values = self.array(col)
            node_values = values[first]
            if not one_row_each:
                differs = np.flatnonzero(values[present] != node_values[node_of])
                if len(differs):
                    node_values = node_values.copy()
                    for r in present[differs].tolist():
                        value = col[r]
                        if value is None:
                            continue
                        node = lv.codes[r]
                        current = node_values[node]
                        if current is None:
                            node_values[node] = value
                        elif current != value:
                            raise GiveUp  # rows of one object disagree: reported in general
            lv.fields[sub] = node_values.tolist()

    def _unit_rows(self, unit: _Level) -> None:
        """The file rows of each unit node, in order, each once."""
        order = np.argsort(unit.node_of, kind="stable")
        nodes = unit.node_of[order]
        rows = unit.present[order] // self.k
        if self.k > 1:  # the targets of one row share a file row
            keep = np.ones(len(rows), dtype=bool)
            keep[1:] = (rows[1:] != rows[:-1]) | (nodes[1:] != nodes[:-1])
            rows, nodes = rows[keep], nodes[keep]
        numbers = tuple(np.asarray(self.row_numbers, dtype=np.int64)[rows].tolist())
        counts = np.bincount(nodes, minlength=unit.n)
        unit.rows = cast("list[tuple[int, ...]]", _split(numbers, counts))  # tuple slices

    def _check_products(self) -> None:
        """The product checks of the general path; any failure is reported there."""
        variation = self.levels.get("variation")
        if variation is None:
            return
        vids = variation.key_parts[0]
        if len(set(vids)) != len(vids):
            raise GiveUp  # a variation id used by two products
        names = variation.fields.get("description")
        if names is not None:
            named = [(p, name) for p, name in zip(variation.parent_of, names, strict=True) if name]
            if len(set(named)) != len(named):
                raise GiveUp  # two variations of one product with the same name
        tables = variation.fields.get("sizetable.id")
        size = self.levels.get("size")
        if tables is None or size is None or self.lookups is None:
            return
        kids = variation.kids.get("size", [])
        for v, table in enumerate(tables):
            if not table:
                continue
            known = self.lookups.sizes_of(table)
            if known is not None and any(size.key_parts[0][s] not in known for s in kids[v]):
                raise GiveUp  # a size outside its sizetable

    # -- writing ----------------------------------------------------------------------------

    def _render(self, lv: _Level, slot: str | None) -> None:
        """The XML of every node of ``lv`` (None where the node is left out).

        With ``slot`` (the unit level, on the root of a pricelist), the children of that level
        are written as one ``_SLOT`` mark, for :meth:`_objects` to split around.
        """
        level = lv.level
        used = set(lv.columns) | set(level.key)
        n = lv.n
        built: dict[str, list[bool]] = {}
        full: set[int] = set()  # ids of pieces no node has empty

        # A level is written through one f-string per node: text that every node has (the
        # tags of values no node lacks) is part of the template, the rest are per-node pieces.
        def pieces(entries: Sequence[Any]) -> list[str | list[str]]:
            out: list[str | list[str]] = []
            for entry in entries:
                if isinstance(entry, Leaf):
                    if entry.path in used:
                        out.extend(self._leaf(entry.name, lv.fields.get(entry.path), n))
                elif isinstance(entry, Group):
                    inner = pieces(entry.entries)
                    if any(isinstance(p, str) or id(p) in full for p in inner):  # never empty
                        out.extend([f"<{entry.name}>", *inner, f"</{entry.name}>"])
                    elif inner:
                        tag = entry.name
                        texts = _fill(inner, n)
                        out.append([f"<{tag}>{x}</{tag}>" if x else "" for x in texts])
                elif isinstance(entry, Child) and entry.level in self.levels:
                    kids = self._children(lv, entry.level, slot, built)
                    if all(built[entry.level]):
                        full.add(id(kids))
                    out.append(kids)
            return out

        tag = level.element
        parts = pieces(level.entries)
        xml: list[str | None]
        if any(isinstance(p, str) for p in parts):
            xml = list(_fill([f"<{tag}>", *parts, f"</{tag}>"], n))
        else:
            xml = [f"<{tag}>{c}</{tag}>" if c else f"<{tag}/>" for c in _fill(parts, n)]
        if level.prune_unless:  # left out unless one of these has a value
            keep = np.zeros(n, dtype=bool)
            for p in level.prune_unless:
                if p in built:
                    keep |= np.asarray(built[p], dtype=bool)
                elif p in lv.fields:
                    keep |= np.asarray(lv.fields[p], dtype=object) != None  # noqa: E711
            if not keep.all():
                xml = [x if k else None for x, k in zip(xml, keep.tolist(), strict=True)]
        lv.xml = xml

    @staticmethod
    def _leaf(tag: str, values: list[Any] | None, n: int) -> list[str | list[str]]:
        """The pieces of one text element: static tags around the values when every node
        has a value, else one per-node piece."""
        if values is None:  # a key part no rule fills: never written
            return []
        text = "\n".join(filter(None, values))
        if _SPECIAL.search(text) is not None:
            if _INVALID.search(text) is not None:
                raise GiveUp  # XML cannot carry it: the general path says so when sending
            values = [v.translate(_ESCAPE) if v else v for v in values]
        if None not in values and "" not in values:
            return [f"<{tag}>", values, f"</{tag}>"]
        empty, full = f"<{tag}/>", "<{0}>{1}</{0}>"
        return [["" if v is None else (full.format(tag, v) if v else empty) for v in values]]

    def _children(
        self, lv: _Level, name: str, slot: str | None, built: dict[str, list[bool]]
    ) -> list[str]:
        child = self.levels[name]
        kids = lv.kids.get(name) or [[] for _ in range(lv.n)]
        xml = child.xml
        if name == slot:
            if any(xml[c] is None for ks in kids for c in ks):
                raise GiveUp  # a unit left out entirely: rare, done by the general path
            built[name] = [bool(ks) for ks in kids]
            return [_SLOT if ks else "" for ks in kids]
        spans = lv.spans.get(name)
        if spans is not None and None not in xml:
            # The usual file: each parent's children are consecutive nodes, so each parent's
            # part is a slice of all of them written one after the other.
            done = cast("list[str]", xml)
            offsets = [0, *accumulate(map(len, done))]
            whole = "".join(done)
            pairs = zip(spans.starts, spans.ends, strict=True)
            out = [whole[offsets[a] : offsets[b]] for a, b in pairs]
        else:
            out = ["".join([x for c in ks if (x := xml[c]) is not None]) for ks in kids]
        built[name] = [bool(x) for x in out]
        return out

    # -- objects ----------------------------------------------------------------------------

    def _objects(self, root: _Level, unit: _Level) -> Iterator[MappedObject]:
        from pipeline.mapping.engine import DEPENDENCIES, MappedObject

        entity = self.entity
        name, operation, element = entity.name, entity.operation, root.level.element
        self.head_values = {
            e.name: root.fields[e.path]
            for e in root.level.entries
            if isinstance(e, Leaf) and e.path in root.fields
        }
        deps_of = DEPENDENCIES.get(name)
        keys = root.key_text
        if unit is root:
            if name == "products":
                all_deps: Sequence[tuple[tuple[str, str], ...]] = self._product_deps(root)
            elif name == "stock":
                all_deps = [(("products", pid),) for pid in root.fields["id"]]
            else:
                all_deps = []
            rows = root.rows
            for c, xml in enumerate(root.xml):
                if xml is None:
                    continue
                item = ColumnarItem(xml, element, self, c)
                if all_deps:
                    deps = all_deps[c]
                else:
                    deps = deps_of(item.as_dict()) if deps_of is not None else ()
                yield MappedObject(name, operation, keys[c], item, rows[c], deps)
            return
        # Pricelists: one object per product of a pricelist, with the pricelist's header.
        kids = root.kids[unit.name]
        product_ids = unit.fields.get("id") or [None] * unit.n
        for c, xml in enumerate(root.xml):
            assert xml is not None  # a root is never left out here (no prune rule)
            if not kids[c]:
                item = ColumnarItem(xml, element, self, c)
                deps = deps_of(item.as_dict()) if deps_of is not None else ()
                yield MappedObject(name, operation, keys[c], item, (), deps)
                continue
            prefix, suffix = xml.split(_SLOT)
            head = keys[c] + "/"
            for u in kids[c]:
                inner = unit.xml[u]
                assert inner is not None
                item = ColumnarItem(prefix + inner + suffix, element, self, c, u)
                item.parts = (prefix, inner, suffix)
                yield MappedObject(
                    name,
                    operation,
                    head + unit.key_text[u],
                    item,
                    unit.rows[u],
                    (("products", product_ids[u]),),
                )

    def _product_deps(self, root: _Level) -> list[tuple[tuple[str, str], ...]]:
        """Each product's ``("sizes", "<sizetable>/<size>")`` pairs, in the general order."""
        variation, size = self.levels.get("variation"), self.levels.get("size")
        empty: list[tuple[tuple[str, str], ...]] = [() for _ in range(root.n)]
        if variation is None or size is None or "sizetable.id" not in variation.fields:
            return empty
        if "id" not in size.fields or not size.n:
            return empty
        tables = variation.fields["sizetable.id"]
        size_ids = size.fields["id"]
        v_of = size.parent_of.tolist()
        labels: dict[tuple[str, str], int] = {}
        codes = []
        keep = []
        for s, v in enumerate(v_of):
            table = tables[v]
            if table and size.xml[s] is not None and variation.xml[v] is not None:
                keep.append(s)
                codes.append(labels.setdefault((table, size_ids[s]), len(labels)))
        if not keep:
            return empty
        kept = np.asarray(keep, dtype=np.int64)
        v_kept = size.parent_of[kept]
        owner = variation.parent_of[v_kept]
        order = np.lexsort((kept, v_kept, owner))  # product, then variation, then size
        ordered = np.asarray(codes, dtype=np.int64)[order].tolist()
        pairs = [("sizes", f"{table}/{sid}") for table, sid in labels]
        memo: dict[tuple[int, ...], tuple[tuple[str, str], ...]] = {}
        out = []
        for run in _split(ordered, np.bincount(owner, minlength=root.n)):
            key = tuple(dict.fromkeys(run))
            found = memo.get(key)
            if found is None:
                found = memo[key] = tuple(pairs[i] for i in key)
            out.append(found)
        return out

    def _size_rows(self, c: int) -> list[tuple[str, str | None, str, str | None, str | None]]:
        variation, size = self.levels.get("variation"), self.levels.get("size")
        if variation is None or size is None:
            return []
        vids, vskus = variation.fields.get("id"), variation.fields.get("sku")
        sids, sskus, eans = size.fields.get("id"), size.fields.get("sku"), size.fields.get("ean")
        size_kids = variation.kids.get("size")
        if vids is None or sids is None or size_kids is None:
            return []
        out = []
        for v in self.levels[self.entity.root].kids["variation"][c]:
            if variation.xml[v] is None:
                continue
            for s in size_kids[v]:
                if size.xml[s] is not None:
                    out.append(
                        (
                            vids[v],
                            vskus[v] if vskus else None,
                            sids[s],
                            sskus[s] if sskus else None,
                            eans[s] if eans else None,
                        )
                    )
        return out

    def _dict(self, lv: _Level, c: int, only: int | None) -> dict[str, Any] | None:
        """The payload dict of node ``c`` (with only child ``only`` of the unit level)."""
        level = lv.level

        def fill(entries: Sequence[Any], out: dict[str, Any], built: set[str]) -> None:
            for entry in entries:
                if isinstance(entry, Leaf):
                    values = lv.fields.get(entry.path)
                    if values is not None and values[c] is not None:
                        out[entry.name] = values[c]
                elif isinstance(entry, Group):
                    group: dict[str, Any] = {}
                    fill(entry.entries, group, built)
                    if group:
                        out[entry.name] = group
                elif isinstance(entry, Child) and entry.level in self.levels:
                    child = self.levels[entry.level]
                    if only is None:
                        kids = lv.kids[entry.level][c] if entry.level in lv.kids else []
                    else:  # a unit object: its parent with this one child
                        kids = [only] if entry.level == self.entity.unit else []
                    items = [d for k in kids if (d := self._dict(child, k, None)) is not None]
                    if items:
                        out[child.level.element] = items
                        built.add(entry.level)

        out: dict[str, Any] = {}
        built: set[str] = set()
        fill(level.entries, out, built)
        prune = level.prune_unless
        if prune and not any(
            p in built or (p in lv.fields and lv.fields[p][c] is not None) for p in prune
        ):
            return None
        return out


_NO_CODES = np.zeros(0, dtype=np.int64)


def _factorize(values: Column) -> tuple[np.ndarray, int]:
    """Codes per row in order of first appearance (-1 for None and ""), and how many."""
    ids: dict[Any, int] = {}
    add = ids.setdefault
    codes = [add(v, len(ids)) if v else -1 for v in values]
    return np.asarray(codes, dtype=np.int64), len(ids)


def _renumber(codes: np.ndarray) -> np.ndarray:
    """The distinct values of ``codes`` numbered 0, 1, ... in order of first appearance."""
    _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.reshape(-1)]


def _fill(parts: Sequence[str | list[str]], n: int) -> list[str]:
    """One text per node: the static parts with each node's pieces in between."""
    static = tuple(p if isinstance(p, str) else None for p in parts)
    lists = [p for p in parts if not isinstance(p, str)]
    if not lists:
        return ["".join(p for p in static if p is not None)] * n
    return _writer(static)(*lists)


_WRITERS: dict[tuple[str | None, ...], Callable[..., list[str]]] = {}


def _writer(static: tuple[str | None, ...]) -> Callable[..., list[str]]:
    """A list comprehension with one f-string for this shape of template (None: a piece).

    The fastest way CPython has to join a few strings per node. The static texts are passed
    as names, never written into the source, so no text can change the code.
    """
    found = _WRITERS.get(static)
    if found is not None:
        return found
    names: dict[str, Any] = {}
    body: list[str] = []
    pieces: list[str] = []
    for part in static:
        if part is None:
            pieces.append(f"a{len(pieces)}")
            body.append("{" + pieces[-1] + "}")
        else:
            names[f"s{len(names)}"] = part
            body.append("{s" + str(len(names) - 1) + "}")
    lists = ", ".join(f"l{i}" for i in range(len(pieces)))
    source = f'lambda {lists}: [f"{"".join(body)}" for {", ".join(pieces)}, in zip({lists})]'
    writer: Callable[..., list[str]] = eval(source, names)  # noqa: S307 - see the docstring
    _WRITERS[static] = writer
    return writer


class _Runs(Sequence[range]):
    """Consecutive runs of nodes, one per parent, given by where each ends."""

    def __init__(self, ends: list[int]) -> None:
        self.ends = ends
        self.starts = [0, *ends[:-1]]

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, i: int) -> range:  # type: ignore[override]
        return range(self.starts[i], self.ends[i])


def _split(items: Sequence[Any], counts: np.ndarray) -> list[Sequence[Any]]:
    """``items`` cut into consecutive runs of ``counts`` each."""
    ends = np.cumsum(counts).tolist()
    starts = [0, *ends[:-1]]
    return [items[a:b] for a, b in zip(starts, ends, strict=True)]


def _interleave(lists: list[Column | None], n: int) -> Column:
    if len(lists) == 1 and lists[0] is not None:
        return lists[0]
    k = len(lists)
    out: list[Any] = [None] * (n * k)
    for p, values in enumerate(lists):
        if values is not None:
            out[p::k] = values
    return out
