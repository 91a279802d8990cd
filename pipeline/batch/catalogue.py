"""The catalogue the mappings use to resolve EANs and SKUs: this run's files, then the journal."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from pipeline.mapping.catalogue import (
    MemoryCatalogue,
    SizeRef,
    Unsent,
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

    def learn_unsent(self, unsent: Iterable[Unsent]) -> None:
        """Remember the sizes a mapped file holds but does not send (``mapped.unsent``: its
        rows with problems, the products they cost, a rejected file's products), so a later
        file's EAN or SKU of one is skipped naming the row to fix::

            catalogue.learn_unsent(part.mapped.unsent)
        """
        self.memory.learn_unsent(unsent)

    def unsent_by_ean(self, ean: str) -> Unsent | None:
        return self.memory.unsent_by_ean(ean)

    def unsent_by_sku(self, sku: str) -> Unsent | None:
        return self.memory.unsent_by_sku(sku)

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
