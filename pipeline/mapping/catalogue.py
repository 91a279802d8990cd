"""Looking up ids the file does not carry: EAN or full SKU -> product, variation and size.

The batch run passes its own catalogue (built from the journal of what was sent before); the
``validate`` command passes a :class:`MemoryCatalogue` filled from the product and size files
of the same call. Anything with these three methods will do.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from itertools import compress
from typing import Any, NamedTuple, Protocol


class SizeRef(NamedTuple):
    product: str
    variation: str
    size: str


class Unsent(NamedTuple):
    """A size a mapped file holds but does not send, and why: what a later file that names it
    by EAN or SKU is told (:attr:`~pipeline.mapping.engine.MappedFile.unsent`).

    ``what`` is the part not sent ("product '000123'", "size 'L' of variation '000123-01' of
    product '000123'"), ``because`` why ("row 4 of artikel.csv has a problem").
    """

    ean: str | None
    sku: str | None
    product: str
    what: str
    because: str


class Catalogue(Protocol):
    def by_ean(self, ean: str) -> SizeRef | None:
        """The size with this EAN, or None when unknown."""
        ...

    def by_sku(self, sku: str) -> SizeRef | None:
        """The size whose full SKU (product + variation + size sku) is ``sku``, or None."""
        ...

    def sizes_of(self, sizetable: str) -> Collection[str] | None:
        """The size ids of a sizetable, or None when the sizetable is not known."""
        ...


class KnowsUnsent(Protocol):
    """A catalogue that also knows the sizes of this run that are not sent (optional: the
    engine asks for these two methods only when it finds them)."""

    def unsent_by_ean(self, ean: str) -> Unsent | None: ...

    def unsent_by_sku(self, sku: str) -> Unsent | None: ...


class MemoryCatalogue:
    """A catalogue kept in memory, learnt from mapped products and sizes objects.

    The sizes of bulk-path products are indexed when first looked up, not when learnt: a
    ``validate`` or ``run`` of article files alone never looks anything up.
    """

    def __init__(self) -> None:
        self._eans: dict[str, SizeRef] = {}
        self._skus: dict[str, SizeRef] = {}
        self.sizetables: dict[str, list[str]] = {}
        self._pending: list[tuple[Any, list[int]]] = []  # (bulk-path file, product nodes)
        self._unsent_eans: dict[str, Unsent] = {}
        self._unsent_skus: dict[str, Unsent] = {}

    @property
    def eans(self) -> dict[str, SizeRef]:
        self._settle()
        return self._eans

    @property
    def skus(self) -> dict[str, SizeRef]:
        self._settle()
        return self._skus

    def __len__(self) -> int:
        return len(self.eans) + len(self.skus) + len(self._unsent_eans) + len(self._unsent_skus)

    def by_ean(self, ean: str) -> SizeRef | None:
        return self.eans.get(ean)

    def by_sku(self, sku: str) -> SizeRef | None:
        return self.skus.get(sku)

    def sizes_of(self, sizetable: str) -> Collection[str] | None:
        return self.sizetables.get(sizetable)

    def unsent_by_ean(self, ean: str) -> Unsent | None:
        return self._unsent_eans.get(ean)

    def unsent_by_sku(self, sku: str) -> Unsent | None:
        return self._unsent_skus.get(sku)

    def learn_unsent(self, unsent: Iterable[Unsent]) -> None:
        """Remember sizes a mapped file does not send (``mapped.unsent``), so that a later
        file's row naming one is skipped with the reason instead of failing as unknown. (A
        code that is sent after all, by this file or another, is found by :meth:`by_ean`
        first.)"""
        for entry in unsent:
            if entry.ean:
                self._unsent_eans.setdefault(entry.ean, entry)
            if entry.sku:
                self._unsent_skus.setdefault(entry.sku, entry)

    def learn(self, objects: Iterable[Any]) -> None:
        """Add the sizes of ``products`` objects and the sizetables of ``sizes`` objects."""
        tables, products, in_bulk = catalogue_entries(objects)
        for table, size in tables:
            self.sizetables.setdefault(table, []).append(size)
        if products:
            self._settle()  # keep the order in which products were learnt
            for product in products:
                self._learn_product(product)
        self._pending.extend(in_bulk)

    def _settle(self) -> None:
        while self._pending:
            owner, nodes = self._pending.pop(0)
            eans, skus, pids, vids, sids = owner.size_columns(nodes)
            refs = list(map(SizeRef._make, zip(pids, vids, sids, strict=True)))
            self._eans.update(compress(zip(eans, refs, strict=True), eans))
            self._skus.update(compress(zip(skus, refs, strict=True), skus))

    def _learn_product(self, product: Mapping[str, Any]) -> None:
        for ean, sku, pid, vid, sid in product_sizes(product):
            ref = SizeRef(pid, vid, sid)
            if ean:
                self._eans[ean] = ref
            if sku:
                self._skus[sku] = ref


def catalogue_entries(
    objects: Iterable[Any],
) -> tuple[list[tuple[str, str]], list[Mapping[str, Any]], list[tuple[Any, list[int]]]]:
    """What a catalogue learns from mapped ``objects``: the (sizetable, size id) of each
    ``sizes`` object; the ``products`` items to read with :func:`product_sizes`; and the bulk
    path's products as (file, product nodes), one per file, to read with
    ``file.size_columns(nodes)``."""
    tables: list[tuple[str, str]] = []
    products: list[Mapping[str, Any]] = []
    in_bulk: dict[int, tuple[Any, list[int]]] = {}
    for obj in objects:
        if obj.entity == "sizes":
            table = obj.item.get("sizetable", {}).get("id")
            if table:
                tables.append((table, obj.item["id"]))
        elif obj.entity == "products":
            found = bulk_source(obj.item)
            if found is None:
                products.append(obj.item)
            else:
                in_bulk.setdefault(id(found[0]), (found[0], []))[1].append(found[1])
    return tables, products, list(in_bulk.values())


def product_sizes(
    product: Mapping[str, Any],
) -> Iterator[tuple[str | None, str | None, str, str, str]]:
    """(EAN, full SKU, product id, variation id, size id) of each size of a products item.

    The full SKU is product + variation + size sku, or None when one of them is missing; the
    EAN None when empty. (Bulk-path items: :func:`bulk_source` and ``size_columns``.)
    """
    pid, psku = product["id"], product.get("sku")
    for variation in _items(product.get("variations"), "variation"):
        vid, vsku = variation["id"], variation.get("sku")
        for size in _items(variation.get("sizes"), "size"):
            ssku = size.get("sku")
            sku = psku + vsku + ssku if psku and vsku and ssku else None
            yield size.get("ean") or None, sku, pid, vid, size["id"]


def bulk_source(item: Mapping[str, Any]) -> tuple[Any, int] | None:
    """(file, product node) of a bulk-path products item, whose sizes are read for all the
    items of a file at once with ``file.size_columns(nodes)``; None for any other item."""
    source = getattr(item, "size_source", None)
    return source() if source is not None else None


def _items(holder: Any, name: str) -> list[Mapping[str, Any]]:
    if not isinstance(holder, Mapping):
        return []
    value = holder.get(name, [])
    return value if isinstance(value, list) else [value]
