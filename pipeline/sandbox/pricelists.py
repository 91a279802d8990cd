"""Pricelists: a header document plus one row per product, so an update costs what it carries.

A pricelist's header (store, type, currency, description... and its ``<items>`` container with
any children other than products) is a document in ``objects`` like any other. Its products
live in ``pricelist_entries``, one row per (pricelist, product) holding that product's pairs
(price fields and variation prices) as JSON, in order of first appearance (rowid). Merging works
as for one document: a product seen before merges into its row (variations by id), a new one is
stored as sent; the whole pricelist reads back exactly as the single merged document would.
Two corners differ: a product sent twice in one request is one row (the document kept both when
the request also created ``<items>``), and other children of ``<items>`` come before products.
"""

from __future__ import annotations

import json
from typing import Any

from pipeline.sandbox.soap import Pairs
from pipeline.sandbox.store import Store, doc_all, doc_get, doc_id, load_pairs, merge

#: Most product ids looked up in one SELECT (SQLite's default limit is 999 variables).
_LOOKUP_CHUNK = 500


def split(pairs: Pairs) -> tuple[Pairs, list[Pairs]]:
    """A pricelist's pairs as (header without products, products in the order sent)."""
    header: Pairs = []
    products: list[Pairs] = []
    for name, value in pairs:
        if name == "items" and isinstance(value, list):
            rest: Pairs = []
            for n, v in value:
                if n == "product" and isinstance(v, list) and doc_id(v) is not None:
                    products.append(v)
                else:
                    rest.append((n, v))
            header.append((name, rest))
        else:
            header.append((name, value))
    return header, products


def put(store: Store, id_: str, pairs: Pairs) -> None:
    """Merge a ``pricelists_Update`` pricelist into the stored one (inside a transaction)."""
    header, products = split(pairs)
    store.put_doc("pricelist", id_, header)
    if products:
        _put_products(store, id_, products)


def migrate(store: Store) -> None:
    """Move the products of pricelists stored as one document (before this table) into rows."""
    with store.lock:
        for id_, doc in store.docs("pricelist"):
            header, products = split(doc)
            if not products:
                continue
            with store.transaction():
                store.db.execute(
                    "UPDATE objects SET data=? WHERE type='pricelist' AND id=?",
                    (json.dumps(header), id_),
                )
                _put_products(store, id_, products)


def _put_products(store: Store, id_: str, products: list[Pairs]) -> None:
    stored = _entries(store, id_, {doc_id(p) or "" for p in products})
    changed: dict[str, Pairs] = {}  # insertion order = order of first appearance
    for product in products:
        pid = doc_id(product) or ""
        old = changed.get(pid, stored.get(pid))
        # As in one document: a new product is kept as sent, a known one merged into.
        changed[pid] = product if old is None else merge(old, product)
    rows = [(id_, pid, json.dumps(doc)) for pid, doc in changed.items() if doc != stored.get(pid)]
    # An upsert keeps the row (and its rowid, the product's place) of a known product.
    store.db.executemany(
        "INSERT INTO pricelist_entries (pricelist, product, data) VALUES (?, ?, ?) "
        "ON CONFLICT(pricelist, product) DO UPDATE SET data=excluded.data",
        rows,
    )


def _entries(store: Store, id_: str, pids: set[str]) -> dict[str, Pairs]:
    found: dict[str, Pairs] = {}
    wanted = sorted(pids)
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        chunk = wanted[start : start + _LOOKUP_CHUNK]
        rows = store.db.execute(
            "SELECT product, data FROM pricelist_entries "
            f"WHERE pricelist=? AND product IN ({','.join('?' * len(chunk))})",
            (id_, *chunk),
        )
        found.update((pid, load_pairs(data)) for pid, data in rows)
    return found


def documents(store: Store) -> list[tuple[str, Pairs]]:
    """Every pricelist as the one merged document it stands for, in creation order."""
    with store.lock:
        return [(id_, _with_products(store, id_, doc)) for id_, doc in store.docs("pricelist")]


def _with_products(store: Store, id_: str, header: Pairs) -> Pairs:
    products: Pairs = [
        ("product", load_pairs(data))
        for (data,) in store.db.execute(
            "SELECT data FROM pricelist_entries WHERE pricelist=? ORDER BY rowid", (id_,)
        )
    ]
    if not products:
        return header
    out: Pairs = []
    for name, value in header:
        # Products always merge into the first <items> container, as in one document.
        if products and name == "items" and isinstance(value, list):
            value, products = [*value, *products], []
        out.append((name, value))
    return out


def price(store: Store, pricelist_id: str, pid: str, vid: str) -> str | None:
    """The variation's price in the pricelist, else the product's, else None."""
    row = store.db.execute(
        "SELECT data FROM pricelist_entries WHERE pricelist=? AND product=?", (pricelist_id, pid)
    ).fetchone()
    if row is None:
        return None
    product: Any = load_pairs(row[0])
    for variation in doc_all(product, "variation"):
        if doc_get(variation, "id") == vid and doc_get(variation, "price"):
            return str(doc_get(variation, "price"))
    value = doc_get(product, "price")
    return value if isinstance(value, str) and value else None
