"""The bulk path of :func:`~pipeline.mapping.engine.map_file`: a clean file, column by column.

Most files an ERP exports every night have nothing wrong in them. For those, grouping rows one
at a time into nested dicts and serialising the dicts again would be most of the work of a
run. This path does the same job per column:

1. each level's rows are numbered by their key once (a product id, then a variation id within
   its product...), in order of first appearance;
2. values that must agree within one object (a product's name on each of its rows) are
   compared array-wise;
3. each level's XML is written straight from the columns as one f-string per node around
   its children's places, children before parents. A level whose parents all have the same
   few children (a size's warehouses, often a variation's sizes) is written inside its
   parents' f-strings instead (:meth:`_Entity._fused`). Each object level is then joined into
   one text; an object (:class:`ColumnarItem`) cuts its XML from it when asked, and a request
   cuts its objects' XML in one piece (:func:`joined_xml`). An object's dict form, file rows
   and dependencies are worked out only if something asks for them.

It gives up (returns None) on anything it does not handle exactly like the general path, which
then runs and reports: a bad cell, a row that misses a key, values of one object that
disagree, a product check that fails. The tests map the samples
and a generated corpus both ways and compare objects and XML (tests/mapping/test_columnar.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import groupby, repeat
from operator import attrgetter
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pipeline.centra.xmlbuild import Prerendered, has_markup_chars
from pipeline.mapping.catalogue import Catalogue
from pipeline.mapping.entities import Child, Entity, Group, Leaf, Level

if TYPE_CHECKING:
    from pipeline.mapping.engine import MappedObject, _TargetPlan

Column = Sequence[Any]  # str | None per row (no Bad: the bulk path only sees clean values)

_ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


class GiveUp(Exception):
    """The file needs the general path (it has something to report)."""


class ColumnarItem(Prerendered):
    """A collection item of the bulk path: its XML, and where its values are in the columns.

    ``item["id"]`` (the item's own text elements) reads the column; anything else builds the
    item's dict once. The sizes of a file's products are read for all of them at once
    (:meth:`size_source`, :meth:`_Entity.size_columns`).
    """

    __slots__ = ("_node", "_owner", "_unit")

    def __init__(self, element: str, owner: _Entity, node: int, unit: int | None = None) -> None:
        self.element = element
        self._data = None
        self._owner = owner
        self._node = node
        self._unit = unit

    @property
    def xml(self) -> str:
        """Cut from the text of the whole file's objects when asked (written once, then
        freed), so the objects of a file hold their XML once."""
        return self._owner.object_xml(self._node, self._unit)

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

    def get(self, key: str, default: Any = None) -> Any:
        values = self._owner.head_values.get(key)
        if values is None:
            return self.as_dict().get(key, default)
        value = values[self._node]
        return default if value is None else value

    def rows(self) -> tuple[int, ...]:
        """The file row numbers of this item (:attr:`MappedObject.rows`)."""
        return self._owner.rows_of(self)

    def depends_on(self) -> tuple[tuple[str, str], ...]:
        """What must exist in Centra first (:attr:`MappedObject.depends_on`)."""
        return self._owner.depends_on(self)

    def size_source(self) -> tuple[_Entity, int] | None:
        """Where a product's sizes are (for :meth:`_Entity.size_columns`), or None."""
        if self._owner.entity.name != "products" or self._unit is not None:
            return None
        return self._owner, self._node


def joined_xml(items: Sequence[Any]) -> str | None:
    """The XML of collection items as a request holds them, when they are bulk-path items of
    one file's entity (:meth:`_Entity.joined_xml`); else None."""
    first = items[0] if items else None
    if first.__class__ is not ColumnarItem:
        return None
    return first._owner.joined_xml(items)


class _Level:
    """One level of one entity over the whole file: its nodes and their values."""

    def __init__(self, level: Level, sources: dict[str, list[Column | None]]) -> None:
        self.level = level
        self.name = level.name
        self.sources = sources  # sub path -> per target, its values per row (or None)
        self.codes = _NO_CODES  # node per virtual row, -1 where the row has no node here
        self.present = _NO_CODES  # the virtual rows with a node here
        self.node_of = _NO_CODES  # their nodes
        self.first = _NO_CODES  # each node's first virtual row
        self.key_parts: list[list[str]] = []  # per key part, its text per node
        self.key_text: list[str] = []  # per node, its key as object keys show it ("a/b")
        self.parent_of = _NO_CODES  # node -> node of the parent level
        self.fields: dict[str, list[Any]] = {}  # sub path -> value per node
        self.kids: dict[str, _Runs] = {}  # child level -> per node, its children
        self.segments: list[list[str]] = []  # see Entity._render
        self.parts: list[str | list[str]] | None = None  # a level without slots, until written
        self.slots: list[str] = []  # the child levels between the segments
        self.keep = np.zeros(0, dtype=bool)  # whether each node is written (not pruned)
        self.text = ""  # object levels: the XML of all nodes (see Entity._assemble)
        self.text_start: list[int] = []  # (Python ints: an object's XML is cut often)
        self.text_end: list[int] = []
        # Unit level only: the file row numbers of node c are row_numbers[row_ends[c - 1] :
        # row_ends[c]], worked out from rows_from and cut when first asked for (validate
        # never reads them).
        self.row_numbers: Sequence[int] = ()
        self.row_ends: list[int] = []
        self.rows_from: tuple[np.ndarray, np.ndarray] | None = None  # (node_of, present)

    @property
    def n(self) -> int:
        return len(self.key_text)


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
    shared = _Shared()
    try:
        for entity_plans in by_entity.values():
            objects.extend(_Entity(entity_plans, n_rows, row_numbers, lookups, shared).objects())
            shared.arrays.clear()  # the next entity rebuilds what it needs: memory over time
    except GiveUp:
        return None
    finally:
        shared.arrays.clear()
        shared.factors.clear()
    return objects


class _Shared:
    """What the entities of one file share: their columns as arrays and as key codes (the
    targets of a mapping read the same value lists)."""

    def __init__(self) -> None:
        self.arrays: dict[int, tuple[Column, np.ndarray]] = {}  # id -> (list kept alive, array)
        self.factors: dict[int, tuple[Column, np.ndarray, list[Any]]] = {}  # id -> (list, ...)


class _Entity:
    def __init__(
        self,
        plans: list[_TargetPlan],
        n_rows: int,
        row_numbers: Sequence[int],
        lookups: Catalogue | None,
        shared: _Shared,
    ) -> None:
        self.entity: Entity = plans[0].entity
        self.row_numbers = row_numbers
        self.arrays = shared.arrays
        self.factors = shared.factors
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
        self.levels: dict[str, _Level] = {
            name: _Level(self.entity.levels[name], used[name])
            for name in self.entity.levels  # declaration order: parents first
            if name in used
        }
        self.m = n_rows * k
        self.virtual: dict[tuple[int, ...], np.ndarray] = {}
        self.piece_counts: dict[str, np.ndarray] = {}
        self._deps: list[tuple[tuple[str, str], ...]] | None = None  # products, when asked

    # -- grouping ---------------------------------------------------------------------------

    def factorized(self, values: Column) -> tuple[np.ndarray, list[Any]]:
        """:func:`_factorize` of ``values``, once per list."""
        found = self.factors.get(id(values))
        if found is None:
            codes, uniques = _factorize(values)
            found = self.factors[id(values)] = (values, codes, uniques)  # keeps the list alive
        return found[1], found[2]

    def values(self, lists: list[Column | None]) -> np.ndarray:
        """The values of one field over the virtual rows (row i of target p at i * k + p)."""
        if len(lists) == 1 and lists[0] is not None:
            return self.array(lists[0])
        key = tuple(map(id, lists))
        found = self.virtual.get(key)
        if found is None:
            first = lists[0]
            if first is not None and all(other is first for other in lists):
                found = np.repeat(self.array(first), self.k)  # the targets share the column
            else:
                found = np.full(self.m, None, dtype=object)
                for p, values in enumerate(lists):
                    if values is not None:
                        found[p :: self.k] = self.array(values)
            self.virtual[key] = found
        return found

    def picked(self, lists: list[Column | None], rows: np.ndarray) -> list[Any]:
        """The values of one field at the virtual rows ``rows``, without making the values of
        all virtual rows when the targets share the column or each give a constant."""
        k = self.k
        first = lists[0]
        if first is not None and all(other is first for other in lists):
            return self.array(first)[rows // k if k > 1 else rows].tolist()
        constants = _target_constants(lists)
        if constants is not None:
            return np.asarray(constants, dtype=object)[rows % k].tolist()
        return self.values(lists)[rows].tolist()

    def key_codes(self, lists: list[Column | None]) -> tuple[np.ndarray, int]:
        """A key part's codes over the virtual rows, in order of first appearance (-1 where
        it is empty), and how many codes there are."""
        k = self.k
        if k == 1 and lists[0] is not None:
            codes, uniques = self.factorized(lists[0])
            return codes, len(uniques)
        first = lists[0]
        if first is not None and all(other is first for other in lists):
            codes, uniques = self.factorized(first)
            return np.repeat(codes, k), len(uniques)
        # Different columns per target: one numbering for the values of all of them.
        ids: dict[Any, int] = {}
        combined = np.full(self.m, -1, dtype=np.int64)
        for p, values in enumerate(lists):
            if values is None:
                continue
            codes, uniques = self.factorized(values)
            remap = np.asarray([ids.setdefault(u, len(ids)) for u in uniques], dtype=np.int64)
            if len(remap):
                combined[p::k] = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
        present = combined >= 0
        combined[present] = _renumber(combined[present])
        return combined, len(ids)

    def array(self, values: Column) -> np.ndarray:
        """``values`` as an object array, made once per list (targets share their columns)."""
        found = self.arrays.get(id(values))
        if found is None:
            # (fromiter: a quarter faster than asarray for a list of texts)
            array = np.fromiter(values, dtype=object, count=len(values))
            found = self.arrays[id(values)] = (values, array)
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
                    order = None
                else:
                    order = np.argsort(lv.parent_of, kind="stable")
                self.levels[parent].kids[lv.name] = _Runs(np.cumsum(counts), order)
        unit = self.levels.get(self.entity.unit)
        root = self.levels[self.entity.root]
        if unit is None or (
            unit is not root and (unit.level.parent != root.name or len(root.kids) != 1)
        ):
            raise GiveUp  # shapes no entity has today: the general path handles them
        # Kept (compactly) to work out each unit's file rows if they are ever read (run).
        unit.rows_from = (unit.node_of.astype(np.int32), unit.present.astype(np.int32))
        if self.entity.name == "products":
            self._check_products()
        for lv in self.levels.values():  # rows are done with: free them before writing
            lv.codes = lv.present = lv.node_of = lv.first = _NO_CODES
        self.virtual.clear()
        for lv in reversed(self.levels.values()):
            self._render(lv)
        for lv in self.levels.values():  # the levels not written as part of their parent
            if lv.parts is not None:
                lv.segments, lv.parts = [_fill(lv.parts, lv.n)], None
        if unit is not root and not unit.keep.all():
            raise GiveUp  # a unit left out entirely: rare, done by the general path
        self._assemble(unit)
        for lv in self.levels.values():
            lv.sources = {}  # the rows' values: not needed any more
        return self._objects(root, unit)

    def _number(self, lv: _Level) -> None:
        """Give every row the node it belongs to at this level (-1: none).

        A node is the level's key within its parent's node (a variation id within its product),
        numbered in order of first appearance, as the general path's dicts keep them.
        """
        level = lv.level
        m = self.m
        parts = [lv.sources.get(k) for k in level.key]
        missing = (np.full(m, -1, dtype=np.int64), 0)  # a key part no rule fills
        factors = [self.key_codes(lists) if lists is not None else missing for lists in parts]
        parent = self.levels[level.parent] if level.parent is not None else None
        if parent is None:  # a top level needs every key part, a child level the first
            given = np.logical_and.reduce([codes >= 0 for codes, _ in factors])
        else:
            given = (factors[0][0] >= 0) & (parent.codes >= 0)
        present = np.flatnonzero(given)
        everyone = len(present) == m  # (the usual file: no copies needed)

        def at_present(codes: np.ndarray) -> np.ndarray:
            return codes if everyone else codes[present]

        if parent is None and len(factors) == 1:
            node_of = at_present(factors[0][0])  # already numbered in order of appearance
        else:
            combined = (
                at_present(parent.codes) if parent is not None else np.zeros(len(present), np.int64)
            )
            for codes, count in factors:
                part = at_present(codes)
                if len(part) and part.min() < 0:
                    # A missing part of a child's key counts as "" (the general path's key).
                    part = np.where(part < 0, count, part)
                combined = _renumber(combined * (count + 1) + part)
            node_of = combined
        if everyone:  # (never changed in place: it may be a column's shared codes)
            lv.codes = node_of
        else:
            lv.codes = np.full(m, -1, dtype=np.int64)
            lv.codes[present] = node_of
        lv.present, lv.node_of = present, node_of
        # Nodes are numbered in order of first appearance: a node's first row is where the
        # running maximum grows.
        grows = np.ones(len(node_of), dtype=bool)
        if len(node_of):
            running = np.maximum.accumulate(node_of)
            grows[1:] = running[1:] > running[:-1]
        lv.first = first = present[grows]
        lv.key_parts = [
            _or_empty(self.picked(lists, first)) if lists is not None else [""] * len(first)
            for lists in parts
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
            empty_rows = np.flatnonzero(lv.codes < 0)
            for lists in lv.sources.values():
                if (self.values(lists)[empty_rows] != None).any():  # noqa: E711
                    raise GiveUp

    def _node_fields(self, lv: _Level) -> None:
        """Each node's value per field: the first given, all others equal to it."""
        present, node_of, first = lv.present, lv.node_of, lv.first
        one_row_each = len(first) == len(present)
        keys = [lv.sources[k] for k in lv.level.key if k in lv.sources]
        # The usual file: every row has a node here and a node's rows are together. Then the
        # rows of each node agree when each row agrees with the one before it in its node.
        same_node = None
        if (
            len(present) == self.m
            and not one_row_each
            and bool((node_of[1:] >= node_of[:-1]).all())
        ):
            same_node = node_of[1:] == node_of[:-1]
        for sub, lists in lv.sources.items():
            constant = self._constant_fields(lists, lv)
            if constant is not None:
                lv.fields[sub] = constant
                continue
            if one_row_each:  # (a warehouse of a size: the one row is the node)
                lv.fields[sub] = self.picked(lists, first)
                continue
            values = self.values(lists)
            node_values = values[first]
            # A key column (or the very same column under another name, like stockid) is
            # the same on all rows of a node by definition.
            agree = any(all(a is b for a, b in zip(lists, key, strict=True)) for key in keys)
            if not agree and same_node is not None:
                agree = not ((values[1:] != values[:-1]) & same_node).any()
            if not one_row_each and not agree:
                differs = np.flatnonzero(values[present] != node_values[node_of])
                if len(differs):
                    node_values = node_values.copy()
                    for r in present[differs].tolist():
                        value = values[r]
                        if value is None:
                            continue
                        node = lv.codes[r]
                        current = node_values[node]
                        if current is None:
                            node_values[node] = value
                        elif current != value:
                            raise GiveUp  # rows of one object disagree: reported in general
            lv.fields[sub] = node_values.tolist()

    def _constant_fields(self, lists: list[Column | None], lv: _Level) -> list[Any] | None:
        """Each node's value of a field every target gives as one constant (a pricelist's
        currency, a warehouse id), when the rows of each node agree; else None.

        Works on each row's target number instead of the 1.2 million values of two targets.
        """
        constants = _target_constants(lists)
        if constants is None:
            return None
        ids: dict[Any, int] = {}
        of_target = np.asarray([ids.setdefault(c, len(ids)) for c in constants], dtype=np.int64)
        node_ids = of_target[lv.first % self.k]  # the value of each node's first row
        if len(ids) > 1 and (of_target[lv.present % self.k] != node_ids[lv.node_of]).any():
            return None  # rows of one node from targets that disagree: the exact check decides
        distinct = list(ids)
        if len(distinct) == 1:
            return distinct * len(node_ids)
        return np.asarray(distinct, dtype=object)[node_ids].tolist()

    def _unit_rows(self, unit: _Level) -> None:
        """The file rows of each unit node, in order, each once (see :meth:`rows_of`)."""
        source = unit.rows_from
        if source is None:  # (worked out already, by another thread maybe)
            return
        node_of, present = source
        if len(node_of) and bool((node_of[1:] >= node_of[:-1]).all()):
            nodes, rows = node_of, present // self.k  # already node by node (the usual file)
        else:
            order = np.argsort(node_of, kind="stable")
            nodes, rows = node_of[order], present[order] // self.k
        if self.k > 1:  # the targets of one row share a file row
            keep = np.ones(len(rows), dtype=bool)
            keep[1:] = (rows[1:] != rows[:-1]) | (nodes[1:] != nodes[:-1])
            rows, nodes = rows[keep], nodes[keep]
        numbers: Sequence[int] = self.row_numbers  # every row once, in order
        if len(rows) != len(numbers) or not bool((rows == np.arange(len(rows))).all()):
            # The reader's own int objects (numpy would make a new one per row and object).
            numbers = list(map(self.row_numbers.__getitem__, rows.tolist()))
        # Filled in before rows_from is cleared: a thread that finds it clear reads them.
        unit.row_numbers = numbers
        unit.row_ends = np.cumsum(np.bincount(nodes, minlength=unit.n)).tolist()
        unit.rows_from = None

    def rows_of(self, item: ColumnarItem) -> tuple[int, ...]:
        """The file row numbers of ``item``'s unit node (none for a pricelist without any)."""
        unit = self.levels[self.entity.unit]
        node = item._node if unit.name == self.entity.root else item._unit
        if node is None:
            return ()
        if unit.rows_from is not None:  # the first time rows are asked for
            self._unit_rows(unit)
        start = unit.row_ends[node - 1] if node else 0
        return tuple(unit.row_numbers[start : unit.row_ends[node]])

    def depends_on(self, item: ColumnarItem) -> tuple[tuple[str, str], ...]:
        """What must exist in Centra before ``item`` (as the general path works it out)."""
        name = self.entity.name
        if name == "products":
            if self._deps is None:
                self._deps = self._product_deps(self.levels[self.entity.root])
            return self._deps[item._node]
        if name == "stock":
            return (("products", self.levels[self.entity.root].fields["id"][item._node]),)
        if name == "pricelists" and item._unit is not None:
            return (("products", self.levels[self.entity.unit].fields["id"][item._unit]),)
        from pipeline.mapping.engine import DEPENDENCIES

        deps_of = DEPENDENCIES.get(name)
        return deps_of(item.as_dict()) if deps_of is not None else ()

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
            parents = variation.parent_of.tolist()
            named = [(p, name) for p, name in zip(parents, names, strict=True) if name]
            if len(set(named)) != len(named):
                raise GiveUp  # two variations of one product with the same name
        tables = variation.fields.get("sizetable.id")
        size = self.levels.get("size")
        if tables is None or size is None or self.lookups is None:
            return
        # One lookup per sizetable (run's catalogue asks the journal), not per variation.
        table_of_size = np.asarray(tables, dtype=object)[size.parent_of]
        size_ids = np.asarray(size.key_parts[0], dtype=object)
        for table in set(tables):
            known = self.lookups.sizes_of(table) if table else None
            if known is not None:
                used = set(size_ids[table_of_size == table].tolist())
                if not used.issubset(known):
                    raise GiveUp  # a size outside its sizetable

    # -- writing ----------------------------------------------------------------------------

    def _render(self, lv: _Level) -> None:
        """Each node's XML as segments around its children, and whether it is kept.

        ``lv.segments[j][c]`` is the text of node ``c`` between the items of its child levels
        ``lv.slots[j - 1]`` and ``lv.slots[j]``: a size has one segment (all of it), a product
        with variations two (up to ``<variations>``, and from ``</variations>`` on). Text that
        every node has is part of one f-string per segment; the rest are per-node pieces.
        """
        level = lv.level
        used = set(lv.sources) | set(level.key)
        n = lv.n
        has_kids: dict[str, np.ndarray] = {}
        for name in level.children:
            if name in self.levels:
                child = self.levels[name]
                has_kids[name] = np.bincount(child.parent_of[child.keep], minlength=n) > 0

        # A piece is a static text, a per-node text, or a child level (a slot); each with
        # whether it is empty per node (None: never).
        Piece = tuple[str | list[str] | _Slot, np.ndarray | None]

        def pieces(entries: Sequence[Any]) -> list[Piece]:
            out: list[Piece] = []
            for entry in entries:
                if isinstance(entry, Leaf):
                    if entry.path in used:
                        out.extend(self._leaf(entry.name, lv.fields.get(entry.path), n))
                elif isinstance(entry, Group):
                    out.extend(wrap(entry.name, pieces(entry.entries)))
                elif isinstance(entry, Child) and entry.level in has_kids:
                    fused = self._fused(lv, entry.level)
                    if fused is not None:
                        out.extend((part, None) for part in fused)
                        continue
                    filled = has_kids[entry.level]
                    out.append((_Slot(entry.level), None if filled.all() else filled))
            return out

        def wrap(tag: str, inner: list[Piece], empty: str = "") -> list[Piece]:
            """``<tag>inner</tag>`` for the nodes where inner has anything, else ``empty``."""
            if not inner:
                return []
            if any(filled is None for _, filled in inner):
                return [(f"<{tag}>", None), *inner, (f"</{tag}>", None)]
            some = np.logical_or.reduce([f for _, f in inner if f is not None])
            opening = [f"<{tag}>" if x else empty for x in some.tolist()]
            closing = [f"</{tag}>" if x else "" for x in some.tolist()]
            return [(opening, some), *inner, (closing, some)]

        whole = wrap(level.element, pieces(level.entries), empty=f"<{level.element}/>")
        if not whole:
            whole = [(f"<{level.element}/>", None)]
        lv.slots, lv.segments = [], []
        current: list[str | list[str]] = []
        for text, _ in whole:
            if isinstance(text, _Slot):
                lv.segments.append(_fill(current, n))
                lv.slots.append(text.level)
                current = []
            else:
                current.append(text)
        if lv.slots:
            lv.segments.append(_fill(current, n))
        else:  # written when the parent is: maybe as part of it (see _fused)
            lv.parts = current
        keep = np.ones(n, dtype=bool)
        if level.prune_unless:  # left out unless one of these has a value
            keep[:] = False
            for p in level.prune_unless:
                if p in has_kids:
                    keep |= has_kids[p]
                elif p in lv.fields:
                    keep |= np.asarray(lv.fields[p], dtype=object) != None  # noqa: E711
        lv.keep = keep

    def _fused(self, lv: _Level, name: str) -> list[str | list[str]] | None:
        """The pieces of child level ``name`` to write inside the pieces of ``lv``, when every
        node of ``lv`` has the same few children (a size's warehouses, often a variation's
        sizes): then a parent's XML is one f-string with its children's values, with no text
        per child and nothing to place. None otherwise (the child is a slot).
        """
        child, runs = self.levels[name], lv.kids[name]
        if child.parts is None or name == self.entity.unit or not lv.n:
            return None
        m = int(runs.ends[0])
        if not 0 < m <= _MOST_FUSED or (np.diff(runs.ends) != m).any() or not child.keep.all():
            return None
        # Child j of parent p is node p * m + j, or order[p * m + j] when the children do not
        # come parent by parent (the products of two pricelists, interleaved).
        order = runs.order
        out: list[str | list[str]] = []
        for j in range(m):
            picked = None if order is None else order[j::m].tolist()
            for part in child.parts:
                if isinstance(part, str):
                    out.append(part)
                    continue
                if picked is not None:
                    mine = list(map(part.__getitem__, picked))
                else:
                    mine = part[j::m] if m > 1 else part
                # A value every parent's j-th child has (a warehouse id) is static text.
                one = mine[0]
                constant = mine[-1] == one and mine.count(one) == len(mine)
                out.append(one if constant else mine)
        child.parts = None
        return out

    @staticmethod
    def _leaf(
        tag: str, values: list[Any] | None, n: int
    ) -> list[tuple[str | list[str], np.ndarray | None]]:
        """The pieces of one text element: static tags around the values when every node
        has a value, else one per-node piece."""
        if values is None:  # a key part no rule fills: never written
            return []
        full = all(values)  # (one C loop: no None and no "" among them)
        if has_markup_chars("\n".join(values if full else filter(None, values))):
            # (A character XML cannot carry never gets here: the rules refuse the cell.)
            values = [v.translate(_ESCAPE) if v else v for v in values]
        if full:
            return [(f"<{tag}>", None), (values, None), (f"</{tag}>", None)]
        empty = f"<{tag}/>"
        texts = ["" if v is None else (f"<{tag}>{v}</{tag}>" if v else empty) for v in values]
        return [(texts, np.asarray([v is not None for v in values], dtype=bool))]

    def _counts(self, lv: _Level) -> np.ndarray:
        """How many pieces each node's XML is made of (0: left out)."""
        found = self.piece_counts.get(lv.name)
        if found is None:
            found = np.full(lv.n, len(lv.segments), dtype=np.int64)
            for name in lv.slots:
                child = self.levels[name]
                found += np.bincount(
                    child.parent_of, weights=self._counts(child), minlength=lv.n
                ).astype(np.int64)
            found[~lv.keep] = 0
            self.piece_counts[lv.name] = found
        return found

    def _place(self, lv: _Level, nodes: np.ndarray, starts: np.ndarray, flat: np.ndarray) -> None:
        """Put the pieces of ``nodes`` (kept ones) into ``flat``, node i's from ``starts[i]``."""
        position = starts.copy()
        flat[position] = np.asarray(lv.segments[0], dtype=object)[nodes]
        position += 1
        for j, name in enumerate(lv.slots, start=1):
            child = self.levels[name]
            counts = self._counts(child)
            where = np.full(lv.n, -1, dtype=np.int64)
            where[nodes] = position
            # The children of placed nodes, in order within each parent (the kids index).
            order = lv.kids[name].order
            if order is None:  # (children already parent by parent)
                order = np.arange(child.n)
            mine = order[(where[child.parent_of[order]] >= 0) & child.keep[order]]
            sizes = counts[mine]
            before = np.cumsum(sizes) - sizes  # pieces of earlier children, all parents
            parents = child.parent_of[mine]
            first_of_parent = np.ones(len(mine), dtype=bool)
            first_of_parent[1:] = parents[1:] != parents[:-1]
            run_start = np.maximum.accumulate(np.where(first_of_parent, before, 0))
            self._place(child, mine, where[parents] + before - run_start, flat)
            position += np.bincount(parents, weights=sizes, minlength=lv.n).astype(np.int64)[nodes]
            flat[position] = np.asarray(lv.segments[j], dtype=object)[nodes]
            position += 1

    def _assemble(self, lv: _Level) -> None:
        """The whole XML of the nodes of ``lv``, one after the other in ``lv.text``; node
        ``c``'s is ``lv.text[lv.text_start[c] : lv.text_end[c]]`` (nothing if left out)."""
        counts = self._counts(lv)
        nodes = np.flatnonzero(lv.keep)
        starts = np.cumsum(counts) - counts
        flat = np.empty(int(counts.sum()), dtype=object)
        self._place(lv, nodes, starts[nodes], flat)
        pieces = flat.tolist()
        del flat
        offsets = np.zeros(len(pieces) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum(np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces)))
        lv.text = "".join(pieces)
        del pieces
        for level in self._subtree(lv):  # free them: the text holds it all now
            level.segments = []
        lv.text_start = offsets[starts].tolist()
        lv.text_end = offsets[starts + counts].tolist()
        self.piece_counts.clear()

    def _text(self, lv: _Level, c: int) -> str:
        return lv.text[lv.text_start[c] : lv.text_end[c]]

    def object_xml(self, c: int, u: int | None) -> str:
        """The XML of root node ``c`` (with only unit node ``u``, for a pricelist)."""
        root = self.levels[self.entity.root]
        if root.text:
            return self._text(root, c)
        prefix, suffix = root.segments[0][c], root.segments[1][c]
        if u is None:
            return prefix + suffix
        return prefix + self._text(self.levels[self.entity.unit], u) + suffix

    def joined_xml(self, items: Sequence[Any]) -> str | None:
        """The XML of ``items`` (objects of this entity, in order) as a request holds them,
        cut from the file's text: products one after the other, and the products of one
        pricelist in one ``<pricelist>`` (how :func:`~pipeline.mapping.batches.merge_items`
        merges them, with this). None when any is not such an object, or is a pricelist
        without any.
        """
        if any(i.__class__ is not ColumnarItem or i._owner is not self for i in items):
            return None
        root = self.levels[self.entity.root]
        if root.text:  # one object per root node
            nodes = [i._node for i in items]
            a, b = nodes[0], nodes[-1]
            if nodes == list(range(a, b + 1)):  # the usual request: one cut
                return root.text[root.text_start[a] : root.text_end[b]]
            return "".join([self._text(root, c) for c in nodes])
        unit = self.levels[self.entity.unit]
        out: list[str] = []
        for c, group in groupby(items, key=attrgetter("_node")):
            units = [i._unit for i in group]
            if None in units:
                return None
            out.append(root.segments[0][c])
            out.extend([self._text(unit, u) for u in units])
            out.append(root.segments[1][c])
        return "".join(out)

    def _subtree(self, lv: _Level) -> Iterator[_Level]:
        yield lv
        for name in lv.slots:
            yield from self._subtree(self.levels[name])

    # -- objects ----------------------------------------------------------------------------

    def _objects(self, root: _Level, unit: _Level) -> list[MappedObject]:
        """The file's objects of this entity, made a whole column at a time (map over zipped
        lists: a loop body per object was a tenth of the mapping at catalogue size). Their
        rows and dependencies are worked out when first read (:class:`LazyObject`)."""
        from pipeline.mapping.engine import LazyObject

        entity = self.entity
        name, operation, element = entity.name, entity.operation, root.level.element
        self.head_values = {
            e.name: root.fields[e.path]
            for e in root.level.entries
            if isinstance(e, Leaf) and e.path in root.fields
        }

        def objects(keys: Sequence[str], items: list[ColumnarItem]) -> Iterator[MappedObject]:
            return map(LazyObject, repeat(name), repeat(operation), keys, items)

        if unit is root:
            kept: Sequence[int] = range(root.n)
            if not root.keep.all():
                kept = np.flatnonzero(root.keep).tolist()
            items = list(map(ColumnarItem, repeat(element), repeat(self), kept))
            return list(objects(_pick(root.key_text, kept), items))
        # Pricelists: one object per product of a pricelist, with the pricelist's header.
        out: list[MappedObject] = []
        kids = root.kids[unit.name]
        for c in range(root.n):
            units = kids[c]
            if not units:
                out.extend(objects([root.key_text[c]], [ColumnarItem(element, self, c)]))
                continue
            items = list(map(ColumnarItem, repeat(element), repeat(self), repeat(c), units))
            head = root.key_text[c] + "/"
            out.extend(objects(list(map(head.__add__, _pick(unit.key_text, units))), items))
        return out

    def _sizes_in_order(self, products: Sequence[int] | None = None) -> np.ndarray:
        """The size nodes of products that are written, product by product, each product's
        variation by variation (the order of the general path's dicts); ``products`` limits
        them to those product nodes."""
        variation, size = self.levels["variation"], self.levels["size"]
        v_of = size.parent_of
        p_of = variation.parent_of[v_of]
        keep = np.ones(size.n, dtype=bool)
        keep &= size.keep & variation.keep[v_of]
        if products is not None and len(products) != self.levels[self.entity.root].n:
            keep &= np.isin(p_of, np.asarray(products, dtype=np.int64))
        kept = np.flatnonzero(keep)
        return kept[np.lexsort((kept, v_of[kept], p_of[kept]))]

    def _product_deps(self, root: _Level) -> list[tuple[tuple[str, str], ...]]:
        """Each product's ``("sizes", "<sizetable>/<size>")`` pairs, in the general order."""
        variation, size = self.levels.get("variation"), self.levels.get("size")
        empty: list[tuple[tuple[str, str], ...]] = [() for _ in range(root.n)]
        if variation is None or size is None or "sizetable.id" not in variation.fields:
            return empty
        if "id" not in size.fields or not size.n:
            return empty
        sizes = self._sizes_in_order()
        v_of = size.parent_of[sizes]
        tables = np.asarray(variation.fields["sizetable.id"], dtype=object)[v_of]
        named = np.flatnonzero((tables != None) & (tables != ""))  # noqa: E711
        sizes, v_of, tables = sizes[named], v_of[named], tables[named]
        ids = np.asarray(size.fields["id"], dtype=object)[sizes]
        labels = [f"{t}/{s}" for t, s in zip(tables.tolist(), ids.tolist(), strict=True)]
        owner = variation.parent_of[v_of]
        memo: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {}
        out = []
        for run in _split(labels, np.bincount(owner, minlength=root.n)):
            key = tuple(dict.fromkeys(run))
            found = memo.get(key)
            if found is None:
                found = memo[key] = tuple(("sizes", label) for label in key)
            out.append(found)
        return out

    def size_columns(
        self, products: Sequence[int]
    ) -> tuple[list[Any], list[Any], list[str], list[str], list[str]]:
        """(EANs, full SKUs, product ids, variation ids, size ids) of the sizes of these
        product nodes, for a catalogue; a missing EAN or SKU part gives None or ""."""
        root = self.levels[self.entity.root]
        variation, size = self.levels.get("variation"), self.levels.get("size")
        if variation is None or size is None or not size.n:
            return [], [], [], [], []
        sizes = self._sizes_in_order(products)
        v_of = size.parent_of[sizes]
        p_of = variation.parent_of[v_of]

        def column(lv: _Level, path: str, nodes: np.ndarray) -> list[Any]:
            values = lv.fields.get(path)
            if values is None:
                return [None] * len(nodes)
            return np.asarray(values, dtype=object)[nodes].tolist()

        pskus = column(root, "sku", p_of)
        vskus = column(variation, "sku", v_of)
        sskus = column(size, "sku", sizes)
        skus = [
            a + b + c if a and b and c else None
            for a, b, c in zip(pskus, vskus, sskus, strict=True)
        ]
        return (
            column(size, "ean", sizes),
            skus,
            column(root, "id", p_of),
            column(variation, "id", v_of),
            column(size, "id", sizes),
        )

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
#: The most children per parent that are written inside the parent's f-string (_fused).
_MOST_FUSED = 8


def _factorize(values: Column) -> tuple[np.ndarray, list[Any]]:
    """Codes per row in order of first appearance (-1 for None and ""), and the values."""
    n = len(values)
    if n and values[0] == values[-1] == values[n // 2] and values.count(values[0]) == n:
        code = 0 if values[0] else -1  # a constant
        return np.full(n, code, dtype=np.int64), [values[0]] if values[0] else []
    # pandas' hash table in C: a third of the time of a dict filled by map() at 600,000 rows.
    array = values if isinstance(values, np.ndarray) else np.fromiter(values, object, count=n)
    found, distinct = pd.factorize(array)  # (None gets -1)
    codes = np.asarray(found, dtype=np.int64)
    uniques = distinct.tolist()
    if "" in uniques:  # "" gets no code either
        empty = uniques.index("")
        codes = np.where(codes == empty, -1, codes - (codes > empty))
        del uniques[empty]
    return codes, uniques


def _or_empty(values: list[Any]) -> list[Any]:
    """``values`` with None as "" (the key of a node whose key part is empty)."""
    return values if all(values) else [x or "" for x in values]


def _target_constants(lists: list[Column | None]) -> list[Any] | None:
    """Each target's one value of a field, when every target gives one constant (not None)
    on every row; else None."""
    constants = []
    for values in lists:
        if values is None or not values:
            return None
        one = values[0]
        if one is None or values[-1] is not one or values.count(one) != len(values):
            return None
        constants.append(one)
    return constants


def _renumber(codes: np.ndarray) -> np.ndarray:
    """The distinct values of ``codes`` numbered 0, 1, ... in order of first appearance."""
    if len(codes) and bool((codes[1:] >= codes[:-1]).all()):
        # Never decreasing (the usual file: a product's rows together, its sizes in order):
        # a value's number is how many times the value changed before it. No sort needed.
        out = np.zeros(len(codes), dtype=np.int64)
        np.cumsum(codes[1:] != codes[:-1], out=out[1:])
        return out
    return np.asarray(pd.factorize(codes)[0], dtype=np.int64)  # (a hash table: no sort)


def _fill(parts: Sequence[str | list[str]], n: int) -> list[str]:
    """One text per node: the static parts with each node's pieces in between."""
    merged: list[str | list[str]] = []
    for part in parts:  # adjacent static texts as one
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    static = [p for p in merged if isinstance(p, str)]
    lists = [p for p in merged if not isinstance(p, str)]
    if not lists:
        return ["".join(static)] * n
    return _writer(tuple(isinstance(p, str) for p in merged))(*static, *lists)


_WRITERS: dict[tuple[bool, ...], Callable[..., list[str]]] = {}
_MOST_WRITERS = 1024  # (shapes come from the mappings, but a constant may be static text)


def _writer(shape: tuple[bool, ...]) -> Callable[..., list[str]]:
    """A list comprehension with one f-string for this shape of template (True: a static
    text, False: a piece per node), called with the static texts, then the pieces' lists.

    The fastest way CPython has to join a few strings per node. No text is ever written
    into the source, so no text can change the code, and the cache holds shapes, not data.
    """
    found = _WRITERS.get(shape)
    if found is not None:
        return found
    body: list[str] = []
    statics: list[str] = []
    pieces: list[str] = []
    for is_static in shape:
        names = statics if is_static else pieces
        names.append(f"{'s' if is_static else 'a'}{len(names)}")
        body.append("{" + names[-1] + "}")
    lists = [f"l{i}" for i in range(len(pieces))]
    source = (
        f"lambda {', '.join([*statics, *lists])}: "
        f'[f"{"".join(body)}" for {", ".join(pieces)}, in zip({", ".join(lists)})]'
    )
    writer: Callable[..., list[str]] = eval(source, {})  # noqa: S307 - see the docstring
    if len(_WRITERS) >= _MOST_WRITERS:
        _WRITERS.clear()
    _WRITERS[shape] = writer
    return writer


class _Slot:
    """Where the items of a child level go in a parent's XML."""

    __slots__ = ("level",)

    def __init__(self, level: str) -> None:
        self.level = level


class _Runs(Sequence[Sequence[int]]):
    """The children of each parent: consecutive runs of ``order`` (of the children themselves
    when None, the usual file, where each parent's children are consecutive), given by where
    each run ends. Numpy arrays, not a Python list per parent: a catalogue has millions."""

    def __init__(self, ends: np.ndarray, order: np.ndarray | None = None) -> None:
        self.ends = ends
        self.starts = np.concatenate(([0], ends[:-1])).astype(np.int64)
        self.order = order

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, i: int) -> Sequence[int]:  # type: ignore[override]
        start, end = int(self.starts[i]), int(self.ends[i])
        if self.order is None:
            return range(start, end)
        return self.order[start:end].tolist()


def _pick(items: Sequence[Any], picked: Sequence[int]) -> Sequence[Any]:
    """``items[i]`` for each ``i`` of ``picked`` (a slice when it is a range)."""
    if isinstance(picked, range) and picked.step == 1:
        return items[picked.start : picked.stop]
    return [items[i] for i in picked]


def _split(items: Sequence[Any], counts: np.ndarray) -> list[Sequence[Any]]:
    """``items`` cut into consecutive runs of ``counts`` each."""
    ends = np.cumsum(counts).tolist()
    starts = [0, *ends[:-1]] if ends else []  # (no runs at all: a file with no objects)
    return [items[a:b] for a, b in zip(starts, ends, strict=True)]
