"""Objects into requests: batches of one operation, payloads and the SOAP XML.

Objects of one operation are independent items of one collection, so any run of them can go
in one request, with one exception: the sizes of one size table go in one request, since
Centra cannot change a size table once created (a table cut in two would be created with the
first part only). A pricelist object may hold a whole catalogue; it is split into several
pricelist items with the same header (an upsert, so the parts add up).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import groupby
from operator import attrgetter
from typing import Any, TypeVar, cast

from pipeline.centra.operations import OPERATIONS
from pipeline.centra.xmlbuild import Prerendered, RawXml, envelope
from pipeline.mapping.columnar import ColumnarItem, joined_xml
from pipeline.mapping.engine import MappedObject

T = TypeVar("T")


def frozen_group(obj: MappedObject) -> str | None:
    """The object Centra cannot change once created that ``obj`` is a part of (a size's size
    table), or None: the parts of one group are always sent in one request."""
    if obj.entity != "sizes":
        return None
    table = obj.item.get("sizetable")
    return str(table.get("id")) if isinstance(table, Mapping) else None


def cut_whole(
    items: Sequence[T], size: int, group: Callable[[T], str | None] = lambda _: None
) -> list[list[T]]:
    """``items`` in chunks of at most ``size``, never splitting a group: the items of one group
    (in the order the group first appears) stay in one chunk, which is larger than ``size``
    when the group is. Items without a group are cut as they come."""
    keys = [group(item) for item in items]
    if not any(keys):
        return [list(items[start : start + size]) for start in range(0, len(items), size)]
    units: dict[object, list[T]] = {}
    for n, (item, key) in enumerate(zip(items, keys, strict=True)):
        units.setdefault(key if key is not None else ("alone", n), []).append(item)
    chunks: list[list[T]] = []
    current: list[T] = []
    for unit in units.values():
        if current and len(current) + len(unit) > size:
            chunks.append(current)
            current = []
        current.extend(unit)
    if current:
        chunks.append(current)
    return chunks


@dataclass(frozen=True)
class Batch:
    """One request: ``objects`` of one ``operation``."""

    operation: str
    objects: tuple[MappedObject, ...]

    @property
    def rows(self) -> tuple[int, ...]:
        return tuple(sorted({r for obj in self.objects for r in obj.rows}))

    def payload(self) -> dict[str, Any]:
        """The request payload after ``login`` for :func:`pipeline.centra.xmlbuild.envelope`."""
        op = OPERATIONS[self.operation]
        assert op.collection is not None and op.item is not None
        return {op.collection: {op.item: merge_items(self.objects)}}

    def xml(self, login: Mapping[str, str]) -> str:
        """The complete SOAP request document."""
        op = OPERATIONS[self.operation]
        items = joined_xml([obj.item for obj in self.objects])  # the bulk path's, in one piece
        if items is not None and op.collection is not None:
            return envelope(op.root, login, {op.collection: RawXml(items)})
        return envelope(op.root, login, self.payload())


def merge_items(objects: Sequence[MappedObject]) -> list[Mapping[str, Any]]:
    """The collection items of ``objects``, with adjacent units of one pricelist merged.

    The mapping gives one object per pricelist and product (so a refused product costs only
    its own rows); in a request they become one ``<pricelist>`` holding all their products.
    """
    runs: list[list[Mapping[str, Any]]] = []
    previous: MappedObject | None = None
    for obj in objects:
        if (
            previous is not None
            and obj.entity == "pricelists"
            and previous.entity == "pricelists"
            and obj.item.get("id") == runs[-1][0].get("id")
        ):
            runs[-1].append(obj.item)
        else:
            runs.append([obj.item])
        previous = obj
    return [run[0] if len(run) == 1 else _merge_pricelists(run) for run in runs]


def _merge_pricelists(run: list[Mapping[str, Any]]) -> Mapping[str, Any]:
    """One pricelist item holding the products of ``run`` (items of one pricelist id)."""
    xml = joined_xml(run)  # the bulk path's: the header once around its products' XML
    if xml is None:
        return _merge_dicts(run)
    first = cast("ColumnarItem", run[0])
    return Prerendered(
        xml,
        first.element,
        {"id": first["id"]} if first.get("id") is not None else {},
        lambda: _merge_dicts(run),
    )


def _merge_dicts(run: list[Mapping[str, Any]]) -> dict[str, Any]:
    products = [p for item in run for p in item.get("items", {}).get("product", [])]
    return {**run[0], "items": {"product": products}}


def split_object(obj: MappedObject, max_children: int) -> list[MappedObject]:
    """Split a pricelist with more than ``max_children`` products into several with its header."""
    if obj.entity != "pricelists" or obj.item.__class__ is ColumnarItem:
        return [obj]  # (a bulk-path pricelist object holds one product)
    products = obj.item.get("items", {}).get("product", [])
    if len(products) <= max_children:
        return [obj]
    parts = []
    for start in range(0, len(products), max_children):
        chunk = products[start : start + max_children]
        item = {**obj.item, "items": {"product": chunk}}
        deps = tuple(dict.fromkeys(("products", p["id"]) for p in chunk))
        parts.append(replace(obj, item=item, depends_on=deps))
    return parts


_ITEM = attrgetter("item")


def batches(objects: Sequence[MappedObject], max_items: int = 100) -> Iterator[Batch]:
    """Runs of objects of one entity (so one operation), ``max_items`` per request::

    for batch in batches(mapped.objects, max_items=50):
        send(batch.operation, batch.payload())
    """
    if max_items < 1:
        raise ValueError("max_items must be at least 1")
    for entity, run in groupby(objects, key=attrgetter("entity")):
        group = list(run)
        if entity != "pricelists" or set(map(type, map(_ITEM, group))) == {ColumnarItem}:
            # Nothing to split (a bulk-path pricelist item holds one product): cut the run,
            # never inside a size table.
            for cut in cut_whole(group, max_items, frozen_group):
                yield Batch(cut[0].operation, tuple(cut))
            continue
        current: list[MappedObject] = []
        for original in group:
            for obj in split_object(original, max_items):
                if len(current) >= max_items:
                    yield Batch(current[0].operation, tuple(current))
                    current = []
                current.append(obj)
        if current:
            yield Batch(current[0].operation, tuple(current))
