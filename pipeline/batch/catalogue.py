"""The catalogue the mappings use to resolve EANs and SKUs: this run's files, then the journal."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from pipeline.mapping.catalogue import (
    MemoryCatalogue,
    SizeRef,
    catalogue_entries,
    product_sizes,
)
from pipeline.state.journal import Journal


class RunCatalogue:
    """What this run maps (learnt as files are mapped), falling back to what was sent before."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.memory = MemoryCatalogue()

    def learn(self, objects: Iterable[Any]) -> None:
        self.memory.learn(objects)

    def by_ean(self, ean: str) -> SizeRef | None:
        found = self.memory.by_ean(ean) or self.journal.lookup_ean(ean)
        return None if found is None else SizeRef(*found)

    def by_sku(self, sku: str) -> SizeRef | None:
        found = self.memory.by_sku(sku) or self.journal.lookup_sku(sku)
        return None if found is None else SizeRef(*found)

    def sizes_of(self, sizetable: str) -> Collection[str] | None:
        return self.memory.sizes_of(sizetable) or self.journal.sizes_of(sizetable)


def remember_sent(journal: Journal, objects: Iterable[Any]) -> None:
    """Index the sizes and sizetables Centra accepted, for later EAN/SKU lookups."""
    tables, products, in_bulk = catalogue_entries(objects)
    sizes = [size for product in products for size in product_sizes(product)]
    for owner, nodes in in_bulk:
        eans, skus, pids, vids, sids = owner.size_columns(nodes)
        sizes.extend(zip([e or None for e in eans], skus, pids, vids, sids, strict=True))
    if sizes:
        journal.index_catalogue(sizes)
    if tables:
        journal.index_sizetables(tables)
