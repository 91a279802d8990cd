"""Objects into requests: batches of one operation, payloads and the SOAP XML.

Objects of one operation are independent items of one collection, so any run of them can go
in one request. A pricelist object may hold a whole catalogue; it is split into several
pricelist items with the same header (an upsert, so the parts add up).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pipeline.centra.operations import OPERATIONS
from pipeline.centra.xmlbuild import envelope
from pipeline.mapping.engine import MappedObject


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
        return envelope(OPERATIONS[self.operation].root, login, self.payload())


def merge_items(objects: Sequence[MappedObject]) -> list[dict[str, Any]]:
    """The collection items of ``objects``, with adjacent units of one pricelist merged.

    The mapping gives one object per pricelist and product (so a refused product costs only
    its own rows); in a request they become one ``<pricelist>`` holding all their products.
    """
    items: list[dict[str, Any]] = []
    previous: MappedObject | None = None
    for obj in objects:
        if (
            previous is not None
            and obj.entity == "pricelists"
            and previous.entity == "pricelists"
            and obj.item.get("id") == items[-1].get("id")
        ):
            merged = items[-1]["items"]["product"] + obj.item.get("items", {}).get("product", [])
            items[-1] = {**items[-1], "items": {"product": merged}}
        else:
            items.append(obj.item)
        previous = obj
    return items


def split_object(obj: MappedObject, max_children: int) -> list[MappedObject]:
    """Split a pricelist with more than ``max_children`` products into several with its header."""
    if obj.entity != "pricelists":
        return [obj]
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


def batches(objects: Sequence[MappedObject], max_items: int = 100) -> Iterator[Batch]:
    """Runs of objects of one entity (so one operation), ``max_items`` per request::

    for batch in batches(mapped.objects, max_items=50):
        send(batch.operation, batch.payload())
    """
    if max_items < 1:
        raise ValueError("max_items must be at least 1")
    current: list[MappedObject] = []
    for original in objects:
        for obj in split_object(original, max_items):
            if current and (obj.entity != current[0].entity or len(current) >= max_items):
                yield Batch(current[0].operation, tuple(current))
                current = []
            current.append(obj)
    if current:
        yield Batch(current[0].operation, tuple(current))
